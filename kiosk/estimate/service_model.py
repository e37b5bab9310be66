"""The expected durations of one service, frozen for one estimate (lognormal service times)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field


def phi(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@dataclass(frozen=True)
class ServiceModel:
    mean_s: float  # E[S], called -> finished, for customers who show up
    sigma: float  # lognormal shape
    noshow_p: float  # this service's no-show share
    occupancy_s: float  # expected counter time of one ticket incl. no-shows and turnaround
    noshow_by_wait: tuple[float, ...] = ()  # P(no-show) per wait bin (EstimatorParams.noshow_wait_edges_s)
    mu: float = field(init=False)  # log-scale location, from mean_s and sigma

    def __post_init__(self) -> None:
        object.__setattr__(self, "mu", math.log(self.mean_s) - 0.5 * self.sigma * self.sigma)

    def residual(self, elapsed: float, floor: float) -> float:
        """E[S - e | S > e]: the remaining time of a customer served for ``elapsed`` seconds."""
        m, s = self.mean_s, self.sigma
        if elapsed <= 0:
            return m
        if s < 1e-3:
            return max(m - elapsed, floor)
        mu = self.mu
        le = math.log(elapsed)
        tail = phi((mu - le) / s)
        if tail < 1e-9:
            # far in the tail: the lognormal mean residual grows ~ e * s^2 / (ln e - mu)
            return max(floor, elapsed * s * s / max(le - mu, 1e-6))
        partial = m * phi((mu + s * s - le) / s)
        return max(partial / tail - elapsed, floor)

    def done_share(self, elapsed: float) -> float:
        """P(S <= e): the share of customers done after ``elapsed`` seconds."""
        if elapsed <= 0:
            return 0.0
        return phi((math.log(elapsed) - self.mu) / self.sigma)
