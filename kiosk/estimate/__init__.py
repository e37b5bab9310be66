"""Wait estimates: what the kiosk prints as "estimated wait", learnt from the day's events.

``views``: what the engine shows the estimator; ``params``: every tunable; ``events``: the
events, checked where they come in; ``learn`` (with ``samples``, ``starvation`` and
``calibration``): learning from them; ``durations`` and ``service_model``: what was learnt,
as expected durations; ``plan`` and ``simulate``: the forecast, with the engine's calling
rule; ``estimator``: the facade the engine uses; ``humanize``: the words on the ticket.
"""
from kiosk.estimate.estimator import WaitEstimator
from kiosk.estimate.humanize import humanize_wait
from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.views import CounterView, HallView, WaitingTicket

__all__ = ["CounterView", "EstimatorParams", "HallView", "WaitEstimator", "WaitingTicket", "humanize_wait"]
