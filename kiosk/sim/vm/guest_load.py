"""Runs inside the guest at every boot: starts the kiosk (`kiosk run --console`, as on a Pi),
reports its state after the last power cut, then drives it with issues, calls and finishes and
reports every acknowledged operation to the host, one JSON line each, on a serial port.

    python3 -m kiosk.sim.vm.guest_load --port /dev/ttyS1 --data DIR --config FILE

Seed, boot number and whether to load come from the kernel command line (`kiosk.seed=`,
`kiosk.boot=`, `kiosk.load=0`). An operation is reported only after the kiosk answered it, i.e.
after its transaction committed: what the host receives is a subset of what was committed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import termios
import tomllib
import tty
from pathlib import Path
from typing import Any

from kiosk.sim.processes import KioskProcess
from kiosk.storage.store import db_path

ISSUED = re.compile(r"^> ticket (\S+):")
CALLED = re.compile(r"^> (\S+) → counter (\d+)")


class ReportPort:
    """One JSON line per report on a raw serial port, drained before the next operation."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)

    def send(self, **fields: Any) -> None:
        data = (json.dumps(fields, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        while data:
            data = data[os.write(self.fd, data):]
        termios.tcdrain(self.fd)


def kernel_args(cmdline: str) -> dict[str, str]:
    """`kiosk.NAME=VALUE` words of the kernel command line."""
    return dict(w[len("kiosk."):].split("=", 1) for w in cmdline.split() if w.startswith("kiosk.") and "=" in w)


def uptime_s() -> float:
    return float(Path("/proc/uptime").read_text().split()[0])


def db_state(db: Path) -> dict[str, Any]:
    """What the host checks: every ticket, who holds what, the outbox's shape, double calls."""
    if not db.exists():
        return {"tickets": [], "held": [], "outbox": [0, None, None], "called_twice": [], "issued_events": 0}
    con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        q = lambda sql: [list(r) for r in con.execute(sql)]  # noqa: E731
        return {
            "tickets": q("SELECT id, number, day, state FROM tickets ORDER BY id"),
            "held": q("SELECT number, ticket_id FROM counters WHERE ticket_id IS NOT NULL"),
            "outbox": q("SELECT count(*), min(seq), max(seq) FROM outbox")[0],
            "called_twice": q("SELECT json_extract(body, '$.ticket_id') t, count(*) FROM outbox "
                              "WHERE type = 'ticket.called' GROUP BY t HAVING count(*) > 1"),
            "issued_events": q("SELECT count(*) FROM outbox WHERE type = 'ticket.issued'")[0][0],
        }
    finally:
        con.close()


def check_db(data: Path) -> dict[str, Any]:
    """`kiosk check-db --json` on the data directory, as an operator would run it."""
    out = subprocess.run([sys.executable, "-m", "kiosk", "check-db", "--data", str(data), "--json"],
                         capture_output=True, text=True, timeout=600)
    try:
        return {"rc": out.returncode, **json.loads(out.stdout.strip().splitlines()[-1])}
    except (ValueError, IndexError):
        return {"rc": out.returncode, "ok": False, "problems": [out.stdout[-500:] + out.stderr[-1500:]]}


class Load:
    """Issues, calls and finishes through the kiosk's console; reports each one it acknowledged."""

    def __init__(self, kiosk: KioskProcess, db: Path, report: ReportPort, rng: random.Random,
                 services: list[str], counters: list[int]) -> None:
        self.kiosk, self.db, self.report, self.rng = kiosk, db, report, rng
        self.services, self.counters = services, counters
        self.con = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)

    def _row(self, sql: str, *args: Any) -> tuple:
        return self.con.execute(sql, args).fetchone()

    def step(self) -> None:
        op = self.rng.random()
        if op < 0.5:
            answer = self.kiosk.cmd(f"issue {self.rng.choice(self.services)}")
            m = ISSUED.match(answer)
            if m:
                tid, day = self._row("SELECT id, day FROM tickets WHERE number = ? ORDER BY id DESC LIMIT 1", m[1])
                self.report.send(ack="issued", ticket=m[1], id=tid, day=day)
            return
        counter = self.rng.choice(self.counters)
        if op < 0.85:
            m = CALLED.match(self.kiosk.cmd(f"next {counter}"))
            if m:
                tid = self._row("SELECT ticket_id FROM counters WHERE number = ?", counter)[0]
                self.report.send(ack="called", ticket=m[1], id=tid, counter=counter)
            return
        held = self._row("SELECT ticket_id FROM counters WHERE number = ?", counter)
        answer = self.kiosk.cmd(f"finish {counter}")
        if answer.startswith("> ") and held and held[0] is not None:
            self.report.send(ack="finished", ticket=answer[2:].split()[0], id=held[0], counter=counter)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m kiosk.sim.vm.guest_load")
    ap.add_argument("--port", required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--config", type=Path, required=True)
    a = ap.parse_args(argv)
    args = kernel_args(Path("/proc/cmdline").read_text())
    boot = int(args.get("boot", "0"))
    report = ReportPort(a.port)
    report.send(event="boot", boot=boot, uptime_s=uptime_s())
    a.data.mkdir(parents=True, exist_ok=True)
    hall = tomllib.loads(a.config.read_text())   # the kiosk validates it; here only names are read
    kiosk = KioskProcess(a.config, a.data, "", Path("/var/log/kiosk-vm.log"), ready_timeout_s=600)
    kiosk.start()
    report.send(event="ready", boot=boot, uptime_s=uptime_s(), kiosk_ready_s=kiosk.ready_s[-1])
    db = db_path(a.data)
    report.send(event="state", boot=boot, **db_state(db), check_db=check_db(a.data))
    if args.get("load", "1") == "0":
        kiosk.stop()
        report.send(event="stopped", boot=boot)
        return 0
    counters = [int(c["number"]) for c in hall["counters"]]
    for c in counters:
        kiosk.cmd(f"open {c}")
    report.send(event="load", boot=boot, uptime_s=uptime_s())
    load = Load(kiosk, db, report, random.Random(int(args.get("seed", "0"))),
                [s["prefix"] for s in hall["services"]], counters)
    while True:
        load.step()


if __name__ == "__main__":
    sys.exit(main())
