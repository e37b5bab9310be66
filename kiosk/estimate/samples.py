"""Windows of recent observations with cheap, cached summaries."""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LogSummary:
    """A window's durations: robust mean and lognormal fit (``n == 0``: no data)."""

    n: int
    mean: float  # mean with values above 5 x the median clipped
    mu: float  # mean of the logs
    sd: float  # standard deviation of the logs


_EMPTY = LogSummary(0, 0.0, 0.0, 0.0)


class DurationWindow:
    """A bounded window of recent non-negative durations (seconds)."""

    __slots__ = ("values", "_sorted", "_summary", "_mean")

    def __init__(self, maxlen: int) -> None:
        self.values: deque[float] = deque(maxlen=maxlen)
        self._sorted: list[float] | None = None
        self._summary: LogSummary | None = None
        self._mean: tuple[int, float] | None = None

    def add(self, seconds: float) -> None:
        """Keep a duration; a negative or non-finite one (clock trouble) is not a duration."""
        if math.isfinite(seconds) and seconds >= 0:
            self.values.append(float(seconds))
            self._sorted = None
            self._summary = None
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
                cap = 5.0 * _median(vals) if _median(vals) > 0 else math.inf
                self._mean = (n, sum(min(v, cap) for v in vals) / n)
        return self._mean

    def mean_or(self, prior: float, weight: float = 3.0) -> float:
        """The mean shrunk towards ``prior`` (``weight`` pseudo-observations)."""
        n, mean = self.mean()
        return (weight * prior + n * mean) / (weight + n)

    def summary(self) -> LogSummary:
        if self._summary is None:
            n, mean = self.mean()
            if n == 0:
                self._summary = _EMPTY
            else:
                vals = self.sorted()
                cap = 5.0 * vals[n // 2] if vals[n // 2] > 0 else math.inf
                logs = [math.log(max(min(v, cap), 1.0)) for v in vals]
                mu = sum(logs) / n
                var = sum((x - mu) ** 2 for x in logs) / (n - 1) if n > 1 else 0.0
                self._summary = LogSummary(n, mean, mu, math.sqrt(var))
        return self._summary


def _median(vals: list[float]) -> float:
    n = len(vals)
    return vals[n // 2] if n % 2 else 0.5 * (vals[n // 2 - 1] + vals[n // 2])


@dataclass(frozen=True)
class NoshowRates:
    overall: float  # the hall's no-show share
    by_wait: tuple[float, ...]  # the share per wait bin (see EstimatorParams.noshow_wait_edges_s)


class NoshowByWait:
    """Calls and no-shows per wait bin over the last ``maxlen`` calls: people who waited
    long are more often gone when called."""

    def __init__(self, edges_s: tuple[float, ...], maxlen: int = 400) -> None:
        self.edges_s = edges_s
        self._history: deque[tuple[int, bool]] = deque(maxlen=maxlen)  # (wait bin, no-show?)
        self._calls = [0] * (len(edges_s) + 1)
        self._noshows = [0] * (len(edges_s) + 1)
        self._rates: NoshowRates | None = None

    def wait_bin(self, waited_s: float) -> int:
        return bisect.bisect_right(self.edges_s, max(waited_s, 0.0))

    def record(self, waited_s: float, noshow: bool) -> None:
        b = self.wait_bin(waited_s)
        if len(self._history) == self._history.maxlen:  # the oldest leaves the window
            old_b, old_noshow = self._history[0]
            self._calls[old_b] -= 1
            self._noshows[old_b] -= old_noshow
        self._history.append((b, noshow))
        self._calls[b] += 1
        self._noshows[b] += noshow
        self._rates = None

    def rates(self, prior: float, prior_weight: float, bin_weight: float) -> NoshowRates:
        """Each wait bin is shrunk towards its shorter neighbour (a chain prior), so a bin with
        little data yet looks like the waits just below it, not like the average."""
        if self._rates is None:
            n, k = self._calls, self._noshows
            overall = (prior * prior_weight + sum(k)) / (prior_weight + sum(n))
            table, prev = [], overall
            for b in range(len(n)):
                prev = (prev * bin_weight + k[b]) / (bin_weight + n[b])
                table.append(prev)
            self._rates = NoshowRates(overall, tuple(table))
        return self._rates
