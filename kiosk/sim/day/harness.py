"""A day in the hall, end to end (issue 8): the whole kiosk as a process with its real drivers on
pseudo-terminals, fake devices on the far ends, a real mosquitto, an HQ subscriber, accelerated
hall time, people at the console, and faults on a schedule. `run_day()` returns a report whose
`checks` must all pass.
"""
from __future__ import annotations

import heapq
import json
import random
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from drivers.fakes import FakeAlphaSign, FakeEscposPrinter, FakeVfd
from drivers.printer.status import PrinterState

from kiosk.sim.day.faults import Fault, day_schedule
from kiosk.sim.broker import Broker
from kiosk.sim.hq_subscriber import HqSubscriber
from kiosk.sim.day.hall import COUNTERS, DAY_PROFILE, LONG_PROFILE, SERVICES, HallSpec, config_text
from kiosk.sim.processes import KioskDied, KioskProcess

KEEP_BYTES = 65536   # the fake devices keep the last bytes only: a long day sends megabytes

TZ = timezone(timedelta(hours=8))  # Asia/Shanghai, as in the generated config
ISSUED = re.compile(r"^> ticket ([A-Z]+\d+):")
CALLED = re.compile(r"^> ([A-Z]+\d+) → counter (\d+)")


@dataclass
class DayOptions:
    speed: float = 900.0
    long: bool = False
    seed: int = 8
    out: Path = Path("var/simday")
    faults: bool = True
    day: str = "2026-11-23"
    start: str = "05:45"          # the kiosk starts (start-up takes seconds of real time = an hour of hall time)
    open_at: str = "07:45"        # counters open
    first_arrival: str = "08:00"
    profile: list[int] | None = None
    counters: int = COUNTERS
    hall: HallSpec | None = None
    log: Callable[[str], None] = print


@dataclass
class Tally:
    commands: int = 0
    refused: int = 0            # "! …" answers (nothing to finish, already rated…): expected now and then
    refusals: dict[str, int] = field(default_factory=dict)
    issued_ack: list[str] = field(default_factory=list)
    take_pressed: int = 0
    take_ignored: int = 0
    take_in_fault: int = 0      # presses while the printer is out of paper or its cover is open
    pad_after_call: int = 0     # pad presses by a customer who finished, made after the next call
    key_pressed: int = 0
    key_ignored: int = 0
    pad_pressed: int = 0
    calls: int = 0
    finishes: int = 0
    noshows: int = 0
    transfers: int = 0
    ratings: int = 0
    in_flight_at_kill: list[str] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    late_s_max: float = 0.0


def hhmm(day: str, text: str) -> datetime:
    h, m = map(int, text.split(":"))
    return datetime.fromisoformat(day).replace(hour=h, minute=m, tzinfo=TZ)


class Day:
    def __init__(self, opts: DayOptions) -> None:
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.out = Path(opts.out).resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        self.data = self.out / "data"
        self.dev = self.out / "dev"
        self.dev.mkdir(exist_ok=True)
        self.t = Tally()
        self.heap: list[tuple[float, int, str, tuple]] = []
        self._n = 0
        self.holding: dict[int, str | None] = {}
        self.pad_after_call: dict[int, str] = {}   # counter → the score its last customer presses after the next call
        self.breaks: set[int] = set()
        self.closing = False
        self.rss: list[tuple[float, int]] = []

    # -- time -------------------------------------------------------------------------------------
    def sim_now(self) -> datetime:
        return self.origin_sim + timedelta(seconds=(time.time() - self.origin_real) * self.o.speed)

    def real_at(self, sim: datetime) -> float:
        return self.origin_real + (sim - self.origin_sim).total_seconds() / self.o.speed

    def at(self, when: datetime, action: Callable[..., None], *args: Any) -> None:
        self._n += 1
        heapq.heappush(self.heap, (when.timestamp(), self._n, action, args))

    def later(self, minutes: float, action: Callable[..., None], *args: Any) -> None:
        self.at(self.sim_now() + timedelta(minutes=minutes), action, *args)

    # -- the world ----------------------------------------------------------------------------------
    def setup(self) -> None:
        self.broker = Broker(self.out / "broker", persistence=True).start()
        self.printer = FakeEscposPrinter(self.dev / "printer", keep_bytes=KEEP_BYTES)
        self.board = FakeAlphaSign(self.dev / "hall-board", keep_bytes=KEEP_BYTES)
        self.vfd = FakeVfd(self.dev / "counter-vfd", keep_bytes=KEEP_BYTES)
        self.displays = {"hall-board": self.board, "counter-vfd": self.vfd}
        self.hq = HqSubscriber(self.broker.port, "simday-001")
        self.config = self.out / "kiosk.toml"
        self.config.write_text(config_text(self.o.hall or HallSpec(counters=self.o.counters), self.dev, self.broker.url))
        self.origin_sim = hhmm(self.o.day, self.o.start)
        self.origin_real = time.time() + 0.5
        spec = f"{self.o.speed},{self.origin_real},{self.origin_sim.isoformat()}"
        self.kiosk = KioskProcess(self.config, self.data, spec, self.out / "kiosk.log", mqtt_url=None)
        self.kiosk.start()

    def teardown(self) -> None:
        for name in ("kiosk",):
            k = getattr(self, name, None)
            if k is not None and k.proc is not None:
                k.kill()
        for dev in ("hq",):
            d = getattr(self, dev, None)
            if d is not None:
                d.close()
        for dev in ("printer", "board", "vfd"):
            d = getattr(self, dev, None)
            if d is not None:
                d.close()
        b = getattr(self, "broker", None)
        if b is not None:
            b.stop()

    # -- the plan -------------------------------------------------------------------------------
    def plan(self) -> None:
        day = self.o.day
        for n in range(1, self.o.counters + 1):
            self.holding[n] = None
            self.at(hhmm(day, self.o.open_at) + timedelta(seconds=20 * n), self.do_open, n)
        profile = self.o.profile or (LONG_PROFILE if self.o.long else DAY_PROFILE)
        first = hhmm(day, self.o.first_arrival)
        prefixes = list(SERVICES)
        weights = [SERVICES[p][0] for p in prefixes]
        for h, rate in enumerate(profile):
            n = self._poisson(rate)
            for _ in range(n):
                when = first + timedelta(hours=h, seconds=self.rng.uniform(0, 3600))
                svc = self.rng.choices(prefixes, weights)[0]
                via = self.do_take if svc == "A" and self.rng.random() < 0.05 else self.do_issue
                self.at(when, via, svc)
        self.arrivals_end = first + timedelta(hours=len(profile))
        self.at(self.arrivals_end, self.do_closing)
        # lunch breaks: two counters pause after their customer, back 45 minutes later
        for n, at in ((self.o.counters, "12:00"), (self.o.counters - 1, "12:30")):
            self.at(hhmm(day, at), self.do_break, n)
        if self.o.faults:
            for f in day_schedule(self.o.long):
                self.at(hhmm(day, f.at), self.do_fault, f)

    def _poisson(self, lam: float) -> int:
        # Knuth for small rates is slow for 150; a normal approximation is fine for a load profile
        return max(0, round(self.rng.gauss(lam, lam ** 0.5)))

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> None:
        last_rss = 0.0
        while self.heap:
            ts, _, action, args = heapq.heappop(self.heap)
            due = self.real_at(datetime.fromtimestamp(ts, TZ))
            wait = due - time.time()
            if wait > 0:
                time.sleep(wait)
            else:
                self.t.late_s_max = max(self.t.late_s_max, -wait * self.o.speed)
            action(*args)
            if time.time() - last_rss > 1.0:
                last_rss = time.time()
                rss = self.kiosk.rss_kb()
                if rss:
                    self.rss.append((round(time.time() - self.origin_real, 1), rss))

    def send(self, line: str) -> str | None:
        """A console line; None when the kiosk died with it in flight (it is restarted elsewhere)."""
        self.t.commands += 1
        try:
            answer = self.kiosk.cmd(line)
        except KioskDied:
            self.t.in_flight_at_kill.append(line)
            return None
        if answer.startswith("! "):
            self.t.refused += 1
            key = re.sub(r"[A-Z]+\d+|\d+", "N", answer)[:80]
            self.t.refusals[key] = self.t.refusals.get(key, 0) + 1
        return answer

    # actions ---------------------------------------------------------------------------------------
    def do_open(self, n: int) -> None:
        self.closing = False
        self.send(f"open {n}")
        self.later(0.5, self.do_counter, n)

    def do_issue(self, svc: str) -> None:
        ans = self.send(f"issue {svc}")
        m = ISSUED.match(ans or "")
        if m:
            self.t.issued_ack.append(m.group(1))

    def do_take(self, svc: str, in_fault: bool = False) -> None:
        ans = self.send(f"take {svc}")
        if ans == "> pressed":
            self.t.take_pressed += 1
            self.t.take_in_fault += in_fault
        elif ans is not None:
            self.t.take_ignored += 1

    def do_counter(self, n: int) -> None:
        """A free counter calls (by keypad now and then); a busy one ends the customer's visit."""
        if n in self.breaks and self.holding.get(n) is None:
            self.pad_after_call.pop(n, None)   # the customer left without rating
            return
        if self.holding.get(n) is None:
            self._call(n)
            score = self.pad_after_call.pop(n, None)
            if score is not None:   # the customer who just finished rates as the next one walks up
                self.t.pad_after_call += 1
                self._pad(n, score)
            return
        self._end_visit(n)

    def _call(self, n: int) -> None:
        """A free counter calls its next customer (now and then by its keypad)."""
        if n <= 4 and self.rng.random() < 0.1:
            ans = self.send(f"key {n} next")
            if ans == "> pressed":
                self.t.key_pressed += 1
                self.holding[n] = "?"
                self.later(self._service_min("A"), self.do_counter, n)
                return
            self.t.key_ignored += ans is not None
        ans = self.send(f"next {n}")
        m = CALLED.match(ans or "")
        if m:
            self.t.calls += 1
            self.holding[n] = m.group(1)
            walk_noshow = self.rng.random() < 0.05
            self.later(self.rng.uniform(1, 2) if walk_noshow else self._service_min(m.group(1)[0]),
                       self.do_noshow if walk_noshow else self.do_counter, n)
        elif self.closing and ans == "> nobody waits":
            self.later(0.2, self.do_close, n)
        else:
            if ans and ans.startswith("! ") and ("closed" in ans or "paused" in ans):
                self.send(f"open {n}")
            self.later(1.0 if ans else 0.5, self.do_counter, n)

    def _end_visit(self, n: int) -> None:
        """The customer at counter `n` leaves: finished (and perhaps rates) or transferred."""
        ticket = self.holding[n]
        self.holding[n] = None
        if ticket and ticket != "?" and self.rng.random() < 0.04:
            other = "B" if ticket[0] == "A" else "A"
            if self.send(f"transfer {n} {other}") and True:
                self.t.transfers += 1
        else:
            ans = self.send(f"finish {n}")
            if ans and ans.startswith("> "):
                self.t.finishes += 1
                number = ans[2:].strip()
                if self.rng.random() < 0.3:
                    if n <= 4 and self.rng.random() < 0.4:
                        score = self.rng.choice(['satisfied', 'satisfied', 'neutral', 'dissatisfied'])
                        if self.rng.random() < 0.5 and n not in self.breaks:
                            self.pad_after_call[n] = score
                        else:
                            self._pad(n, score)
                    elif self.send(f"rate {number} {self.rng.choice([5, 5, 4, 3, 1])}", ) and True:
                        self.t.ratings += 1
        if n in self.breaks:
            self.send(f"pause {n}")
            return
        # a customer who rates after the next call does so within the rating window: the clerk calls soon
        soon = n in self.pad_after_call
        self.later(self.rng.uniform(0.1, 0.3) if soon else self.rng.uniform(0.2, 0.6), self.do_counter, n)

    def _pad(self, n: int, score: str) -> None:
        if self.send(f"pad {n} {score}") == "> pressed":
            self.t.pad_pressed += 1

    def do_noshow(self, n: int) -> None:
        self.holding[n] = None
        if self.send(f"noshow {n}"):
            self.t.noshows += 1
        self.later(0.3, self.do_counter, n)

    def do_break(self, n: int) -> None:
        self.breaks.add(n)
        if self.holding.get(n) is None:
            self.send(f"pause {n}")
        self.later(45, self.do_back, n)

    def do_back(self, n: int) -> None:
        self.breaks.discard(n)
        self.send(f"open {n}")
        self.later(0.2, self.do_counter, n)

    def do_closing(self) -> None:
        self.closing = True

    def do_close(self, n: int) -> None:
        self.send(f"close {n}")

    def _service_min(self, svc: str) -> float:
        mean = SERVICES.get(svc, (0, 4.0))[1]
        return max(0.5, self.rng.lognormvariate(0, 0.5) * mean * 0.88)

    # faults -----------------------------------------------------------------------------------------
    def do_fault(self, f: Fault) -> None:
        rec = {"at": f.at, "kind": f.kind, "minutes": f.minutes, "target": f.target,
               "sim_start": self.sim_now().isoformat(timespec="seconds")}
        self.t.faults.append(rec)
        self.o.log(f"  fault: {f.describe()}")
        # the broker is down exactly its time (a reconnect is noticed at once); a device fault lasts at
        # least `min_real_s` of real time so that status polls and reconnect back-offs (real time) see it
        floor = 0.0 if f.kind == "broker_down" else self.min_real_s * self.o.speed / 60
        end = self.sim_now() + timedelta(minutes=max(f.minutes, floor))
        if f.kind in ("paper_out", "cover_open"):
            self.printer.set_state(PrinterState.PAPER_OUT if f.kind == "paper_out" else PrinterState.COVER_OPEN)
            self.at(end, self.do_repair, f, rec)
            # someone takes a ticket at the button as the paper runs out (before the kiosk polls the
            # printer's status) and someone later, when the kiosk knows
            self.do_take("A", True)
            self.later(8.0, self.do_take, "A", True)
        elif f.kind == "printer_silent":
            self.printer.answer = False
            self.at(end, self.do_repair, f, rec)
        elif f.kind == "unplug_display":
            self.displays[f.target].unplug()
            self.at(end, self.do_repair, f, rec)
        elif f.kind == "broker_down":
            self.broker.stop()
            self.at(end, self.do_repair, f, rec)
        elif f.kind == "clock_jump":
            rec["answer"] = self.send(f"clock jump {f.minutes * 60:.0f}")
        elif f.kind == "sigkill":
            rec["last_ticket_id"] = self._last_ticket_id()
            self.kiosk.kill()
            rec["last_ticket_id_after"] = self._last_ticket_id()
            self.kiosk.start()
            rec["restart_real_s"] = round(self.kiosk.ready_s[-1], 2)

    min_real_s = 1.0

    def _last_ticket_id(self) -> int:
        import sqlite3
        conn = sqlite3.connect(f"file:{self.data / 'kiosk.db'}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]
        finally:
            conn.close()

    def do_repair(self, f: Fault, rec: dict[str, Any]) -> None:
        rec["sim_end"] = self.sim_now().isoformat(timespec="seconds")
        if f.kind in ("paper_out", "cover_open"):
            self.printer.set_state(PrinterState.OK)
        elif f.kind == "printer_silent":
            self.printer.answer = True
        elif f.kind == "unplug_display":
            self.displays[f.target].replug()
        elif f.kind == "broker_down":
            self.broker.start()

    # -- the end ---------------------------------------------------------------------------------
    def finish(self, timeout_s: float = 180.0) -> dict[str, Any]:
        from kiosk.sim.day.checks import check_day, wait_delivered
        wait_delivered(self.data, self.hq, timeout_s)
        self.stop_sim = self.sim_now()
        rc = self.kiosk.stop()
        return check_day(self, rc)


def run_day(opts: DayOptions) -> dict[str, Any]:
    day = Day(opts)
    t0 = time.monotonic()
    try:
        day.setup()
        opts.log(f"simulated day: {opts.day} from {opts.start} at {opts.speed:g}x, data {day.data}")
        day.plan()
        day.run()
        report = day.finish()
    finally:
        day.teardown()
    report["wall_s"] = round(time.monotonic() - t0, 1)
    (day.out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return report
