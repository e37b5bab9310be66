"""The report per clerk (工号): `kiosk report --from D --to D --out report.html` has a section with
each clerk's figures — served, mean and p90 time at the counter, the share within the time limit,
ratings and satisfaction, no-shows — and they are the figures `kiosk stats --json` gives
(`clerks`), read back from the page cell by cell."""
from __future__ import annotations

import io
import json
from datetime import datetime
from html.parser import HTMLParser

import pytest

from kiosk.cli.main import main
from kiosk.tools.report_clerks import clerks_section
from tests.kit.settings import CN


class ClerkRows(HTMLParser):
    """{clerk id: {figure: the cell's text}} of the report's per-clerk table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self._row: dict[str, str] | None = None
        self._figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("data-clerk"):
            self._row = self.rows.setdefault(a["data-clerk"] or "", {})
        elif tag == "td" and self._row is not None and a.get("data-figure"):
            self._figure = a["data-figure"]
            self._row[self._figure] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._figure = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row is not None and self._figure is not None:
            self._row[self._figure] += data


def clerk_rows(page: str) -> dict[str, dict[str, str]]:
    p = ClerkRows()
    p.feed(page)
    return p.rows


@pytest.fixture
def kiosk(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("KIOSK_DATA", str(tmp_path / "data"))

    def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def a_day_of_clerks() -> str:
    """Three clerks at counters 3 and 4 on a business day with times that differ; returns the day."""
    from kiosk.app.kiosk_app import data_dir
    from kiosk.config.settings import load_settings
    from kiosk.domain.clock import FakeClock
    from kiosk.engine.queue_engine import QueueEngine
    from kiosk.storage.store import Store, db_path
    store = Store(db_path(data_dir(None)))
    try:
        clock = FakeClock(wall=datetime(2026, 12, 7, 9, 0, tzinfo=CN), tz=CN)
        e = QueueEngine(store, load_settings(), clock)
        for c in (3, 4):
            e.set_counter(c, "open")
        e.sign_in(3, "E1")
        e.sign_in(4, "E2")
        b = e.issue("B", form={"document": "passport", "documents_checked": True}).ticket
        numbers = [b] + [e.issue("A").ticket for _ in range(5)]
        served_by_e1 = []
        for number, seconds in ((b, 240), (numbers[1], 660)):   # E1: 4 min (pre-accepted), 11 min (over 10)
            served_by_e1.append(e.call_ticket(3, number).ticket)
            clock.advance(seconds)
            e.finish(3)
        e.call_next(4)                      # E2: 2 min, then a no-show, then a transfer to counter 3
        clock.advance(120)
        e2_served = e.finish(4)
        absent = e.call_next(4).ticket
        clock.advance(30)
        while e.noshow(4)[1]:               # requeued once (policy): called again, absent again
            e.call_ticket(4, absent)
        e.call_next(4)
        clock.advance(45)
        e.transfer(4, to_counter=3, note="fee first")
        e.sign_in(3, "E3")                  # E3 takes counter 3 over: serves the transferred ticket, 5 min
        e.call_next(3)
        clock.advance(300)
        e3_served = e.finish(3)
        for number, score in ((served_by_e1[0], 5), (served_by_e1[1], 2), (e2_served, 4), (e3_served, 5)):
            e.rate(number, score)
        assert len(numbers) == 6
        return e.current_day()
    finally:
        store.close()


def test_the_report_per_clerk_has_the_figures_of_stats_json(kiosk, tmp_path):
    for cid, name, pin in (("E1", "王芳", "1111"), ("E2", "Li <b>Lei</b>", "2222"), ("E3", "Zhao Min", "3333")):
        assert kiosk("clerk", "add", cid, "--name", name, stdin=pin + "\n")[0] == 0
    day = a_day_of_clerks()
    assert kiosk("clerk", "remove", "E3")[0] == 0          # their tickets keep the id; the name is gone
    out = tmp_path / "report.html"
    code, said, err = kiosk("report", "--from", day, "--to", day, "--out", str(out))
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    code, said, _ = kiosk("stats", "--json", "--from", day, "--to", day)
    clerks = json.loads(said)["clerks"]

    rows = clerk_rows(page)
    assert "柜员 Clerks" in page and list(rows) == ["E1", "E2", "E3"] == [c["clerk"] for c in clerks]
    for c in clerks:
        shown, st, lim, sat = rows[c["clerk"]], c["service_time"], c["counter_limit"], c["satisfaction"]
        expected = {
            "clerk": c["clerk"], "name": c["name"] or "(removed 已删除)", "served": str(c["served"]),
            "mean_min": f"{st['mean_s'] / 60:.1f}", "p90_min": f"{st['p90_s'] / 60:.1f}",
            "within": f"{lim['within']}/{lim['served']}", "within_share": f"{100 * lim['share']:.0f}%",
            "ratings": str(sat["ratings"]), "satisfied_share": f"{100 * sat['share']:.0f}%",
            "mean_rating": f"{sat['mean']:.2f}", "noshows": str(c["noshows"]), "transfers": str(c["transfers"]),
        }
        assert {k: shown[k] for k in expected} == expected, c["clerk"]
    # and the figures are the day's: not a table of zeros that happens to agree
    assert rows["E1"] | {"pre_mean_min": "4.0", "no_pre_mean_min": "11.0"} == rows["E1"]
    assert (rows["E1"]["served"], rows["E1"]["mean_min"], rows["E1"]["p90_min"], rows["E1"]["within"],
            rows["E1"]["satisfied_share"]) == ("2", "7.5", "10.3", "1/2", "50%")
    assert (rows["E2"]["name"], rows["E2"]["served"], rows["E2"]["noshows"], rows["E2"]["transfers"],
            rows["E2"]["mean_min"]) == ("Li <b>Lei</b>", "1", "1", "1", "2.0")
    assert "Li &lt;b&gt;Lei&lt;/b&gt;" in page                      # a name is text, never markup
    assert (rows["E3"]["name"], rows["E3"]["served"], rows["E3"]["mean_min"], rows["E3"]["ratings"]) == \
        ("(removed 已删除)", "1", "5.0", "1")


def test_a_period_without_clerks_says_so() -> None:
    section = clerks_section({"clerks": []})
    assert "No clerk signed in at a counter in this period" in section and "<table" not in section
