"""The fault schedule of a simulated day: what breaks, when (hall time), and for how long.

Durations are hall time. A device fault lasts at least `Day.min_real_s` (1 s) of real time so
that the kiosk, whose status polls and reconnect back-offs run on real time, can notice it
(15 hall minutes at 900x); the broker is down exactly its time.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    at: str            # "HH:MM" hall time
    kind: str          # paper_out | cover_open | printer_silent | unplug_display | broker_down | sigkill | clock_jump
    minutes: float = 0.0   # how long it lasts (hall minutes); clock_jump: the jump in minutes
    target: str = ""   # display name for unplug_display

    def describe(self) -> str:
        if self.kind == "clock_jump":
            return f"{self.at} wall clock jumps {self.minutes:+.0f} min"
        if self.kind == "sigkill":
            return f"{self.at} kiosk killed with SIGKILL, restarted on the same data"
        what = {"paper_out": "printer out of paper", "cover_open": "printer cover open",
                "printer_silent": "printer stops answering status queries",
                "unplug_display": f"display {self.target} unplugged",
                "broker_down": "MQTT broker down"}[self.kind]
        return f"{self.at} {what} for {self.minutes:.0f} min"


def day_schedule(long: bool = False) -> list[Fault]:
    """Every fault of issue 8 at least once; the long day has each twice (and more jumps)."""
    faults = [
        Fault("08:15", "clock_jump", -60),            # NTP sets the clock back an hour (before the 07:30 rollover)
        Fault("08:40", "paper_out", 10),
        Fault("09:10", "cover_open", 5),
        Fault("09:30", "clock_jump", 60),             # and forward again
        Fault("10:00", "unplug_display", 20, "hall-board"),
        Fault("10:30", "sigkill"),
        Fault("11:30", "broker_down", 10),
        Fault("13:00", "clock_jump", 5),
        Fault("14:00", "unplug_display", 10, "counter-vfd"),
        Fault("15:20", "unplug_display", 20, "counter-vfd"),   # still unplugged when the kiosk is killed
        Fault("15:30", "sigkill"),
        Fault("16:15", "printer_silent", 5),
    ]
    if long:
        faults += [
            Fault("17:00", "paper_out", 15),
            Fault("17:40", "broker_down", 10),
            Fault("18:10", "unplug_display", 10, "hall-board"),
            Fault("18:40", "clock_jump", -30),
            Fault("19:00", "cover_open", 5),
        ]
    return sorted(faults, key=lambda f: f.at)
