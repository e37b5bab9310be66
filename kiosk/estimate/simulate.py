"""Simulating the hall forward from a :class:`SimPlan` until the target ticket is called.

Each counter that can work becomes free at its expected time; the earliest free counter
calls the ticket the engine would call, chosen by :class:`kiosk.domain.policy.CallingRule`
(the one calling rule), and is busy again for that customer's occupancy. A deterministic
pass with expected durations is biased (the first of several busy counters frees up sooner
than the earliest *expected* finish), so the estimate is a steadied median of random passes
whose durations are drawn by Latin-hypercube strata, seeded from the question so that the
same question gets the same answer.
"""
from __future__ import annotations

import bisect
import heapq
import math
import random
import zlib
from dataclasses import dataclass
from functools import cache
from statistics import NormalDist

from kiosk.domain.policy import CallingRule, Candidate
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.plan import SimPlan, can_call
from kiosk.estimate.views import HallView, WaitingTicket

_NZ = 2048  # equal-probability bins of the standard normal for fast draws


@cache
def _z_table() -> tuple[float, ...]:
    """Standard normal quantiles at the midpoints of the bins."""
    normal = NormalDist()
    return tuple(normal.inv_cdf((i + 0.5) / _NZ) for i in range(_NZ))


def simulate_wait(plan: SimPlan, params: EstimatorParams) -> tuple[float, int] | None:
    """(seconds until the target is called, people ahead of it); None when no counter that can
    work calls it. People ahead: the tickets waiting now that the expected pass (no later
    arrivals) calls before the target at a counter serving its service."""
    first = _one_pass(plan, params, None)
    if first is None:
        return None
    det, ahead = first
    # short queues: the wait hangs on a few random durations, use more runs;
    # long queues average themselves out, fewer runs keep the cost flat
    runs = params.mc_runs if plan.depth <= params.mc_deep else params.mc_runs_deep
    if runs <= 1 or plan.depth > params.mc_max_depth:
        return det, ahead
    # a stable seed (not hash(): str hashing is randomised per process)
    seed = zlib.crc32(f"{plan.target.ticket_id}:{plan.now:.1f}".encode()) ^ params.seed
    rng = random.Random(seed)
    horizon = plan.now + 2.0 * det + 1200.0
    off_busy = [rng.randrange(runs) for _ in plan.counters]
    off_pick = [rng.randrange(runs) for _ in range(plan.depth + len(plan.counters))]
    out = []
    for j in range(runs):
        w = _one_pass(plan, params, _Draws(rng, j, runs, off_busy, off_pick), horizon)
        out.append(det if w is None else w[0])
    out.sort()
    # the median, steadied: mean of the middle fifth of the runs
    k = max(runs // 5, 1)
    lo = (runs - k) // 2
    mid = out[lo:lo + k] if runs % 2 == k % 2 else out[lo:lo + k + 1]
    return sum(mid) / len(mid), ahead


def unserved_wait(hall: HallView, target: WaitingTicket, plan: SimPlan, back_s: float) -> float:
    """No counter that can work serves the ticket: expect one of its counters to return."""
    n_ahead = static_ahead(hall, target)
    servers = [c for c in hall.counters if can_call(c, target)] or [None]
    return back_s + n_ahead * plan.target_model.occupancy_s / len(servers)


def static_ahead(hall: HallView, target: WaitingTicket) -> int:
    """The tickets waiting now that the counters that can call the target (its service's, or the
    one it is reserved for) would call before it, by the rule as it stands now (the fewest over
    those counters; no simulation). A ticket reserved for another counter is ahead of nobody."""
    rules = [CallingRule(c.services, c.vip_first, hall.priority_at, hall.starvation_limit_s, order=c.order,
                         tier_targets_s=hall.tier_targets_s, counter=c.number)
             for c in hall.counters if can_call(c, target)]
    me = Candidate(target.ticket_id, target.service, target.priority, target.queued_at, target.reserved_for)
    waiting = [Candidate(t.ticket_id, t.service, t.priority, t.queued_at, t.reserved_for) for t in hall.waiting
               if t.ticket_id != target.ticket_id]
    counts = [n for n in (r.count_before(waiting, me, hall.now) for r in rules) if n is not None]
    return min(counts, default=sum(1 for w in waiting if w.reserved_for is None))


@dataclass(slots=True)
class _Draws:
    """Where one random pass draws its uniforms: run ``j`` of ``runs`` draws the uniform of
    each random duration from stratum ``(j + offset) % runs`` (Latin hypercube across the
    runs), which steadies the median of a few runs."""

    rng: random.Random
    j: int
    runs: int
    off_busy: list[int]  # per counter: its current customer
    off_pick: list[int]  # per ticket called, in order


def _one_pass(plan: SimPlan, params: EstimatorParams, draws: _Draws | None,
              horizon: float | None = None) -> tuple[float, int] | None:
    """One pass of the calling rule: expected durations, or random ones with ``draws``.
    Returns (seconds until the target is called, tickets called before it)."""
    now, turnaround, noshow_s = plan.now, plan.turnaround_s, plan.noshow_hold_s
    ztab = _z_table()
    if draws is not None and plan.arrivals and horizon is not None:
        lines, times = list(plan.lines), list(plan.line_times)
        _add_arrivals(plan, draws.rng, horizon, lines, times)
        slowdown: tuple[float, ...] = plan.no_slowdown
    else:  # nothing added: the plan's own lines, read only
        lines, times, slowdown = plan.lines, plan.line_times, plan.slowdowns
    heap = _first_free(plan, draws, ztab)
    heads = [0] * len(lines)
    lens = [len(q) for q in lines]
    # locals for the inner loop
    heappop, heappush, bisect_right, exp, inf = heapq.heappop, heapq.heappush, bisect.bisect_right, math.exp, math.inf
    edges = params.noshow_wait_edges_s
    target_line, target_pos = plan.target_line, plan.target_pos
    line_model, line_urgent, serves_target = plan.line_model, plan.line_urgent, plan.counter_serves_target
    counter_lines, counter_rule = plan.counter_lines, plan.rules
    n_called = 0
    if draws is not None:
        rand, j, runs, off_pick = draws.rng.random, draws.j, draws.runs, draws.off_pick
        n_off, n_pick = len(off_pick), 0
    while heap:
        t_free, i = heappop(heap)
        # the rule's choice among the first tickets of the lines is its choice among every
        # ticket waiting: each line is in calling order
        best, best_key, later = -1, None, inf
        key_of = counter_rule[i].sort_key
        for k in counter_lines[i]:
            h = heads[k]
            if h < lens[k]:
                qa = times[k][h]
                if qa > t_free:  # not arrived yet (a sampled future priority ticket)
                    if qa < later:
                        later = qa
                    continue
                key = key_of(lines[k][h], t_free)
                if best_key is None or key < best_key:
                    best, best_key = k, key
        if best < 0:
            if later < inf:
                heappush(heap, (later, i))  # idle until the next priority arrival
            continue  # nothing this counter can ever call: drop it
        h = heads[best]
        if best == target_line and h == target_pos:
            return max(t_free - now, 0.0), n_called
        heads[best] = h + 1
        n_called += serves_target[i]
        m = line_model[best]
        # no-show chance of this customer, given how long it will have waited
        p = m.noshow_by_wait[bisect_right(edges, t_free - times[best][h])]
        if draws is None:
            occ = (1.0 - p) * m.mean_s + p * noshow_s + turnaround
        else:
            u = ((j + (off_pick[n_pick] if n_pick < n_off else int(rand() * runs))) % runs + rand()) / runs
            n_pick += 1
            if u < p:
                occ = noshow_s + turnaround
            else:
                occ = exp(m.mu + m.sigma * ztab[int((u - p) / (1.0 - p) * _NZ)]) + turnaround
        if not line_urgent[best]:
            occ *= slowdown[i]
        heappush(heap, (t_free + occ, i))
    return None


def _add_arrivals(plan: SimPlan, rng: random.Random, horizon: float,
                  lines: list[tuple[Candidate, ...]], times: list[tuple[float, ...]]) -> None:
    """Priority tickets arriving later (Poisson at the learned rate) join their lines."""
    n_new = 0
    for stream in plan.arrivals:
        arriving = []
        t = plan.now + rng.expovariate(stream.rate)
        while t < horizon:
            n_new += 1
            arriving.append(Candidate(-1 - n_new, stream.service, 1, t))
            t += rng.expovariate(stream.rate)
        lines[stream.line] = plan.lines[stream.line] + tuple(arriving)
        times[stream.line] = plan.line_times[stream.line] + tuple(c.queued_t for c in arriving)


def _first_free(plan: SimPlan, draws: _Draws | None, ztab: tuple[float, ...]) -> list[tuple[float, int]]:
    """A heap of (hall time it calls next, counter index) over the counters that will work."""
    now = plan.now
    heap = []
    for i, c in enumerate(plan.counters):
        expected = c.expected_free
        if c.back is not None:
            if draws is None:
                if c.back.p_back < 0.5:
                    continue
            else:
                if draws.rng.random() >= c.back.p_back:
                    continue
                expected = now + draws.rng.choice(c.back.remaining)
        elif draws is not None and c.busy is not None:
            b, m = c.busy, c.busy.model
            rand, runs = draws.rng.random, draws.runs
            off = draws.off_busy[i] if i < len(draws.off_busy) else int(rand() * runs)
            u = ((draws.j + off) % runs + rand()) / runs
            if u < b.noshow_p:
                left = max(plan.noshow_hold_s - b.elapsed, 5.0)
            else:
                u = (u - b.noshow_p) / (1.0 - b.noshow_p)
                z = ztab[min(int((b.done_share + (1.0 - b.done_share) * u) * _NZ), _NZ - 1)]
                left = max(math.exp(m.mu + m.sigma * z) - b.elapsed, 1.0)
            expected = max(c.start, now + left + plan.turnaround_s)
        heap.append((expected, i))
    heapq.heapify(heap)
    return heap
