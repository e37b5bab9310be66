"""Power cuts in a virtual machine (kiosk.sim.vm): `python -m bench.power_cut --cuts N` prints one
JSON line: cuts, acknowledged operations (issues, calls, finishes the kiosk answered), lost,
duplicates, double calls, boot → ready (host: QEMU started → the kiosk ready; median and max).
Needs root, qemu-system-x86_64, debootstrap and mkfs.ext4; the first run builds the guest."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.metrics import Metric, Target
from kiosk.sim.vm.campaign import Campaign, CampaignPlan

METRICS = (
    Metric("power_cut", "acknowledged operations lost",
           (Target("lost", "<=", 0), Target("duplicates", "<=", 0), Target("double_calls", "<=", 0)),
           what="SIGKILLs of a QEMU VM running the kiosk under load; every acknowledged operation checked"),
)

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.power_cut")
    ap.add_argument("--cuts", type=int, default=50)
    ap.add_argument("--seed", type=int, default=CampaignPlan.seed)
    ap.add_argument("--accel", default="tcg", help="tcg (software) or kvm (hangs on these machines)")
    ap.add_argument("--window", type=float, default=CampaignPlan.load_window_s,
                    help="the cut lands uniformly within this many seconds of load")
    ap.add_argument("--cache", type=Path, default=None, help="guest cache (default ~/.cache/kiosk-vm)")
    ap.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    a = ap.parse_args(argv)
    plan = CampaignPlan(cuts=a.cuts, seed=a.seed, accel=a.accel, load_window_s=a.window)
    say = (lambda m: print(m, file=sys.stderr, flush=True)) if a.verbose else (lambda _: None)
    result = Campaign(plan, REPO, a.cache, say=say).run()
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if result["lost"] == result["duplicates"] == result["double_calls"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
