"""Every tunable of the wait estimator, in one frozen record (the defaults are the tuned values).

Change one with ``dataclasses.replace(EstimatorParams(), mc_runs=1)``; docs/estimates.md has
the ablations behind the defaults."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class EstimatorParams:
    default_service_s: float = 300.0  # service time of a service that has no configured prior (s)
    window: int = 40  # recent finished customers kept per service for its service time
    prior_weight: float = 3.0  # pseudo-count of the prior service time against that window
    hour_prior_min_n: int = 8  # samples an hour-of-day profile needs before it replaces the prior
    sigma_prior: float = 0.6  # lognormal shape of service times before there is data
    sigma_prior_weight: float = 5.0  # pseudo-count of sigma_prior
    noshow_prior: float = 0.05  # no-show share before there is data
    noshow_prior_weight: float = 20.0  # pseudo-count of noshow_prior (hall rate, then per service)
    noshow_wait_edges_s: tuple[float, ...] = (300.0, 600.0, 1200.0, 1800.0, 2700.0)  # wait bins (s)
    noshow_bin_weight: float = 15.0  # pseudo-count tying each wait bin to the next-shorter one
    noshow_grace_s: float = 60.0  # prior of how long a no-show holds its counter (s)
    walk_prior_s: float = 30.0  # mean walk-up time, called -> at the counter, before data (s)
    turnaround_prior_s: float = 10.0  # counter free -> next call, before data (s)
    pickup_prior_s: float = 5.0  # idle counter -> calls a new arrival, before data (s)
    pause_prior_s: float = 300.0  # length of a counter's pause before data (s)
    priority_window_s: float = 8 * 3600.0  # window of priority arrivals their rate is learnt from (s)
    max_priority_share: float = 0.8  # most of a counter's time that future priority tickets may take
    residual_floor_s: float = 15.0  # least remaining time of a busy counter's customer (s)
    calibrate: bool = False  # online bias correction from realized waits (off: it made days worse)
    calibration_window: int = 150  # realized waits kept for the calibration
    calibration_min_n: int = 20  # realized waits needed before the calibration acts
    calibration_shrink: float = 30.0  # pseudo-count shrinking the calibration towards none
    reopen_breaks: bool = True  # a counter closed mid-day may come back from a break
    mc_runs: int = 25  # Monte Carlo passes for a short queue
    mc_runs_deep: int = 15  # passes for a queue deeper than mc_deep
    mc_deep: int = 12  # queue depth from which mc_runs_deep passes are run
    mc_max_depth: int = 40  # beyond this depth one deterministic pass is the estimate
    break_spread: tuple[float, ...] = (0.75, 0.9, 1.0, 1.15, 1.35)  # smoothing factors per break length
    seed: int = 0x5EED  # mixed into the per-question seed of the random passes
    future_priority: bool = True  # priority tickets arriving later jump ahead of a normal ticket
    max_break_s: float = 4 * 3600.0  # a closure longer than this is not learnt as a break (s)
    break_prior_s: float = 1800.0  # one pseudo-break of this length (s); 0 for none
    zombie_passes: int = 3  # a ticket passed over this often by its own line is left out; 0: never

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            numbers = value if isinstance(value, tuple) else (value,)
            if not all(isinstance(x, (int, float)) and math.isfinite(x) and x >= 0 for x in numbers):
                raise ValueError(f"EstimatorParams.{f.name} must be finite and not negative, not {value!r}")
        for name in ("window", "mc_runs", "mc_runs_deep", "calibration_window"):
            if getattr(self, name) < 1:
                raise ValueError(f"EstimatorParams.{name} must be at least 1")
        edges = self.noshow_wait_edges_s
        if any(a >= b for a, b in zip(edges, edges[1:])):
            raise ValueError(f"EstimatorParams.noshow_wait_edges_s must increase, not {edges!r}")
        if not self.break_spread or min(self.break_spread) <= 0:
            raise ValueError(f"EstimatorParams.break_spread needs positive factors, not {self.break_spread!r}")
        if self.walk_prior_s <= 0:
            raise ValueError("EstimatorParams.walk_prior_s must be positive")
