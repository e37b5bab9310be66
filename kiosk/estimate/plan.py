"""The starting point of a simulation: the lines ahead of a ticket and the counters that
will call them, with what was learnt (durations, breaks, priority arrivals) frozen in."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from kiosk.domain.policy import CallingRule, Candidate, priority_first
from kiosk.estimate.durations import BreakReturn, BusyCustomer, Durations
from kiosk.estimate.learn import Learner
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.service_model import ServiceModel
from kiosk.estimate.views import CounterView, HallView, WaitingTicket


@dataclass(frozen=True)
class SimCounter:
    view: CounterView
    expected_free: float  # hall time it is expected to call next
    start: float  # earliest hall time it can work (end of a pause or break)
    busy: BusyCustomer | None  # its current customer
    back: BreakReturn | None  # closed: it may come back from a break
    lines: tuple[int, ...] = ()  # indices of the lines it calls from
    slowdown: float = 1.0  # >= 1: its time taken by priority tickets still to come (deterministic pass)


@dataclass(frozen=True)
class PriorityStream:
    line: int  # index of the priority line they join
    service: str
    rate: float  # arrivals per second


@dataclass(frozen=True)
class SimPlan:
    now: float
    target: WaitingTicket
    target_line: int
    target_pos: int
    lines: tuple[tuple[Candidate, ...], ...]  # per (service, priority, reserved for), in calling order
    line_times: tuple[tuple[float, ...], ...]  # the queued_t of the tickets of each line
    line_urgent: tuple[bool, ...]  # a priority line
    counter_serves_target: tuple[int, ...]  # 1: the counter can call the target (people ahead)
    line_model: tuple[ServiceModel, ...]
    counters: tuple[SimCounter, ...]
    arrivals: tuple[PriorityStream, ...]
    priority_at: str
    limits: dict[str, float]  # the starvation limits the simulated calling rule applies
    rules: tuple[CallingRule, ...]  # the calling rule of each counter (same order as `counters`)
    counter_lines: tuple[tuple[int, ...], ...]  # the lines each counter calls from (same order)
    slowdowns: tuple[float, ...]  # each counter's `slowdown` (same order)
    no_slowdown: tuple[float, ...]  # 1.0 for each counter: passes that draw the priority arrivals
    turnaround_s: float
    noshow_hold_s: float
    depth: int  # tickets simulated
    target_model: ServiceModel


def build_plan(hall: HallView, target: WaitingTicket, extra: bool, hour: int, learner: Learner,
               durations: Durations, params: EstimatorParams) -> SimPlan:
    """``extra``: ``target`` is a ticket that would be taken now (not in ``hall.waiting``)."""
    now = hall.now if isinstance(hall.now, (int, float)) and math.isfinite(hall.now) else 0.0
    models: dict[str, ServiceModel] = {}

    def model(svc: str) -> ServiceModel:
        m = models.get(svc)
        if m is None:
            m = models[svc] = durations.service_model(svc, hour)
        return m

    queues = _queues(hall, target, extra, learner, params)
    depth = sum(len(q) for q in queues.values())
    counters = _counters(hall, now, learner, durations, model, params)

    # priority tickets that will arrive later and jump ahead of normal tickets
    share: dict[int, float] = {}
    rates: dict[str, float] = {}
    if target.priority == 0 and params.future_priority:
        load: dict[str, float] = {}
        for svc in learner.priority_arrivals:
            rate = durations.priority_rate(svc, now)
            if rate > 0:
                rates[svc] = rate
                queues.setdefault((svc, 1, None), [])
                load[svc] = rate * model(svc).occupancy_s
        for svc, work in load.items():
            servers = [sc.view for sc in counters
                       if svc in sc.view.services and priority_first(sc.view.vip_first, hall.priority_at)]
            for c in servers:
                share[c.number] = share.get(c.number, 0.0) + work / len(servers)
        for k in share:
            share[k] = min(share[k], params.max_priority_share)

    keys = list(queues)
    index = {k: i for i, k in enumerate(keys)}
    sim_counters = []
    for sc in counters:
        lines = tuple(i for i, (svc, _, res) in enumerate(keys)
                      if (svc in sc.view.services if res is None else res == sc.view.number))
        sh = share.get(sc.view.number, 0.0)
        sim_counters.append(replace(sc, lines=lines, slowdown=1.0 / (1.0 - sh) if sh > 0 else 1.0))
    target_line = index[line_key(target)]
    target_pos = next(i for i, t in enumerate(queues[keys[target_line]]) if t is target)
    virtual_id = max((t.ticket_id for t in hall.waiting), default=0) + 1  # a ticket taken now comes last
    lines = tuple(tuple(Candidate(virtual_id if (extra and t is target) else t.ticket_id, t.service,
                                  t.priority, t.queued_at, t.reserved_for) for t in queues[k]) for k in keys)
    limits = learner.starvation.limits(hall)
    return SimPlan(
        now=now, target=target, target_line=target_line, target_pos=target_pos, lines=lines,
        line_times=tuple(tuple(c.queued_t for c in line) for line in lines),
        line_urgent=tuple(k[1] > 0 for k in keys),
 line_model=tuple(model(k[0]) for k in keys),
        counters=tuple(sim_counters),
        arrivals=tuple(PriorityStream(index[(svc, 1, None)], svc, rate) for svc, rate in rates.items()),
        priority_at=hall.priority_at, limits=limits,
        rules=tuple(CallingRule(sc.view.services, sc.view.vip_first, hall.priority_at, limits,
                                order=sc.view.order, tier_targets_s=hall.tier_targets_s, counter=sc.view.number)
               for sc in sim_counters),
        counter_lines=tuple(sc.lines for sc in sim_counters),
        counter_serves_target=tuple(int(can_call(sc.view, target)) for sc in sim_counters),
        slowdowns=tuple(sc.slowdown for sc in sim_counters),
        no_slowdown=(1.0,) * len(sim_counters),
        turnaround_s=durations.turnaround_s(), noshow_hold_s=durations.noshow_hold_s(), depth=depth,
        target_model=model(target.service))


LineKey = tuple[str, int, int | None]  # (service, priority, the counter it is reserved for)


def line_key(t: WaitingTicket) -> LineKey:
    """The line a ticket waits in: its service and tier, or, reserved, its counter's line of them
    (called there first, in the order reserved, and by no other counter)."""
    return t.service, t.priority, t.reserved_for


def can_call(c: CounterView, t: WaitingTicket) -> bool:
    """The counter may call the ticket: the one it is reserved for, else a counter of its service."""
    return t.service in c.services if t.reserved_for is None else t.reserved_for == c.number


def _queues(hall: HallView, target: WaitingTicket, extra: bool, learner: Learner,
            params: EstimatorParams) -> dict[LineKey, list[WaitingTicket]]:
    """The lines (`line_key`) that can matter to ``target``: within one line the calling rule
    calls in queue order (a reserved line: in the order reserved), so the rule's choice among
    the heads is its choice."""
    queues: dict[LineKey, list[WaitingTicket]] = {}
    waiting = list(hall.waiting)
    if extra:
        waiting.append(target)

    def order(t: WaitingTicket) -> tuple[float, float]:
        if t.reserved_for is not None:
            return 0.0, t.ticket_id
        return t.queued_at, (math.inf if extra and t is target else t.ticket_id)

    tline, tkey = line_key(target), order(target)
    passes = params.zombie_passes
    for t in waiting:
        # tickets behind the target in its own line are never called before it
        if line_key(t) == tline and order(t) > tkey:
            continue
        if (t is not target and t.reserved_for is None and passes > 0
                and learner.passed.get(t.ticket_id, 0) >= passes):
            # a ticket the hall keeps passing over (later tickets of its own line are
            # called first: held, or requeued but never called again) is not in the line;
            # a reserved ticket is passed over by the other counters as it should be
            continue
        queues.setdefault(line_key(t), []).append(t)
    for q in queues.values():
        q.sort(key=order)
    if extra:
        q = queues[tline]
        q.remove(target)
        q.append(target)
    return queues


def _counters(hall: HallView, now: float, learner: Learner, durations: Durations,
              model: Callable[[str], ServiceModel], params: EstimatorParams) -> list[SimCounter]:
    """The counters that can work, with when each is expected to call next."""
    turnaround = durations.turnaround_s()
    pickup = durations.pickup_s()
    out = []
    for c in hall.counters:
        back = None
        if c.state == "closed":
            back = durations.break_return(c, now) if params.reopen_breaks else None
            if back is None:
                continue
            start = now + back.remaining[len(back.remaining) // 2]
        elif c.state == "paused":
            since = learner.paused_since.get(c.number, now)
            start = now + max(durations.pause_s() - (now - since), 60.0)
        else:
            start = now
        busy = None
        if c.busy_service is not None and c.state != "closed":
            left, busy = durations.busy_left(c, now, model(c.busy_service))
            expected = max(start, now + left + turnaround)
        elif c.state == "open":
            expected = now + pickup
        else:
            expected = start
        out.append(SimCounter(c, expected, start, busy, back))
    return out
