"""Every metric the documents name is one a current benchmark prints (`python -m bench --list`),
and `python -m bench --strict` fails a run that misses a target.

How docs/ names a metric (docs/performance.md, "Metric names in the documents"):
* a JSON line quoted from a run: ``"metric": "NAME"``;
* the first column of a table whose first header is ``metric``;
* in docs/performance.md (the page of the figures), any backticked name ending in a unit suffix;
* anywhere, a backticked name ending in ``_mb`` or ``_per_s`` (no configuration key or event
  field ends so; ``_s``, ``_ms`` and ``_ratio`` are also configuration keys, e.g. ``refresh_s``,
  ``clear_ratio``).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import bench.__main__ as runner
from bench.metrics import Metric, Target, misses
from tests.kit.settings import REPO

DOCS = sorted((REPO / "docs").glob("*.md"))
SUFFIX = r"(?:_ms|_s|_mb|_ratio|_per_s|_pct)"
JSON_LINE = re.compile(r'"metric":\s*"([a-z0-9_]+)"')
TICKED_ANY_SUFFIX = re.compile(rf"`([a-z][a-z0-9]*(?:_[a-z0-9]+)*{SUFFIX})`")
TICKED_METRIC_ONLY_SUFFIX = re.compile(r"`([a-z][a-z0-9]*(?:_[a-z0-9]+)*(?:_mb|_per_s))`")
TABLE_FIRST_CELL = re.compile(r"^\|\s*`([a-z][a-z0-9_]*)`")
BENCH_COMMAND = re.compile(r"python -m bench\.([a-z_]+)")


def listed() -> set[str]:
    out = subprocess.run([sys.executable, "-m", "bench", "--list"], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert all({"metric", "bench", "unit", "target"} <= set(r) for r in rows), rows
    return {r["metric"] for r in rows}


def metric_tables_by_bench(text: str) -> list[tuple[str, str | None]]:
    """(name, benchmark) for the backticked names in the first column of the tables whose first
    header is `metric`; the benchmark is the `python -m bench.NAME` named since the last heading
    before the table (None if none is)."""
    rows: list[tuple[str, str | None]] = []
    in_table, bench = False, None
    for line in text.splitlines():
        if line.startswith("#"):
            bench = None
        if re.match(r"^\|\s*metric\s*\|", line):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            bench = (BENCH_COMMAND.findall(line) or [bench])[-1]
        elif in_table:
            m = TABLE_FIRST_CELL.match(line)
            if m:
                rows.append((m.group(1), bench))
    return rows


def metric_tables(text: str) -> list[str]:
    return [name for name, _ in metric_tables_by_bench(text)]


def named_in_docs() -> dict[str, set[str]]:
    """metric name → the documents that name it."""
    found: dict[str, set[str]] = {}
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        names = set(JSON_LINE.findall(text)) | set(metric_tables(text)) | set(TICKED_METRIC_ONLY_SUFFIX.findall(text))
        if doc.name == "performance.md":
            names |= set(TICKED_ANY_SUFFIX.findall(text))
        for name in names:
            found.setdefault(name, set()).add(doc.name)
    return found


def test_every_metric_named_in_the_docs_is_printed_by_a_current_benchmark():
    printed = listed()
    named = named_in_docs()
    assert len(named) >= 15, f"the rules above found too few metric names in docs/: {sorted(named)}"
    unknown = {name: sorted(docs) for name, docs in named.items() if name not in printed}
    assert not unknown, f"metrics named in docs/ that no benchmark in `python -m bench --list` prints: {unknown}"


def test_a_table_of_a_named_benchmark_lists_what_that_benchmark_prints():
    wrong = []
    for doc in DOCS:
        for name, bench in metric_tables_by_bench(doc.read_text(encoding="utf-8")):
            if bench is not None and bench in runner.BENCHES and name not in {m.name for m in runner.declared(bench)}:
                wrong.append(f"{doc.name}: `{name}` under `python -m bench.{bench}`, which does not print it")
    assert not wrong, wrong


def test_the_rules_see_each_way_of_naming_a_metric():
    text = ('| metric | figure |\n|---|---|\n| `alpha_ms` | 1 |\n\nprose `beta_per_s`, `refresh_s`\n'
            '{"metric": "gamma_ratio", "value": 1}\n')
    assert metric_tables(text) == ["alpha_ms"]
    assert metric_tables_by_bench("## x\n`python -m bench.foo` prints:\n\n" + text) == [("alpha_ms", "foo")]
    assert TICKED_METRIC_ONLY_SUFFIX.findall(text) == ["beta_per_s"]
    assert JSON_LINE.findall(text) == ["gamma_ratio"]


@pytest.mark.parametrize("name", [n for n, b in runner.BENCHES.items()])
def test_each_benchmark_prints_only_metrics_it_declares(name):
    declared = {m.name for m in runner.declared(name)}
    source = (REPO / "bench" / f"{name}.py").read_text(encoding="utf-8")
    printed = set(JSON_LINE.findall(source)) | set(re.findall(r'metric="([a-z0-9_]+)"', source))
    assert declared and printed <= declared, f"bench/{name}.py prints {sorted(printed - declared)} undeclared"


def test_a_metric_declared_by_two_benchmarks_has_one_target():
    by_name: dict[str, tuple[Target, ...]] = {}
    for name in runner.BENCHES:
        for m in runner.declared(name):
            assert by_name.setdefault(m.name, m.targets) == m.targets, m.name


# -- --strict ------------------------------------------------------------------------------------
RATIO = Metric("engine_durable_ops_ratio", "ratio", Target("p50", ">=", 0.5))


def test_misses_names_the_line_that_misses_its_target():
    lines = [{"metric": RATIO.name, "waiting": 0, "p50": 0.61, "bench": "b"},
             {"metric": RATIO.name, "waiting": 30, "p50": 0.44, "bench": "b"},
             {"metric": "made_up_ms", "p50": 1, "bench": "b"},
             {"metric": "b_run", "error": "exit 1", "bench": "b"}]
    problems = misses(lines, {RATIO.name: RATIO})
    assert len(problems) == 3
    assert "waiting=30" in problems[0] and "p50 0.44, target p50 >= 0.5" in problems[0]
    assert "not declared" in problems[1] and "exit 1" in problems[2]


def test_a_line_without_the_targets_figure_misses_it():
    assert "no p50" in Target("p50", ">=", 0.5).missed_by({"metric": "x", "value": 1})


def test_every_target_of_a_metric_is_checked():
    cuts = Metric("power_cut", "cuts", (Target("lost", "<=", 0), Target("duplicates", "<=", 0)))
    assert cuts.describe_target() == "lost <= 0 and duplicates <= 0"
    problems = misses([{"metric": "power_cut", "lost": 0, "duplicates": 2, "bench": "b"}], {"power_cut": cuts})
    assert problems == ["power_cut (b): duplicates 2, target duplicates <= 0"]


@pytest.mark.parametrize("p50, strict, code", [(0.44, True, 1), (0.61, True, 0), (0.44, False, 0)])
def test_strict_exits_non_zero_when_a_target_is_missed(monkeypatch, tmp_path, p50, strict, code):
    monkeypatch.setattr(runner, "declared", lambda name: (RATIO,))
    monkeypatch.setattr(runner, "run_one", lambda name, args, limit: (
        [{"metric": RATIO.name, "waiting": 30, "p50": p50, "bench": name}], 0.1))
    argv = ["--only", "engine_durable_ops", "--out", str(tmp_path / "r.json")] + (["--strict"] if strict else [])
    assert runner.main(argv) == code
    assert json.loads((tmp_path / "r.json").read_text())["targets_missed"] == ([] if p50 >= 0.5 else [
        "engine_durable_ops_ratio (engine_durable_ops) [waiting=30]: p50 0.44, target p50 >= 0.5"])
