"""What a benchmark prints, declared beside the code that prints it, and its targets.

Every `bench/NAME.py` run by `python -m bench` declares ``METRICS``: one `Metric` per metric
name it prints, with the `Target` it must meet, if any. `python -m bench --list` prints these
names (tests/test_bench_metrics.py checks the names in docs/ against them) and `--strict`
checks every printed line against its target.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

_OPS = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """`field` of every JSON line of the metric `op` `value`, e.g. Target("p99", "<=", 10)."""

    field: str
    op: str
    value: float

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"a target compares with {' or '.join(_OPS)}, not {self.op!r}")

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value:g}"

    def missed_by(self, line: dict[str, Any]) -> str | None:
        """Why `line` misses the target (None when it meets it)."""
        figure = line.get(self.field)
        if not isinstance(figure, (int, float)) or isinstance(figure, bool):
            return f"no {self.field} in the line (target {self.describe()})"
        if not _OPS[self.op](figure, self.value):
            return f"{self.field} {figure:g}, target {self.describe()}"
        return None


@dataclass(frozen=True)
class Metric:
    """A metric name a benchmark prints, its unit and (if it has any) its target: one `Target`, or
    several that every line must meet, e.g. (Target("lost", "<=", 0), Target("duplicates", "<=", 0))."""

    name: str
    unit: str
    target: Target | tuple[Target, ...] | None = None
    what: str = ""

    @property
    def targets(self) -> tuple[Target, ...]:
        if self.target is None:
            return ()
        return self.target if isinstance(self.target, tuple) else (self.target,)

    def describe_target(self) -> str | None:
        return " and ".join(t.describe() for t in self.targets) or None


def misses(lines: list[dict[str, Any]], declared: dict[str, Metric]) -> list[str]:
    """Every missed target, undeclared metric and failed run in `lines`, one sentence each."""
    problems = []
    for line in lines:
        name = str(line.get("metric", ""))
        where = f"{name} ({line.get('bench', '?')})"
        if "error" in line:
            problems.append(f"{where}: {line['error']}")
            continue
        metric = declared.get(name)
        if metric is None:
            problems.append(f"{where}: printed but not declared in the benchmark's METRICS")
            continue
        if "skipped" in line:
            continue
        conditions = ", ".join(f"{k}={line[k]}" for k in ("waiting", "mode", "paper_mm", "via", "day") if k in line)
        for target in metric.targets:
            why = target.missed_by(line)
            if why:
                problems.append(f"{where}{' [' + conditions + ']' if conditions else ''}: {why}")
    return problems
