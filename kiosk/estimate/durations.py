"""What the learned state says about durations: service times, no-shows, turnaround,
pauses, breaks, priority arrivals, and the remaining time of a busy counter."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.estimate.learn import Learner
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.service_model import ServiceModel
from kiosk.estimate.views import CounterView


@dataclass(frozen=True)
class BusyCustomer:
    """The customer at a busy counter, for drawing its remaining time."""

    model: ServiceModel
    elapsed: float  # seconds since the call
    noshow_p: float  # chance that it is a no-show, given that it has not finished yet
    done_share: float  # P(S <= elapsed): the remaining time is drawn above this quantile


@dataclass(frozen=True)
class BreakReturn:
    """A closed counter that may be on a break."""

    p_back: float  # chance that it comes back today
    remaining: tuple[float, ...]  # equally likely remaining break lengths (s), sorted


class Durations:
    def __init__(self, learner: Learner, priors: Mapping[str, float], params: EstimatorParams) -> None:
        self.learner = learner
        self.priors = priors
        self.params = params

    def service_model(self, svc: str, hour: int) -> ServiceModel:
        p, learnt = self.params, self.learner
        prior = self.priors.get(svc, p.default_service_s)
        prof = learnt.hour_profile.get((svc, hour))
        if prof is not None and prof.n >= p.hour_prior_min_n:
            prior = prof.mean
        window = learnt.service.get(svc)
        s = window.summary() if window is not None else None
        n = s.n if s is not None else 0
        m = (p.prior_weight * prior + n * s.mean) / (p.prior_weight + n) if n else prior
        m = max(m, 1.0)
        if n >= 2:
            sigma = math.sqrt((p.sigma_prior_weight * p.sigma_prior ** 2 + (n - 1) * s.sd * s.sd)
                              / (p.sigma_prior_weight + n - 1))
        else:
            sigma = p.sigma_prior
        outs = learnt.outcomes.get(svc)
        k = len(outs) if outs else 0
        ns = sum(outs) if outs else 0
        rates = learnt.noshow_by_wait.rates(p.noshow_prior, p.noshow_prior_weight, p.noshow_bin_weight)
        w0 = p.noshow_prior_weight
        share = (rates.overall * w0 + ns) / (w0 + k)  # this service's rate, shrunk to the hall's
        factor = share / rates.overall if rates.overall > 0 else 1.0
        by_wait = tuple(min(x * factor, 0.95) for x in rates.by_wait)
        occupancy = (1 - share) * m + share * self.noshow_hold_s() + self.turnaround_s()
        return ServiceModel(m, min(max(sigma, 0.05), 2.0), share, occupancy, by_wait)

    def noshow_hold_s(self) -> float:
        return self.learner.noshow_hold.mean_or(self.params.noshow_grace_s)

    def turnaround_s(self) -> float:
        return self.learner.turnaround.mean_or(self.params.turnaround_prior_s)

    def pickup_s(self) -> float:
        return self.learner.pickup.mean_or(self.params.pickup_prior_s)

    def pause_s(self) -> float:
        return self.learner.pause.mean_or(self.params.pause_prior_s)

    def back_from_break_s(self) -> float:
        """How long a counter that serves no one now is expected to stay away."""
        breaks = self.learner.breaks
        return breaks.mean_or(1800.0) if len(breaks) else 1800.0

    def walk_tail(self, elapsed: float) -> float:
        """P(walk-up time > elapsed)."""
        walk = self.learner.walk
        if len(walk) < 5:
            return math.exp(-max(elapsed, 0.0) / self.params.walk_prior_s)
        return walk.share_above(elapsed)

    def priority_rate(self, svc: str, now: float) -> float:
        """Priority arrivals per second for ``svc``, over the recent window."""
        arr = self.learner.priority_arrivals.get(svc)
        t0 = self.learner.t0
        if not arr or t0 is None:
            return 0.0
        window = self.params.priority_window_s
        start = now - window
        while arr and arr[0] < start - window:
            arr.popleft()
        count = sum(1 for t in arr if start <= t <= now)
        span = max(min(window, now - t0), 900.0)  # a single early arrival is not a rate
        return count / span

    def busy_left(self, c: CounterView, now: float, model: ServiceModel) -> tuple[float, BusyCustomer]:
        """Expected remaining time of the counter's customer, and what to draw it from."""
        since = c.busy_since if c.busy_since is not None else now
        elapsed = max(now - since, 0.0)
        floor = self.params.residual_floor_s
        show_left = model.residual(elapsed, floor)
        cur = self.learner.at_counter.get(c.number)
        started = cur is not None and cur.started and abs(cur.called_at - since) < 1.0
        if started or model.noshow_p <= 0:
            return show_left, BusyCustomer(model, elapsed, 0.0, model.done_share(elapsed))
        # not at the counter yet: it may be a no-show (the counter then waits the grace)
        p = model.noshow_p
        if cur is not None and cur.waited_s is not None and model.noshow_by_wait:
            p = model.noshow_by_wait[self.learner.noshow_by_wait.wait_bin(cur.waited_s)]
        learnt = self.learner
        if len(learnt.walk) >= 5 or learnt.finished_n < 10:
            # P(customer not at the counter yet | shows up) from the walk-up times
            p_ns = p / (p + (1 - p) * self.walk_tail(elapsed))
        else:
            # this engine sends no ticket.started: compare how long no-shows and real
            # customers keep a counter busy instead
            hold = learnt.noshow_hold
            ns_tail = hold.share_above(elapsed) if len(hold) >= 3 else (
                1.0 if elapsed < self.params.noshow_grace_s else 0.05)
            show_tail = 1.0 - model.done_share(elapsed)
            p_ns = p * ns_tail / (p * ns_tail + (1 - p) * show_tail) if show_tail > 0 else 1.0
        ns_left = max(self.noshow_hold_s() - elapsed, floor * 0.5)
        return p_ns * ns_left + (1 - p_ns) * show_left, BusyCustomer(model, elapsed, p_ns, model.done_share(elapsed))

    def break_return(self, c: CounterView, now: float) -> BreakReturn | None:
        """A closed counter that was open today may be on a break.

        P(back) starts from the share of earlier closures that ended in a reopening and
        falls as the closure outlasts the break lengths seen so far (Bayes)."""
        learnt, p = self.learner, self.params
        since = learnt.closed_since.get(c.number)
        breaks = list(learnt.breaks.values)
        if p.break_prior_s > 0:
            breaks.append(p.break_prior_s)  # one pseudo-observation: a usual break
        if since is None or c.number not in learnt.ever_open or not breaks:
            return None
        elapsed = now - since
        longest = max(breaks) * max(p.break_spread)
        gone = sum(1 for k, t in learnt.closed_since.items() if k in learnt.ever_open and now - t > longest)
        q = (learnt.n_back + 1.0) / (learnt.n_back + gone + 2.0)
        # each observed break stands for a spread of similar lengths (kernel smoothing)
        cands = [b * f for b in breaks for f in p.break_spread]
        rems = sorted(b - elapsed for b in cands if b > elapsed)
        if not rems:
            return None
        tail = len(rems) / len(cands)
        p_back = q * tail / (q * tail + (1.0 - q))
        return BreakReturn(p_back, tuple(max(r, 30.0) for r in rems))
