"""Wait-time estimates printed on tickets and shown on the screen.

Pure Python (stdlib only), no I/O, no imports from the rest of ``kiosk``: the queue
engine builds a :class:`HallView` (what is waiting, what every counter is doing) and
feeds every domain event to :meth:`WaitEstimator.observe`; the estimator answers
"how long until this ticket is called".

Method (docs/estimates.md has the details and the scores):

1. **Simulate the calling rule** forward from the current state.  Each working counter
   becomes free at ``now + remaining time of its current customer + turnaround``; the
   earliest free counter calls the ticket the hall would call (priority tickets first at
   ``vip_first`` counters, or at every counter when ``priority_at == "all"``; a normal
   ticket waiting past its service's starvation limit is not passed over by priority
   tickets; otherwise the longest-waiting ticket among the counter's services) and is
   busy again for that customer's occupancy.  The estimate is the simulated call time.
2. **Monte Carlo median.**  A deterministic pass with expected durations is biased
   (the first of several busy counters frees up sooner than the earliest *expected*
   finish: E[min] < min E), so the estimate is the median (mean of the middle fifth) of
   25 (15 for long queues) passes with random durations drawn by Latin-hypercube
   strata, seeded from the ticket, so the same question gets the same answer.
3. **Learned durations.**  Service time per service (called -> finished) from a recent
   window (outliers clipped) blended with a per-hour-of-day profile kept across days and
   the configured prior; lognormal shape from the same window.  A busy counter's
   remaining time is drawn from ``S - e | S > e`` (``e`` = time already spent on the
   customer); while the customer has not reached the counter yet, the chance that it is
   a no-show grows with ``e`` (Bayes with the learned walk-up times).
4. **No-shows**: a called customer who never comes holds the counter for the learned
   grace period.  The chance is learned per wait bin (people who waited long are more
   often gone) with a chain prior across bins, scaled per service.
5. **Turnaround** between customers and the pickup delay of an idle counter, learned.
6. **Priority tickets arriving later** (learned rate, Poisson) jump ahead of a normal
   ticket at priority-first counters.
7. **Counters**: paused counters come back after the learned pause length; a counter
   that closes mid-day may be on a break: it comes back with a probability learned from
   today's closures and after a break length learned from today's breaks (prior 30 min).
8. Optional online calibration (off by default: it made the generated days worse) from
   realized waits, using only tickets issued before the oldest ticket still waiting, so
   that long waits are not censored away.

Cost: O(tickets ahead x log counters) per pass; ~0.3-0.6 ms per estimate in CPython.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import zlib
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist
from typing import Mapping

_NORMAL = NormalDist()
# standard normal quantiles at the midpoints of 2048 equal-probability bins (fast draws)
_NZ = 2048
_ZTAB = tuple(_NORMAL.inv_cdf((i + 0.5) / _NZ) for i in range(_NZ))

__all__ = [
    "WaitingTicket",
    "CounterView",
    "HallView",
    "WaitEstimator",
    "humanize_wait",
]


@dataclass(frozen=True)
class WaitingTicket:
    ticket_id: int
    service: str  # prefix, e.g. "A"
    priority: int  # 0 normal, 1 priority/VIP
    queued_at: float  # hall-time seconds (monotonic timeline); order key for FIFO


@dataclass(frozen=True)
class CounterView:
    number: int
    services: tuple[str, ...]
    vip_first: bool
    state: str  # "open" | "paused" | "closed"
    busy_service: str | None  # service of the ticket at the counter (called/serving)
    busy_since: float | None  # hall time the current ticket was called


@dataclass(frozen=True)
class HallView:
    now: float  # hall time, seconds
    hour: int  # local wall-clock hour 0..23 (time-of-day learning)
    waiting: tuple[WaitingTicket, ...]
    counters: tuple[CounterView, ...]
    priority_at: str  # "vip_first" or "all"
    starvation_limit_s: Mapping[str, float]  # per service


def _phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _counter_id(x) -> int | None:
    """Counter numbers as ints ("C3", "3" and 3 are counter 3)."""
    if x is None or isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x
    digits = "".join(ch for ch in str(x) if ch.isdigit())
    return int(digits) if digits else None


def _prune(d: dict, limit: int = 5000) -> None:
    """Keep per-ticket bookkeeping bounded (tickets that never get called)."""
    if len(d) > limit:
        for k in list(d)[: len(d) - limit // 2]:
            del d[k]


def _finite(x: float, default: float) -> float:
    return x if isinstance(x, (int, float)) and math.isfinite(x) else default


class _Samples:
    """A bounded window of recent positive durations with cheap, cached summaries."""

    __slots__ = ("values", "_sorted", "_cache", "_mean")

    def __init__(self, maxlen: int) -> None:
        self.values: deque[float] = deque(maxlen=maxlen)
        self._sorted: list[float] | None = None
        self._cache: tuple | None = None
        self._mean: tuple[int, float] | None = None

    def add(self, x: float) -> None:
        if isinstance(x, (int, float)) and math.isfinite(x) and x >= 0:
            self.values.append(float(x))
            self._sorted = None
            self._cache = None
            self._mean = None

    def __len__(self) -> int:
        return len(self.values)

    def sorted(self) -> list[float]:
        if self._sorted is None:
            self._sorted = sorted(self.values)
        return self._sorted

    def share_above(self, x: float) -> float:
        """Share of the values above x (with a half-count so it is never exactly 0)."""
        vals = self.sorted()
        return (len(vals) - bisect.bisect_right(vals, x) + 0.5) / (len(vals) + 1.0)

    def mean(self) -> tuple[int, float]:
        """(n, mean with values above 5 x the median clipped)."""
        if self._mean is None:
            vals = self.sorted()
            n = len(vals)
            if n == 0:
                self._mean = (0, 0.0)
            else:
                med = vals[n // 2] if n % 2 else 0.5 * (vals[n // 2 - 1] + vals[n // 2])
                cap = 5.0 * med if med > 0 else math.inf
                self._mean = (n, sum(min(v, cap) for v in vals) / n)
        return self._mean

    def summary(self) -> tuple[int, float, float, float]:
        """(n, robust mean, mean of logs, sd of logs); n == 0 means no data."""
        if self._cache is None:
            n, mean = self.mean()
            if n == 0:
                self._cache = (0, 0.0, 0.0, 0.0)
            else:
                cap = 5.0 * self._sorted[n // 2] if self._sorted[n // 2] > 0 else math.inf
                logs = [math.log(max(min(v, cap), 1.0)) for v in self._sorted]
                mu = sum(logs) / n
                var = sum((x - mu) ** 2 for x in logs) / (n - 1) if n > 1 else 0.0
                self._cache = (n, mean, mu, math.sqrt(var))
        return self._cache


@dataclass
class _ServiceModel:
    """Expected durations of one service, frozen for one estimate."""

    mean_s: float  # E[S], called -> finished, for customers who show up
    sigma: float  # lognormal shape
    noshow_p: float
    occupancy_s: float  # expected counter time of one ticket incl. no-shows + turnaround
    noshow_by_wait: tuple[float, ...] = ()  # P(no-show) per wait bin (see noshow_wait_edges_s)

    mu: float = 0.0  # log-scale location, set from mean_s and sigma

    def __post_init__(self) -> None:
        self.mu = math.log(self.mean_s) - 0.5 * self.sigma * self.sigma

    def residual(self, elapsed: float, floor: float) -> float:
        """E[S - e | S > e] for a lognormal with this mean and shape."""
        m, s = self.mean_s, self.sigma
        if elapsed <= 0:
            return m
        if s < 1e-3:
            return max(m - elapsed, floor)
        mu = math.log(m) - 0.5 * s * s
        le = math.log(elapsed)
        tail = _phi((mu - le) / s)
        if tail < 1e-9:
            # far in the tail: the lognormal mean residual grows ~ e * s^2 / (ln e - mu)
            return max(floor, elapsed * s * s / max(le - mu, 1e-6))
        partial = m * _phi((mu + s * s - le) / s)
        return max(partial / tail - elapsed, floor)

    def tail_cdf(self, elapsed: float) -> float:
        """P(S <= e)."""
        if elapsed <= 0:
            return 0.0
        return _phi((math.log(elapsed) - self.mu) / self.sigma)


class WaitEstimator:
    """Learns from domain events, answers wait estimates from a :class:`HallView`.

    Public: :meth:`observe`, :meth:`estimate_for`, :meth:`estimate_service`, and
    :meth:`expected_service` (the learned service time, for statistics and the UI).
    Every tunable is a keyword argument with a default; see docs/estimates.md."""

    def __init__(
        self,
        expected_service_s: Mapping[str, float],
        *,
        default_service_s: float = 300.0,
        window: int = 40,
        prior_weight: float = 3.0,
        hour_prior_min_n: int = 8,
        sigma_prior: float = 0.6,
        sigma_prior_weight: float = 5.0,
        noshow_prior: float = 0.05,
        noshow_prior_weight: float = 20.0,
        noshow_wait_edges_s: tuple[float, ...] = (300.0, 600.0, 1200.0, 1800.0, 2700.0),
        noshow_bin_weight: float = 15.0,
        noshow_grace_s: float = 60.0,
        walk_prior_s: float = 30.0,
        turnaround_prior_s: float = 10.0,
        pickup_prior_s: float = 5.0,
        pause_prior_s: float = 300.0,
        priority_window_s: float = 8 * 3600.0,
        max_priority_share: float = 0.8,
        residual_floor_s: float = 15.0,
        calibrate: bool = False,
        calibration_window: int = 150,
        calibration_min_n: int = 20,
        calibration_shrink: float = 30.0,
        reopen_breaks: bool = True,
        mc_runs: int = 25,
        mc_runs_deep: int = 15,
        mc_deep: int = 12,
        mc_max_depth: int = 40,
        break_spread: tuple[float, ...] = (0.75, 0.9, 1.0, 1.15, 1.35),
        seed: int = 0x5EED,
        future_priority: bool = True,
        max_break_s: float = 4 * 3600.0,
        break_prior_s: float = 1800.0,
        zombie_passes: int = 3,
    ) -> None:
        self._prior = {k: float(v) for k, v in expected_service_s.items() if _finite(v, -1) > 0}
        self.default_service_s = float(default_service_s)
        self.window = int(window)
        self.prior_weight = float(prior_weight)
        self.hour_prior_min_n = int(hour_prior_min_n)
        self.sigma_prior = float(sigma_prior)
        self.sigma_prior_weight = float(sigma_prior_weight)
        self.noshow_prior = float(noshow_prior)
        self.noshow_prior_weight = float(noshow_prior_weight)
        self.noshow_wait_edges_s = tuple(sorted(float(e) for e in noshow_wait_edges_s))
        self.noshow_bin_weight = float(noshow_bin_weight)
        self.noshow_grace_s = float(noshow_grace_s)
        self.walk_prior_s = float(walk_prior_s)
        self.turnaround_prior_s = float(turnaround_prior_s)
        self.pickup_prior_s = float(pickup_prior_s)
        self.pause_prior_s = float(pause_prior_s)
        self.priority_window_s = float(priority_window_s)
        self.max_priority_share = float(max_priority_share)
        self.residual_floor_s = float(residual_floor_s)
        self.calibrate = bool(calibrate)
        self.calibration_min_n = int(calibration_min_n)
        self.calibration_shrink = float(calibration_shrink)
        self.reopen_breaks = bool(reopen_breaks)
        self.mc_runs = int(mc_runs)
        self.mc_runs_deep = int(mc_runs_deep)
        self.mc_deep = int(mc_deep)
        self.mc_max_depth = int(mc_max_depth)
        self.seed = int(seed)
        self.future_priority = bool(future_priority)
        self.max_break_s = float(max_break_s)
        self.break_prior_s = float(break_prior_s)
        self.zombie_passes = int(zombie_passes)
        self.break_spread = tuple(float(f) for f in break_spread) or (1.0,)

        self._hour = 12
        self._t0: float | None = None  # first event seen (for arrival rates)
        # learned durations
        self._service: dict[str, _Samples] = {}
        self._hour_profile: dict[tuple[str, int], list[float]] = {}  # (svc, hour) -> [n, mean]
        self._outcomes: dict[str, deque[int]] = {}  # per service: 1 no-show, 0 served
        self._ns_hist: deque[tuple[int, int]] = deque(maxlen=400)  # (wait bin at call, no-show?)
        self._ns_n = [0] * (len(self.noshow_wait_edges_s) + 1)  # calls per wait bin in _ns_hist
        self._ns_k = [0] * (len(self.noshow_wait_edges_s) + 1)  # no-shows per wait bin
        self._ns_table: tuple[float, tuple[float, ...]] | None = None  # cached
        self._noshow_dur = _Samples(60)
        self._walk = _Samples(100)
        self._turnaround = _Samples(100)
        self._pickup = _Samples(60)
        self._pause = _Samples(30)
        self._break = _Samples(30)
        self._priority_arrivals: dict[str, deque[float]] = {}
        # live state reconstructed from events
        self._issued_at: dict[int, float] = {}
        self._waiting_meta: dict[int, tuple[float, str, int]] = {}  # tid -> (issued, svc, prio)
        self._hall_counters: dict[int, CounterView] = {}  # from the last HallView seen
        self._hall_limits: Mapping[str, float] = {}
        self._hall_vip_all = False
        self._called_meta: dict[int, tuple[float, str, int]] = {}  # for requeued no-shows
        self._passed: dict[int, int] = {}  # waiting ticket -> later tickets of its line called first
        self._starve_kept = 0  # calls that honoured the starvation limit
        self._starve_broken = 0  # priority calls that passed over a starving normal ticket
        self._at_counter: dict[int, list] = {}  # counter -> [ticket_id, called_at, started]
        self._free_since: dict[int, float] = {}  # counter -> time it became free
        self._paused_since: dict[int, float] = {}
        self._closed_since: dict[int, float] = {}
        self._ever_open: set[int] = set()
        self._n_back = 0
        self._finished_n = 0
        # calibration
        self._first_pred: dict[int, tuple[float, float, str]] = {}  # ticket -> (t_est, raw, svc)
        self._realized: deque[tuple[float, float, float, str]] = deque(maxlen=int(calibration_window))

    # ------------------------------------------------------------------ learning
    def observe(self, event: Mapping, now: float) -> None:
        """Learn from one domain event (``type`` plus the fields of docs/architecture.md)."""
        try:
            self._observe(event, float(now))
        except (TypeError, ValueError, KeyError):
            return  # a malformed event teaches nothing; never break the engine

    def _observe(self, ev: Mapping, now: float) -> None:
        if not math.isfinite(now):
            return
        if self._t0 is None:
            self._t0 = now
        hour = ev.get("hour")
        if isinstance(hour, int) and 0 <= hour <= 23:
            self._hour = hour
        kind = ev.get("type", "")
        tid = ev.get("ticket_id")
        svc = ev.get("service")
        counter = _counter_id(ev.get("counter"))
        if kind == "ticket.issued":
            if tid is not None:
                self._issued_at[tid] = now
                _prune(self._issued_at)
                if svc is not None:
                    self._waiting_meta[tid] = (now, svc, int(ev.get("priority") or 0))
                    _prune(self._waiting_meta)
            if int(ev.get("priority") or 0) > 0 and svc is not None:
                self._priority_arrivals.setdefault(svc, deque(maxlen=500)).append(now)
        elif kind == "ticket.called":
            self._check_starvation_rule(tid, counter, now)
            meta = self._waiting_meta.pop(tid, None)
            if meta is not None:
                self._called_meta[tid] = meta
                _prune(self._called_meta, 500)
            issued = self._issued_at.pop(tid, None)
            wait = ev.get("wait_s")
            if issued is None and isinstance(wait, (int, float)):
                issued = now - float(wait)
            if counter is not None:
                free = self._free_since.pop(counter, None)
                if free is not None and issued is not None:
                    if issued < free:
                        self._turnaround.add(now - free)
                    else:
                        self._pickup.add(now - issued)
                self._at_counter[counter] = [tid, now, False, now - issued if issued is not None else None]
            first = self._first_pred.pop(tid, None)
            if issued is not None and svc is not None:
                cls = int(ev.get("priority") or 0) > 0
                for other, (t_o, s_o, p_o) in self._waiting_meta.items():
                    if s_o == svc and (p_o > 0) == cls and t_o < issued:
                        self._passed[other] = self._passed.get(other, 0) + 1
            self._passed.pop(tid, None)
            if first is not None and issued is not None:
                t_est, raw, service = first
                self._realized.append((issued, raw, now - t_est, service))
        elif kind == "ticket.recalled":
            pass
        elif kind == "ticket.started":
            cur = self._at_counter.get(counter)
            if cur is not None:
                self._walk.add(now - cur[1])
                cur[2] = True
        elif kind == "ticket.finished":
            cur = self._at_counter.pop(counter, None)
            dur = ev.get("service_s")
            if not isinstance(dur, (int, float)) and cur is not None:
                dur = now - cur[1]
            self._finished_n += 1
            if svc is not None and isinstance(dur, (int, float)) and dur >= 0:
                self._samples(svc).add(float(dur))
                prof = self._hour_profile.setdefault((svc, self._hour), [0.0, 0.0])
                prof[0] = min(prof[0] + 1.0, 200.0)
                prof[1] += (min(float(dur), 4 * max(prof[1], 60.0)) - prof[1]) / prof[0]
                self._outcomes.setdefault(svc, deque(maxlen=100)).append(0)
            self._record_outcome(cur, 0)
            if counter is not None:
                self._free_since[counter] = now
        elif kind == "ticket.noshow":
            cur = self._at_counter.pop(counter, None)
            if cur is not None:
                self._noshow_dur.add(now - cur[1])
            if svc is not None:
                self._outcomes.setdefault(svc, deque(maxlen=100)).append(1)
            self._record_outcome(cur, 1)
            if counter is not None:
                self._free_since[counter] = now
            if ev.get("requeued") and tid is not None:
                self._issued_at[tid] = now
                meta = self._called_meta.get(tid)
                if meta is not None:
                    self._waiting_meta[tid] = meta  # back in its line (original place in time)
        elif kind in ("ticket.transferred", "ticket.cancelled", "ticket.expired"):
            cur = self._at_counter.get(counter)
            if cur is not None and cur[0] == tid:
                del self._at_counter[counter]
                self._free_since[counter] = now
            if kind != "ticket.transferred":
                self._issued_at.pop(tid, None)
                self._first_pred.pop(tid, None)
            meta = self._waiting_meta.pop(tid, None) or self._called_meta.get(tid)
            self._passed.pop(tid, None)
            new_tid, to_service = ev.get("new_ticket_id"), ev.get("to_service")
            if kind == "ticket.transferred" and new_tid is not None and to_service is not None:
                # the customer keeps the original place in time, in the new service's line
                t_q = meta[0] if meta is not None else now
                self._waiting_meta[new_tid] = (t_q, to_service, meta[2] if meta is not None else 0)
                self._issued_at.setdefault(new_tid, t_q)
        elif kind == "day.rollover":
            # a new business day: per-day state goes, learned durations stay
            self._issued_at.clear()
            self._waiting_meta.clear()
            self._passed.clear()
            self._first_pred.clear()
            self._at_counter.clear()
            self._free_since.clear()
            self._paused_since.clear()
            self._closed_since.clear()
            self._ever_open.clear()
            self._priority_arrivals.clear()
            self._t0 = now
        elif kind == "counter.opened":
            if counter is not None:
                p = self._paused_since.pop(counter, None)
                if p is not None:
                    self._pause.add(now - p)
                c = self._closed_since.pop(counter, None)
                if c is not None and counter in self._ever_open and now - c < self.max_break_s:
                    self._break.add(now - c)
                    self._n_back += 1
                self._ever_open.add(counter)
                if counter not in self._at_counter:
                    self._free_since[counter] = now
        elif kind == "counter.paused":
            if counter is not None:
                self._paused_since[counter] = now
        elif kind == "counter.closed":
            if counter is not None:
                self._paused_since.pop(counter, None)
                self._closed_since[counter] = now
                self._free_since.pop(counter, None)

    def _check_starvation_rule(self, tid, counter: int | None, now: float) -> None:
        """Does this hall really apply the starvation limits it is configured with?

        A priority call at a priority-first counter while an older normal ticket it serves
        has waited past its limit breaks the rule; a normal ticket called past its limit
        ahead of waiting priority tickets keeps it.  (A replayed day from another hall may
        not apply the limits the engine is configured with.)"""
        c = self._hall_counters.get(counter) if counter is not None else None
        me = self._waiting_meta.get(tid)
        if c is None or me is None or not (c.vip_first or self._hall_vip_all):
            return
        limits = self._hall_limits
        grace = 5.0
        if me[2] > 0:
            for issued, svc, prio in self._waiting_meta.values():
                lim = limits.get(svc)
                if (prio == 0 and svc in c.services and isinstance(lim, (int, float))
                        and now - issued > lim + grace and issued < me[0]):
                    self._starve_broken += 1
                    return
        else:
            lim = limits.get(me[1])
            if isinstance(lim, (int, float)) and now - me[0] >= lim - grace:
                if any(p > 0 and s in c.services for _, s, p in self._waiting_meta.values()):
                    self._starve_kept += 1

    def _starvation_in_force(self) -> bool:
        return self._starve_broken < 2 or self._starve_kept >= self._starve_broken

    def _record_outcome(self, cur: list | None, noshow: int) -> None:
        if cur is not None and len(cur) > 3 and cur[3] is not None:
            b = bisect.bisect_right(self.noshow_wait_edges_s, max(float(cur[3]), 0.0))
            if len(self._ns_hist) == self._ns_hist.maxlen:   # the oldest leaves the window
                old_b, old_o = self._ns_hist[0]
                self._ns_n[old_b] -= 1
                self._ns_k[old_b] -= old_o
            self._ns_hist.append((b, noshow))
            self._ns_n[b] += 1
            self._ns_k[b] += noshow
            self._ns_table = None

    def _noshow_wait_table(self) -> tuple[float, tuple[float, ...]]:
        """(overall no-show rate, rate per wait bin): customers who waited long leave more."""
        if self._ns_table is None:
            n, k = self._ns_n, self._ns_k
            w0 = self.noshow_prior_weight
            p_all = (self.noshow_prior * w0 + sum(k)) / (w0 + sum(n))
            wb = self.noshow_bin_weight
            # each wait bin is shrunk towards its shorter neighbour (a chain prior), so a bin
            # with little data yet looks like the waits just below it, not like the average
            table, prev = [], p_all
            for b in range(len(n)):
                prev = (prev * wb + k[b]) / (wb + n[b])
                table.append(prev)
            table = tuple(table)
            self._ns_table = (p_all, table)
        return self._ns_table

    def _samples(self, svc: str) -> _Samples:
        s = self._service.get(svc)
        if s is None:
            s = self._service[svc] = _Samples(self.window)
        return s

    # ----------------------------------------------------------- learned values
    def expected_service(self, service: str, hour: int | None = None) -> float:
        """Expected called -> finished seconds of a customer who shows up."""
        return self._service_model(service, self._hour if hour is None else hour).mean_s

    def _service_model(self, svc: str, hour: int) -> _ServiceModel:
        prior = self._prior.get(svc, self.default_service_s)
        prof = self._hour_profile.get((svc, hour))
        if prof is not None and prof[0] >= self.hour_prior_min_n:
            prior = prof[1]
        n, mean, mu, sd = self._samples(svc).summary() if svc in self._service else (0, 0, 0, 0)
        w = self.prior_weight
        m = (w * prior + n * mean) / (w + n) if n else prior
        m = max(m, 1.0)
        if n >= 2:
            sigma = math.sqrt(
                (self.sigma_prior_weight * self.sigma_prior**2 + (n - 1) * sd * sd)
                / (self.sigma_prior_weight + n - 1)
            )
        else:
            sigma = self.sigma_prior
        outs = self._outcomes.get(svc)
        k = len(outs) if outs else 0
        ns = sum(outs) if outs else 0
        p_all, by_wait = self._noshow_wait_table()
        w0 = self.noshow_prior_weight
        p = (p_all * w0 + ns) / (w0 + k)  # this service's rate, shrunk to the hall's
        factor = p / p_all if p_all > 0 else 1.0
        table = tuple(min(x * factor, 0.95) for x in by_wait)
        occ = (1 - p) * m + p * self._noshow_mean() + self._turnaround_mean()
        return _ServiceModel(m, min(max(sigma, 0.05), 2.0), p, occ, table)

    def _mean_or(self, s: _Samples, prior: float, weight: float = 3.0) -> float:
        n, mean = s.mean()
        return (weight * prior + n * mean) / (weight + n)

    def _noshow_mean(self) -> float:
        return self._mean_or(self._noshow_dur, self.noshow_grace_s)

    def _turnaround_mean(self) -> float:
        return self._mean_or(self._turnaround, self.turnaround_prior_s)

    def _pickup_mean(self) -> float:
        return self._mean_or(self._pickup, self.pickup_prior_s)

    def _walk_tail(self, elapsed: float) -> float:
        """P(walk-up time > elapsed)."""
        if len(self._walk) < 5:
            return math.exp(-max(elapsed, 0.0) / self.walk_prior_s)
        return self._walk.share_above(elapsed)

    def _priority_rate(self, svc: str, now: float) -> float:
        arr = self._priority_arrivals.get(svc)
        if not arr or self._t0 is None:
            return 0.0
        start = now - self.priority_window_s
        while arr and arr[0] < start - self.priority_window_s:
            arr.popleft()
        count = sum(1 for t in arr if start <= t <= now)
        span = min(self.priority_window_s, now - self._t0)
        span = max(span, 900.0)  # a single early arrival is not a rate
        return count / span

    # -------------------------------------------------------------- estimating
    def estimate_for(self, hall: HallView, ticket_id: int) -> float:
        """Seconds until ``ticket_id`` (already in ``hall.waiting``) is called."""
        target = None
        for t in hall.waiting:
            if t.ticket_id == ticket_id:
                target = t
                break
        if target is None:
            return 0.0
        raw = self._simulate(hall, target)
        if ticket_id not in self._first_pred:
            self._first_pred[ticket_id] = (hall.now, raw, target.service)
            _prune(self._first_pred)
        return self._calibrated(hall, raw, target.service)

    def estimate_service(self, hall: HallView, service: str, priority: int = 0) -> float:
        """Seconds a new ticket of ``service`` would wait if taken now (for the screen)."""
        virtual = WaitingTicket(ticket_id=-1, service=service, priority=int(priority), queued_at=hall.now)
        raw = self._simulate(hall, virtual, extra=True)
        return self._calibrated(hall, raw, service)

    def _calibrated(self, hall: HallView, raw: float, service: str) -> float:
        """Online bias correction: a shrunk median log-ratio of realized to raw estimates.

        Only tickets issued before the oldest ticket still waiting count: their waits are
        all known, so the long ones are not missing from the sample (no censoring)."""
        est = raw
        if self.calibrate and self._realized:
            oldest = min((t.queued_at for t in hall.waiting), default=hall.now)
            logs = sorted(
                math.log((a + 60.0) / (r + 60.0))
                for issued, r, a, svc in self._realized
                if issued < oldest and svc == service and r > 60.0
            )
            n = len(logs)
            if n >= self.calibration_min_n:
                med = logs[n // 2] if n % 2 else 0.5 * (logs[n // 2 - 1] + logs[n // 2])
                w = n / (n + self.calibration_shrink)
                f = math.exp(min(max(w * med, -0.3), 0.3))
                est = (raw + 60.0) * f - 60.0
        if not math.isfinite(est) or est < 0:
            est = 0.0
        return est

    def _simulate(self, hall: HallView, target: WaitingTicket, extra: bool = False) -> float:
        plan = self._prepare(hall, target, extra)
        det = self._run(plan, None)
        # short queues: the wait hangs on a few random durations, use more runs;
        # long queues average themselves out, fewer runs keep the cost flat
        runs = self.mc_runs if plan["depth"] <= self.mc_deep else self.mc_runs_deep
        if det is None:
            return self._unserved(hall, target, plan["model"])
        if runs <= 1 or plan["depth"] > self.mc_max_depth:
            return det
        # a stable seed (not hash(): str hashing is randomised per process)
        seed = zlib.crc32(f"{target.ticket_id}:{hall.now:.1f}".encode()) ^ self.seed
        rng = random.Random(seed)
        horizon = plan["now"] + 2.0 * det + 1200.0
        off_b = [rng.randrange(runs) for _ in plan["counters"]]
        off_p = [rng.randrange(runs) for _ in range(plan["depth"] + len(plan["counters"]))]
        out = []
        for j in range(runs):
            w = self._run(plan, rng, horizon, (j, runs, off_b, off_p))
            out.append(det if w is None else w)
        out.sort()
        # the median, steadied: mean of the middle fifth of the runs
        k = max(runs // 5, 1)
        lo = (runs - k) // 2
        mid = out[lo:lo + k] if runs % 2 == k % 2 else out[lo:lo + k + 1]
        return sum(mid) / len(mid)

    def _prepare(self, hall: HallView, target: WaitingTicket, extra: bool) -> dict:
        now = _finite(hall.now, 0.0)
        hour = hall.hour if isinstance(hall.hour, int) else self._hour
        self._hour = hour
        models: dict[str, _ServiceModel] = {}

        def model(svc: str) -> _ServiceModel:
            m = models.get(svc)
            if m is None:
                m = models[svc] = self._service_model(svc, hour)
            return m

        vip_all = hall.priority_at == "all"
        self._hall_counters = {c.number: c for c in hall.counters}
        self._hall_limits = hall.starvation_limit_s or {}
        self._hall_vip_all = vip_all
        turnaround = self._turnaround_mean()
        pickup = self._pickup_mean()
        floor = self.residual_floor_s

        # queues per (service, class), FIFO by (queued_at, ticket_id)
        queues: dict[tuple[str, int], list[WaitingTicket]] = {}
        waiting = list(hall.waiting)
        if extra:
            waiting.append(target)
        tkey = (target.queued_at, target.ticket_id if not extra else math.inf)
        passes = self.zombie_passes
        for t in waiting:
            k = (t.queued_at, t.ticket_id if (t is not target or not extra) else math.inf)
            # tickets behind the target in their own queue can never be called before it
            if t.service == target.service and (t.priority > 0) == (target.priority > 0) and k > tkey:
                continue
            if t is not target and passes > 0 and self._passed.get(t.ticket_id, 0) >= passes:
                # a ticket the hall keeps passing over (later tickets of its own line are
                # called first: held, or requeued but never called again) is not in the line
                continue
            queues.setdefault((t.service, 1 if t.priority > 0 else 0), []).append(t)
        for q in queues.values():
            q.sort(key=lambda t: (t.queued_at, t.ticket_id))
        if extra:
            q = queues[(target.service, 1 if target.priority > 0 else 0)]
            q.remove(target)
            q.append(target)
        depth = sum(len(q) for q in queues.values())

        # counters that can work, when each is next free (expected), and what it is doing
        counters = []  # (view, expected start, earliest start, busy info or None)
        n_busy = 0
        for c in hall.counters:
            reopen = None
            if c.state == "closed":
                reopen = self._reopen(c, now) if self.reopen_breaks else None
                if reopen is None:
                    continue
                start = now + reopen[1][len(reopen[1]) // 2]
            elif c.state == "paused":
                since = self._paused_since.get(c.number, now)
                pause_left = max(self._mean_or(self._pause, self.pause_prior_s) - (now - since), 60.0)
                start = now + pause_left
            else:
                start = now
            busy = None
            if c.busy_service is not None and c.state != "closed":
                left, busy = self._busy_left(c, now, model, floor)
                expected = max(start, now + left + turnaround)
                n_busy += 1
            elif c.state == "open":
                expected = now + pickup
            else:
                expected = start
            counters.append((c, expected, start, busy, reopen))

        # priority tickets that will arrive later and jump ahead of normal tickets
        share: dict[int, float] = {}
        rates: dict[str, float] = {}
        if target.priority == 0 and self.future_priority:
            load: dict[str, float] = {}
            for svc in self._priority_arrivals:
                rate = self._priority_rate(svc, now)
                if rate > 0:
                    rates[svc] = rate
                    queues.setdefault((svc, 1), [])
                    load[svc] = rate * model(svc).occupancy_s
            for svc, work in load.items():
                servers = [c for c, *_ in counters if svc in c.services and (vip_all or c.vip_first)]
                for c in servers:
                    share[c.number] = share.get(c.number, 0.0) + work / len(servers)
            for k in share:
                share[k] = min(share[k], self.max_priority_share)
        # flat arrays for the inner loop
        keys = list(queues)
        index = {k: i for i, k in enumerate(keys)}
        limits = (hall.starvation_limit_s or {}) if self._starvation_in_force() else {}
        qtimes = [[t.queued_at for t in queues[k]] for k in keys]
        qurgent = [k[1] == 1 for k in keys]
        qlimit = []
        for svc, _cls in keys:
            lim = limits.get(svc)
            qlimit.append(float(lim) if isinstance(lim, (int, float)) and lim == lim else math.inf)
        qmodel = [model(k[0]) for k in keys]
        tq = index[(target.service, 1 if target.priority > 0 else 0)]
        tpos = next(i for i, t in enumerate(queues[keys[tq]]) if t is target)
        ckeys, cvip, cfac = [], [], []
        for c, *_ in counters:
            ckeys.append(tuple(index[(svc, cls)] for svc in c.services for cls in (1, 0) if (svc, cls) in index))
            cvip.append(vip_all or c.vip_first)
            sh = share.get(c.number, 0.0)
            cfac.append(1.0 / (1.0 - sh) if sh > 0 else 1.0)
        arrivals = [(index[(svc, 1)], rate) for svc, rate in rates.items()]
        return {
            "now": now, "target": target, "counters": counters, "model": model, "arrivals": arrivals,
            "turnaround": turnaround, "noshow_s": self._noshow_mean(), "depth": depth, "n_busy": n_busy,
            "qtimes": qtimes, "qurgent": qurgent, "qlimit": qlimit, "qmodel": qmodel,
            "tq": tq, "tpos": tpos, "ckeys": ckeys, "cvip": cvip, "cfac": cfac,
        }

    def _run(self, plan: dict, rng: random.Random | None, horizon: float | None = None,
             strata: tuple | None = None) -> float | None:
        """One pass of the calling rule; expected durations, or random ones with ``rng``.

        ``strata = (j, runs, busy_offsets, pick_offsets)``: run ``j`` of ``runs`` draws the
        uniform of each random duration from stratum ``(j + offset) % runs`` (Latin
        hypercube across the runs), which steadies the median of a few runs."""
        if rng is not None:
            j, runs, off_b, off_p = strata if strata is not None else (0, 1, (), ())
            n_off = len(off_p)
            rand = rng.random
        now, counters = plan["now"], plan["counters"]
        turnaround, noshow_s = plan["turnaround"], plan["noshow_s"]
        qtimes, qurgent, qlimit, qmodel = plan["qtimes"], plan["qurgent"], plan["qlimit"], plan["qmodel"]
        tq, tpos, ckeys, cvip, cfac = plan["tq"], plan["tpos"], plan["ckeys"], plan["cvip"], plan["cfac"]
        if rng is not None and plan["arrivals"] and horizon is not None:
            # priority tickets arriving later (Poisson at the learned rate) join their queues
            qtimes = list(qtimes)
            for k, rate in plan["arrivals"]:
                q = list(qtimes[k])
                t = now + rng.expovariate(rate)
                while t < horizon:
                    q.append(t)
                    t += rng.expovariate(rate)
                qtimes[k] = q
            cfac = [1.0] * len(cfac)
        heads = [0] * len(qtimes)
        lens = [len(q) for q in qtimes]
        heap = []
        for i, (c, expected, start, busy, reopen) in enumerate(counters):
            if reopen is not None:
                if rng is None:
                    if reopen[0] < 0.5:
                        continue
                else:
                    if rng.random() >= reopen[0]:
                        continue
                    expected = now + rng.choice(reopen[1])
            elif rng is not None and busy is not None:
                m, elapsed, p_ns, lo = busy
                u = ((j + (off_b[i] if i < len(off_b) else int(rand() * runs))) % runs + rand()) / runs
                if u < p_ns:
                    left = max(noshow_s - elapsed, 5.0)
                else:
                    u = (u - p_ns) / (1.0 - p_ns)
                    z = _ZTAB[min(int((lo + (1.0 - lo) * u) * _NZ), _NZ - 1)]
                    left = max(math.exp(m.mu + m.sigma * z) - elapsed, 1.0)
                expected = max(start, now + left + turnaround)
            heap.append((expected, i))
        heapq.heapify(heap)
        heappop, heappush = heapq.heappop, heapq.heappush
        ztab, nz = _ZTAB, _NZ
        edges, bisect_right = self.noshow_wait_edges_s, bisect.bisect_right
        exp = math.exp
        inf = math.inf
        n_pick = 0
        while heap:
            t_free, i = heappop(heap)
            best = -1
            best_rank = inf
            later = inf
            vip = cvip[i]
            for k in ckeys[i]:
                h = heads[k]
                if h < lens[k]:
                    qa = qtimes[k][h]
                    if qa > t_free:  # not arrived yet (sampled future priority ticket)
                        if qa < later:
                            later = qa
                        continue
                    if vip and not (qurgent[k] or t_free - qa >= qlimit[k]):
                        qa += 1e12  # normal tickets after priority (and starving) ones
                    if qa < best_rank:
                        best_rank = qa
                        best = k
            if best < 0:
                if later < inf:
                    heappush(heap, (later, i))  # idle until the next priority arrival
                continue  # nothing this counter can ever call: drop it
            h = heads[best]
            if best == tq and h == tpos:
                return max(t_free - now, 0.0)
            heads[best] = h + 1
            m = qmodel[best]
            # no-show chance of this customer, given how long it will have waited
            p = m.noshow_by_wait[bisect_right(edges, t_free - qtimes[best][h])]
            if rng is None:
                occ = (1.0 - p) * m.mean_s + p * noshow_s + turnaround
            else:
                u = ((j + (off_p[n_pick] if n_pick < n_off else int(rand() * runs))) % runs + rand()) / runs
                n_pick += 1
                if u < p:
                    occ = noshow_s + turnaround
                else:
                    occ = exp(m.mu + m.sigma * ztab[int((u - p) / (1.0 - p) * nz)]) + turnaround
            if not qurgent[best]:
                occ *= cfac[i]
            heappush(heap, (t_free + occ, i))
        return None

    def _busy_left(self, c: CounterView, now: float, model, floor: float) -> float:
        since = c.busy_since if c.busy_since is not None else now
        elapsed = max(now - since, 0.0)
        m = model(c.busy_service)
        show_left = m.residual(elapsed, floor)
        cur = self._at_counter.get(c.number)
        started = cur is not None and cur[2] and abs(cur[1] - since) < 1.0
        if started or m.noshow_p <= 0:
            return show_left, (m, elapsed, 0.0, m.tail_cdf(elapsed))
        # not at the counter yet: it may be a no-show (the counter then waits the grace)
        p = m.noshow_p
        if cur is not None and len(cur) > 3 and cur[3] is not None and m.noshow_by_wait:
            p = m.noshow_by_wait[bisect.bisect_right(self.noshow_wait_edges_s, cur[3])]
        if len(self._walk) >= 5 or self._finished_n < 10:
            # P(customer not at the counter yet | shows up) from the walk-up times
            p_ns = p / (p + (1 - p) * self._walk_tail(elapsed))
        else:
            # this engine sends no ticket.started: compare how long no-shows and real
            # customers keep a counter busy instead
            ns_tail = self._noshow_dur.share_above(elapsed) if len(self._noshow_dur) >= 3 else (
                1.0 if elapsed < self.noshow_grace_s else 0.05)
            show_tail = 1.0 - m.tail_cdf(elapsed)
            p_ns = p * ns_tail / (p * ns_tail + (1 - p) * show_tail) if show_tail > 0 else 1.0
        ns_left = max(self._noshow_mean() - elapsed, floor * 0.5)
        return p_ns * ns_left + (1 - p_ns) * show_left, (m, elapsed, p_ns, m.tail_cdf(elapsed))

    def _reopen(self, c: CounterView, now: float) -> tuple[float, list[float]] | None:
        """A closed counter that was open today may be on a break: (P(back), remaining times).

        P(back) starts from the share of earlier closures that ended in a reopening and
        falls as the closure outlasts the break lengths seen so far (Bayes)."""
        since = self._closed_since.get(c.number)
        breaks = list(self._break.values)
        if self.break_prior_s > 0:
            breaks.append(self.break_prior_s)  # one pseudo-observation: a usual break
        if since is None or c.number not in self._ever_open or not breaks:
            return None
        elapsed = now - since
        longest = max(breaks)
        longest *= max(self.break_spread)
        gone = sum(1 for k, t in self._closed_since.items() if k in self._ever_open and now - t > longest)
        q = (self._n_back + 1.0) / (self._n_back + gone + 2.0)
        # each observed break stands for a spread of similar lengths (kernel smoothing)
        cands = [b * f for b in breaks for f in self.break_spread]
        rems = sorted(b - elapsed for b in cands if b > elapsed)
        if not rems:
            return None
        tail = len(rems) / len(cands)
        p_back = q * tail / (q * tail + (1.0 - q))
        return p_back, [max(r, 30.0) for r in rems]

    def _unserved(self, hall: HallView, target: WaitingTicket, model) -> float:
        """No open counter serves the ticket: expect one of its counters to return."""
        n_ahead = sum(
            1
            for t in hall.waiting
            if t.service == target.service and (t.queued_at, t.ticket_id) < (target.queued_at, target.ticket_id)
        )
        servers = [c for c in hall.counters if target.service in c.services] or [None]
        back = self._mean_or(self._break, 1800.0) if len(self._break) else 1800.0
        return back + n_ahead * model(target.service).occupancy_s / len(servers)


# ---------------------------------------------------------------------- display
def _round_minutes(minutes: float) -> int:
    """1-5 min by the minute, then to the nearest 5 minutes."""
    if minutes < 5.5:
        return max(1, int(math.floor(minutes + 0.5)))
    return int(5 * math.floor(minutes / 5 + 0.5))


def humanize_wait(seconds: float, lang: str) -> str:
    """A wait rounded the way people read it.

    under 30 s: "no wait" / "无需等待"; under a minute: "less than 1 min" / "不到1分钟";
    then "about N min" / "约N分钟" with N by the minute up to 5 and by 5 minutes above;
    from an hour: "about 1 h 10 min" / "约1小时10分钟" (minutes by 5).
    ``lang`` starting with "zh" gives Chinese, anything else English.
    Negative, NaN or non-numeric input reads as no wait; infinity is capped at 24 h.
    """
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        s = 0.0
    if math.isnan(s) or s < 0:
        s = 0.0
    s = min(s, 24 * 3600.0)
    zh = str(lang).lower().startswith("zh")
    if s < 30:
        return "无需等待" if zh else "no wait"
    if s < 60:
        return "不到1分钟" if zh else "less than 1 min"
    m = _round_minutes(s / 60.0)
    if m < 60:
        return f"约{m}分钟" if zh else f"about {m} min"
    h, rem = divmod(m, 60)
    if zh:
        return f"约{h}小时" + (f"{rem}分钟" if rem else "")
    return f"about {h} h" + (f" {rem} min" if rem else "")
