"""A command console standing in for keypads and the touchscreen (`kiosk run --simulate`).

One command a line, e.g. `issue A`, `issue V vip`, `next 3`, `recall 3`, `noshow 3`,
`finish 3`, `transfer 3 B`, `rate A001 5`, `open 3`, `pause 3`, `close 3`, `status`,
`checkin 483920` (a ticket taken on a phone joins the queue, by its check-in code, follow token
or follow URL), `help`, `quit`. Commands go through the core's queue like any other input.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import IO, Any

from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.domain.errors import KioskError

HELP = ("commands: issue SERVICE [vip|TIER] | next N | call N TICKET | recall N | noshow N | start N | finish N | "
        "transfer N SERVICE | rate TICKET SCORE | checkin CODE|URL | open N | pause N | close N | status | reprint | "
        "key N next|recall|noshow|transfer|pause | take SERVICE | pad N satisfied|neutral|dissatisfied | "
        "clock [jump SECONDS] | housekeeping | help | quit")


def parse(line: str) -> Callable[[KioskApp], Future]:
    """A console line → the app command it stands for. Raises ValueError naming the problem."""
    words = line.split()
    if not words:
        raise ValueError("empty command")
    cmd, rest = words[0].lower(), words[1:]

    def counter(i: int = 0) -> int:
        try:
            return int(rest[i])
        except (IndexError, ValueError):
            raise ValueError(f"{cmd}: expected a counter number, e.g. '{cmd} 3'") from None

    def word(i: int, what: str) -> str:
        try:
            return rest[i]
        except IndexError:
            raise ValueError(f"{cmd}: missing {what}") from None

    if cmd == "issue":
        service, extra = word(0, "service").upper(), [w.lower() for w in rest[1:]]
        vip = "vip" in extra
        tier = next((w for w in extra if w != "vip"), None)
        return lambda app: app.issue(service, priority=vip, tier=tier)
    if cmd == "call":
        n, number = counter(), word(1, "ticket")
        return lambda app: app.call_ticket(n, number)
    if cmd in COUNTER_COMMANDS:
        n = counter()
        return lambda app: COUNTER_COMMANDS[cmd](app, n)
    if cmd == "transfer":
        n, service = counter(), word(1, "service")
        return lambda app: app.transfer(n, service)
    if cmd == "rate":
        number = word(0, "ticket")
        try:
            score = int(word(1, "score"))
        except ValueError:
            raise ValueError("rate: the score is a whole number from 1 to 5") from None
        return lambda app: app.rate(number, score)
    if cmd == "checkin":
        if len(rest) != 1:
            raise ValueError("checkin: expected one check-in code, follow token or follow URL, "
                             "e.g. 'checkin 483920'")
        code = rest[0]
        return lambda app: app.check_in(code)
    if cmd in COUNTER_STATES:
        n, state = counter(), COUNTER_STATES[cmd]
        return lambda app: app.set_counter(n, state)
    raise ValueError(f"unknown command {cmd!r}; {HELP}")


COUNTER_COMMANDS: dict[str, Callable[[KioskApp, int], Future]] = {
    "next": KioskApp.call_next, "recall": KioskApp.recall, "noshow": KioskApp.noshow,
    "start": KioskApp.start_service, "finish": KioskApp.finish,
}
COUNTER_STATES = {"open": "open", "pause": "paused", "close": "closed"}


class Console:
    def __init__(self, app: KioskApp, stdin: IO[str], stdout: IO[str], on_quit: Callable[[], None]) -> None:
        self.app, self.stdin, self.stdout, self.on_quit = app, stdin, stdout, on_quit

    def start(self) -> None:
        threading.Thread(target=self._run, name="kiosk-console", daemon=True).start()

    def _say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def _run(self) -> None:
        self._say(HELP)
        for line in self.stdin:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            self.handle(line)
            if line.lower() in ("quit", "exit"):
                return

    def handle(self, line: str) -> None:
        word = line.split()[0].lower()
        if word in ("quit", "exit"):
            self.on_quit()
            return
        if word == "help":
            self._say(HELP)
            return
        try:
            if word == "status":
                snap = self.app.snapshot()
                for s in snap["services"]:
                    self._say(f"  {s['service']}: {s['waiting']} waiting, estimate {s['estimate_s']:.0f} s")
                for c in snap["counters"]:
                    self._say(f"  counter {c['counter']}: {c['state']} {c['ticket'] or ''}")
                return
            if word == "housekeeping":
                self.app.loop.call(self.app.housekeeping)
                self._say("> housekeeping done (delivered events past retention pruned)")
                return
            if word == "clock":
                self._say(f"> {self._clock(line.split())}")
                return
            if word in ("key", "take", "pad"):
                self._say(f"> {self._virtual_key(line.split())}")
                return
            if word == "reprint":
                self._say(f"reprinted {self.app.reprint_last().result(30)}")
                return
            command = parse(line)
            self._say(f"> {_show(command(self.app).result(30))}")
        except (ValueError, KioskError) as exc:
            self._say(f"! {exc}")


    def _clock(self, words: list[str]) -> str:
        """`clock` shows the time; `clock jump SECONDS` moves a simulated wall clock (NTP-style)."""
        clock = self.app.clock
        if len(words) >= 3 and words[1] == "jump":
            if not hasattr(clock, "jump"):
                raise ValueError("clock jump needs simulated time (KIOSK_SIM_CLOCK)")
            try:
                clock.jump(float(words[2]))
            except ValueError:
                raise ValueError("clock jump: SECONDS is a number, e.g. 'clock jump -3600'") from None
        return clock.wall().isoformat(timespec="seconds")

    def _virtual_key(self, words: list[str]) -> str:
        """Stand-ins for the GPIO keys: they go through the same debounce and repeat guard."""
        devices = self.app.devices
        if not isinstance(devices, Outputs):
            raise ValueError("no keypads attached")
        inputs = devices.hw.inputs
        try:
            if words[0] == "take":
                ok = inputs.take_ticket(words[1].upper())
            elif words[0] == "key":
                ok = inputs.press_key(int(words[1]), words[2].lower())
            else:
                ok = inputs.rate(int(words[1]), words[2].lower())
        except (IndexError, ValueError):
            raise ValueError(f"usage: {HELP}") from None
        return "pressed" if ok else "ignored (repeat guard)"


def _show(result: Any) -> str:
    from kiosk.domain.model import CallResult, IssuedTicket
    if result is None:
        return "nobody waits"
    if isinstance(result, IssuedTicket):
        return (f"ticket {result.ticket}: {result.ahead} ahead, estimated wait {result.estimate_s:.0f} s"
                + (" (priority)" if result.priority else ""))
    if isinstance(result, CallResult):
        return f"{result.ticket} → counter {result.counter} (waited {result.wait_s:.0f} s)"
    if isinstance(result, tuple):
        return " ".join(map(str, result))
    if isinstance(result, dict) and "number" in result:       # a ticket checked in
        estimate = result.get("estimate_s")
        return (f"checked in {result['number']}: {result.get('state')}, {result.get('ahead')} ahead"
                + (f", estimated wait {estimate:.0f} s" if isinstance(estimate, (int, float)) else ""))
    return str(result)
