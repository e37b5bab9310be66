"""The wait estimator the engine talks to: it learns from events and answers from a hall view.

Pure Python (standard library and :mod:`kiosk.domain` only), no I/O: the queue engine
builds a :class:`HallView` (what is waiting, what every counter is doing) and feeds every
domain event to :meth:`WaitEstimator.observe`; the estimator answers "how long until this
ticket is called" by simulating the hall with the engine's own calling rule
(:mod:`kiosk.estimate.simulate`), with durations learnt from the events
(:mod:`kiosk.estimate.learn`). docs/estimates.md has the method and the scores.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping

from kiosk.estimate.calibration import Calibration
from kiosk.estimate.durations import Durations
from kiosk.estimate.events import Rejected, read_event
from kiosk.estimate.learn import Learner
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.plan import build_plan
from kiosk.estimate.simulate import simulate_wait, static_ahead, unserved_wait
from kiosk.estimate.views import HallView, WaitingTicket

log = logging.getLogger(__name__)

DEFAULT_PARAMS = EstimatorParams()


class WaitEstimator:
    """Learns from domain events, answers wait estimates from a :class:`HallView`.

    ``expected_service_s``: the configured service time per service (seconds, > 0), the
    prior until the day's own durations are known."""

    def __init__(self, expected_service_s: Mapping[str, float], *,
                 params: EstimatorParams = DEFAULT_PARAMS) -> None:
        for svc, v in expected_service_s.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"the expected service time of {svc!r} must be a positive number, not {v!r}")
        self.params = params
        self._calibration = Calibration(params)
        self._learner = Learner(params, self._calibration)
        self._durations = Durations(self._learner, {k: float(v) for k, v in expected_service_s.items()}, params)
        self.rejected: Counter[str] = Counter()  # malformed events by reason (none taught anything)

    def observe(self, event: Mapping[str, object], now: float) -> None:
        """Learn from one domain event (``type`` plus the fields of docs/architecture.md).

        An event with a malformed field teaches nothing: it is counted in :attr:`rejected`
        and logged. An error while learning from a well-formed event is a bug and raises."""
        if isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now):
            self._reject(Rejected("the event time is not a finite number", now))
            return
        ev = read_event(event)
        if isinstance(ev, Rejected):
            self._reject(ev)
            return
        self._learner.learn(ev, float(now))

    def _reject(self, rejected: Rejected) -> None:
        self.rejected[rejected.reason] += 1
        level = logging.WARNING if self.rejected[rejected.reason] == 1 else logging.DEBUG
        log.log(level, "wait estimator: event ignored, %s (%r)", rejected.reason, rejected.value)

    def expected_service(self, service: str, hour: int | None = None) -> float:
        """Expected called -> finished seconds of a customer who shows up."""
        return self._durations.service_model(service, self._learner.hour if hour is None else hour).mean_s

    def estimate_for(self, hall: HallView, ticket_id: int) -> float:
        """Seconds until ``ticket_id`` (already in ``hall.waiting``) is called."""
        return self.forecast_for(hall, ticket_id)[0]

    def forecast_for(self, hall: HallView, ticket_id: int, *, record: bool = True) -> tuple[float, int]:
        """(seconds until ``ticket_id`` is called, people ahead of it), from one simulation.
        People ahead: how many of the tickets waiting now the calling rule calls before it at the
        counters serving it, the counters finishing at their expected times (docs/queueing.md).
        `record`: keep it as the ticket's prediction for calibration (the printed one); a later
        look (the phone's live estimate) passes False."""
        target = next((t for t in hall.waiting if t.ticket_id == ticket_id), None)
        if target is None:
            return 0.0, 0
        raw, ahead = self._simulate(hall, target, extra=False)
        if record:
            self._calibration.estimated(ticket_id, hall.now, raw, target.service)
        return self._finish(hall, raw, target.service), ahead

    def estimate_service(self, hall: HallView, service: str, priority: int = 0) -> float:
        """Seconds a new ticket of ``service`` would wait if taken now (for the screen)."""
        return self.forecast_service(hall, service, priority)[0]

    def forecast_service(self, hall: HallView, service: str, priority: int = 0) -> tuple[float, int]:
        """(seconds, people ahead) for a new ticket of ``service`` taken now."""
        virtual = WaitingTicket(ticket_id=-1, service=service, priority=int(priority), queued_at=hall.now)
        raw, ahead = self._simulate(hall, virtual, extra=True)
        return self._finish(hall, raw, service), ahead

    def ahead_of(self, hall: HallView, ticket_id: int) -> int:
        """People ahead of ``ticket_id`` (as `forecast_for`, without recording a prediction)."""
        target = next((t for t in hall.waiting if t.ticket_id == ticket_id), None)
        return 0 if target is None else self._simulate(hall, target, extra=False)[1]

    def _simulate(self, hall: HallView, target: WaitingTicket, extra: bool) -> tuple[float, int]:
        learner = self._learner
        if isinstance(hall.hour, int):
            learner.hour = hall.hour
        learner.starvation.see_hall(hall)
        plan = build_plan(hall, target, extra, learner.hour, learner, self._durations, self.params)
        result = simulate_wait(plan, self.params)
        if result is not None:
            return result
        wait = unserved_wait(hall, target, plan, self._durations.back_from_break_s())
        if extra:  # for people ahead, a ticket taken now comes after every waiting one
            target = WaitingTicket(max((t.ticket_id for t in hall.waiting), default=0) + 1, target.service,
                                   target.priority, target.queued_at)
        return wait, static_ahead(hall, target)

    def _finish(self, hall: HallView, raw: float, service: str) -> float:
        est = self._calibration.apply(hall, raw, service)
        return est if math.isfinite(est) and est >= 0 else 0.0
