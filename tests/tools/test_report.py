"""The HTML report and the `stats` / `report` sub-commands, on a simulated week."""
from __future__ import annotations

import argparse
import base64
import json
import re
from datetime import date, datetime

import pytest

from kiosk.tools import report

from kiosk.engine import stats

from kiosk.cli import stats as stats_cli
from kiosk.domain.errors import StoreError

from tests.kit.daysim import Hall, simulated_week
from tests.kit.settings import CN

FROM, TO = date(2026, 11, 23), date(2026, 11, 29)
GENERATED = datetime(2026, 11, 30, 8, 0, tzinfo=CN)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    hall = Hall(simulated_week(tmp_path_factory))
    yield hall
    hall.close()


def images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)]


def test_report_is_one_self_contained_file_with_the_charts(week, tmp_path):
    out = report.write_report(week.engine.conn, week.settings, FROM, TO, tmp_path / "sub" / "report.html",
                              generated=GENERATED)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not re.search(r"https?://", page)  # nothing fetched from anywhere
    assert "<script" not in page and "<link" not in page and "url(" not in page
    pngs = images(page)
    # arrivals and waits by hour, per day, service level, satisfaction, heat map, staffing
    assert len(pngs) == 6
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") and len(p) > 5000 for p in pngs)
    for heading in ("Arrivals and waits", "Service level", "Counters", "Satisfaction", "Busy and idle hours",
                    "Recommended staffing", "Counters needed by weekday × hour"):
        assert heading in page, heading
    for c in week.settings.counters:  # the per-counter table
        assert f"Counter {c.number}</td>" in page
    data = stats.compute(week.engine.conn, FROM, TO, week.settings)
    assert f">{data['totals']['arrivals']}<" in page  # the KPI card
    assert "2026-11-23 – 2026-11-29" in page and "generated 2026-11-30 08:00" in page
    assert not list(tmp_path.glob("sub/*.tmp"))


def test_report_without_the_cjk_font_uses_english_labels(week, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CJK_FONT", tmp_path / "no-such-font.ttc")
    labels = report._Labels()
    assert not labels.cjk and labels("到达", "arrivals") == "arrivals"
    out = report.write_report(week.engine.conn, week.settings, FROM, FROM, tmp_path / "en.html", generated=GENERATED)
    page = out.read_text(encoding="utf-8")
    assert len(images(page)) == 5  # a single day: no per-day chart


def test_report_for_a_period_without_tickets(week, tmp_path):
    out = report.write_report(week.engine.conn, week.settings, date(2025, 1, 1), date(2025, 1, 31),
                              tmp_path / "empty.html", generated=GENERATED)
    page = out.read_text(encoding="utf-8")
    assert "No tickets in this period" in page and images(page) == []


# -- the sub-commands ---------------------------------------------------------------------------
def parse(argv: list[str]) -> argparse.Namespace:
    """A parser shaped like `kiosk.cli.main`: global options before or after the sub-command."""
    glob = argparse.ArgumentParser(add_help=False)
    glob.add_argument("--config", default=argparse.SUPPRESS)
    glob.add_argument("--data", default=argparse.SUPPRESS)
    glob.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(prog="kiosk")
    parser.add_argument("--config")
    parser.add_argument("--data")
    parser.add_argument("--json", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    stats_cli.add_parsers(sub, [glob])
    return parser.parse_args(argv)


def run(argv: list[str], capsys) -> tuple[int, str]:
    args = parse(argv)
    rc = args.handler(args)
    return rc, capsys.readouterr().out


def test_stats_command_prints_tables_and_json(week, capsys):
    data_dir = str(week.path.parent)
    rc, out = run(["--data", data_dir, "stats", "--from", "2026-11-23", "--to", "2026-11-29"], capsys)
    assert rc == 0
    for part in ("total", "by day", "by service", "by counter (staff = counter)", "busy/idle profile",
                 "staffing per hour (Erlang C", "counters needed by weekday × hour", "2026-11-29", "Counter 4"):
        assert part in out, part
    rc, out = run(["stats", "--data", data_dir, "--json", "--by", "week", "--to", "2026-11-29"], capsys)
    data = json.loads(out)
    assert rc == 0 and data["from"] == "2026-11-23" and [p["period"] for p in data["periods"]] == ["2026-W48"]
    assert data == json.loads(json.dumps(stats.compute(week.engine.conn, FROM, TO, week.settings, by="week")))
    rc, out = run(["stats", "--data", data_dir, "--json", "--target-share", "90%"], capsys)
    assert json.loads(out)["staffing"]["target_share"] == 0.9 and json.loads(out)["to"] == "2026-11-29"


def test_report_command(week, tmp_path, capsys):
    out_file = tmp_path / "r.html"
    rc, out = run(["report", "--data", str(week.path.parent), "--from", "2026-11-23", "--to", "2026-11-23",
                   "--out", str(out_file)], capsys)
    assert rc == 0 and out.startswith(f"report written: {out_file}") and out_file.exists()
    rc, out = run(["report", "--data", str(week.path.parent), "--from", "2026-11-24", "--to", "2026-11-23",
                   "--out", str(out_file)], capsys)
    assert rc == 2


def test_commands_refuse_bad_input(tmp_path, capsys):
    with pytest.raises(StoreError, match="no database"):
        run(["stats", "--data", str(tmp_path / "nowhere")], capsys)
    with pytest.raises(SystemExit):
        parse(["stats", "--from", "2026-13-01"])
    with pytest.raises(SystemExit):
        parse(["stats", "--target-share", "100%"])
    with pytest.raises(SystemExit):
        parse(["report", "--from", "2026-11-01"])  # --to and --out are required


def test_the_kiosk_command_has_stats_and_report(week, tmp_path, capsys):
    from kiosk.cli.main import main
    data_dir = str(week.path.parent)
    assert main(["--json", "--data", data_dir, "stats", "--by", "month", "--to", "2026-11-29"]) == 0
    assert [p["period"] for p in json.loads(capsys.readouterr().out)["periods"]] == ["2026-11"]
    assert main(["report", "--data", data_dir, "--from", "2026-11-23", "--to", "2026-11-23",
                 "--out", str(tmp_path / "r.html"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["report"] == str(tmp_path / "r.html")
    assert main(["stats", "--data", str(tmp_path / "nowhere")]) == 1
    assert "no database" in capsys.readouterr().err
