"""`kiosk stats`: the table for people shows the tickets that expired, per service, per period
and in total, with the same figures as `--json`."""
from __future__ import annotations

import json

import pytest

from kiosk.cli.main import main
from kiosk.storage.store import db_path
from tests.kit.daysim import Hall

MON, TUE = "2026-11-23", "2026-11-24"
EXPIRED = {"A": 2, "B": 1, "V": 1}  # what the hall below leaves waiting at Monday's rollover


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A branch database: Monday leaves A002, A003, B001 and V001 uncalled; Tuesday's first ticket
    rolls the day over and expires them."""
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    hall = Hall(db_path(data))
    try:
        e = hall.engine
        hall.at("09:00")
        hall.open(3)
        for service in ("A", "A", "A", "B", "V"):
            e.issue(service)
        hall.at("09:05")
        e.call_ticket(3, "A001")
        hall.at("09:10")
        e.finish(3)
        hall.next_day("09:00")
        e.issue("A")
    finally:
        hall.close()
    return data


def run(capsys, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def tables(text: str) -> dict[str, dict[str, dict[str, str]]]:
    """Every table of the output by its title ("" for the totals): {first cell: {column: cell}},
    each cell cut at the widths of the table's rule line."""
    out = {}
    for block in text.split("\n\n")[1:]:
        lines = block.splitlines()
        title = "" if lines[1].startswith("-") else lines.pop(0)
        head, rule, *rows = lines
        spans, start = [], 0
        for dashes in rule.split("  "):
            spans.append((start, start + len(dashes)))
            start += len(dashes) + 2

        def cells(line: str) -> list[str]:
            return [line[a:b].strip() for a, b in spans]
        columns = cells(head)
        out[title] = {cells(row)[0]: dict(zip(columns[1:], cells(row)[1:])) for row in rows}
    return out


def test_the_table_says_how_many_tickets_expired_like_the_json(data, capsys):
    argv = ("stats", "--data", str(data), "--from", MON, "--to", TUE)
    figures = json.loads(run(capsys, *argv, "--json"))
    assert {s["service"]: s["expired"] for s in figures["services"]} == EXPIRED
    assert figures["totals"]["expired"] == sum(EXPIRED.values())

    text = run(capsys, *argv)
    assert "expired" in text.splitlines()[2]  # the legend says what the column counts
    t = tables(text)
    assert t[""]["total"]["expired"] == str(figures["totals"]["expired"]) == "4"
    by_service = {name.split()[0]: row for name, row in t["by service"].items()}
    assert {s: int(row["expired"]) for s, row in by_service.items()} == \
        {s["service"]: s["expired"] for s in figures["services"]}
    assert {day: int(row["expired"]) for day, row in t["by day"].items()} == \
        {p["period"]: p["expired"] for p in figures["periods"]} == {MON: 4, TUE: 0}
    # the other columns did not shift
    assert by_service["A"]["arrived"] == "4" and t[""]["total"]["arrived"] == "6"
    assert by_service["A"]["served"] == "1" and t[""]["total"]["ratings"] == "0"
    assert "expired" not in t["by counter (staff = counter)"]["Counter 3"]  # a counter never sees them
