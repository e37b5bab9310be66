"""The shape of the code base: the arrows between packages, module sizes, names, and the docs'
references to files and modules (docs/architecture.md describes what is checked here)."""
from __future__ import annotations

import ast
import glob
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.settings import REPO

CODE = ("kiosk", "drivers", "ui")
MAX_LINES = 500
# data tables may be longer than a module of logic (none today)
DATA_TABLES: set[str] = set()


def modules(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (REPO / top).rglob("*.py") if "__pycache__" not in p.parts)


def imported_names(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports are not used in this code base)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.relative_to(REPO)}:{node.lineno}: relative import"
            out.add(node.module or "")
    return out


def test_import_contracts_hold():
    """`lint-imports` with the contracts in pyproject.toml (the same check `.ci/run` makes first)."""
    proc = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


def import_cycles(graph) -> list[list[str]]:
    """Groups of modules that import each other, directly or not (Tarjan's strongly connected
    components of grimp's import graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return cycles


def test_no_module_imports_itself_through_others():
    """No import cycle between modules, also through imports inside functions (the layers
    contract checks packages; this checks every module of kiosk, drivers, ui and bench)."""
    import grimp
    graph = grimp.build_graph("kiosk", "drivers", "ui", "bench", exclude_type_checking_imports=True)
    assert import_cycles(graph) == []
    made = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        made.add_import(importer=a, imported=b)
    assert import_cycles(made) == [["p.a", "p.b", "p.c"]]


@pytest.mark.parametrize("package, allowed", [("kiosk/domain", ("kiosk.domain",)),
                                              ("kiosk/estimate", ("kiosk.domain", "kiosk.estimate"))])
def test_domain_and_estimate_use_the_standard_library_only(package, allowed):
    bad = []
    for path in modules(package):
        for name in imported_names(path):
            top = name.split(".")[0]
            if top == "__future__" or top in sys.stdlib_module_names:
                continue
            if not any(name == a or name.startswith(a + ".") for a in allowed):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def test_no_module_shadows_the_standard_library():
    shadowing = [str(p.relative_to(REPO)) for p in modules(*CODE, "bench", "tests", "hil_tests")
                 if p.stem in sys.stdlib_module_names and p.stem not in ("__init__", "__main__")]
    shadowing += [str(p.parent.relative_to(REPO)) for top in (*CODE, "bench") for p in (REPO / top).rglob("__init__.py")
                  if p.parent.name in sys.stdlib_module_names]
    assert not shadowing, shadowing


def test_no_module_is_over_500_lines():
    long = [f"{p.relative_to(REPO)} ({n} lines)" for p in modules(*CODE)
            if (n := len(p.read_text().splitlines())) > MAX_LINES and str(p.relative_to(REPO)) not in DATA_TABLES]
    assert not long, long


# -- what the documentation names exists -------------------------------------------------------
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "hil_tests" / "README.md"]
TOP = ("kiosk/", "drivers/", "ui/", "tests/", "hil_tests/", "bench/", "docs/", "firmware_config/", "systemd/", ".ci/")
PATH_RE = re.compile(r"(?<![\w./-])((?:%s)[\w./*{},-]*)" % "|".join(re.escape(t) for t in TOP))
MODULE_RE = re.compile(r"(?<![\w./-])((?:kiosk|drivers|ui|bench|tests|hil_tests)(?:\.[A-Za-z_]\w*)+)")
FILE_SUFFIXES = {"toml", "db", "service", "timer", "json", "jsonl", "csv", "md", "py", "png", "log", "conf", "env",
                 "html", "corrupt", "txt", "kv"}
GENERATED = {"bench/results.json"}  # written by `python -m bench`, not kept in the repository


def _expand(pattern: str) -> list[str]:
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    return [x for alt in m.group(1).split(",") for x in _expand(pattern[:m.start()] + alt + pattern[m.end():])]


def is_topic(path: str) -> bool:
    """`kiosk/{branch}/events`, `kiosk/demo-001/reply/`: MQTT topics, not files."""
    parts = path.split("/")
    return parts[0] == "kiosk" and len(parts) > 1 and (re.search(r"[-+#]|\{[^,}]*\}", parts[1]) is not None)


def named_paths(text: str) -> set[str]:
    out = set()
    for m in PATH_RE.finditer(text):
        path = m.group(1).rstrip(".,")
        if is_topic(path) or path in GENERATED:
            continue
        if path.endswith("/") or "." in Path(path).name or "*" in path or "{" in path:
            out.add(path)
    return out


def named_modules(text: str) -> set[str]:
    """Dotted names of modules (and names in them); file names like `kiosk.toml`, placeholders like
    `bench.NAME` are not modules."""
    return {m for m in MODULE_RE.findall(text)
            if not any(seg in FILE_SUFFIXES or seg.isupper() for seg in m.split(".")[1:])}


def _defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return True
        if isinstance(node, ast.If):  # e.g. TYPE_CHECKING blocks
            if name in ast.unparse(node):
                return True
    return False


def resolves(dotted: str) -> bool:
    """`kiosk.hq.monitor` or `kiosk.hq.monitor.HqMonitor(.attr…)`: the module exists and defines the name."""
    parts = dotted.split(".")
    here = REPO
    for i, part in enumerate(parts):
        if (here / part).is_dir() and ((here / part / "__init__.py").exists() or part in ("tests", "hil_tests")):
            here = here / part
            continue
        if (here / f"{part}.py").exists():
            here = here / f"{part}.py"
            rest = parts[i + 1:]
            return not rest or _defines(here, rest[0])
        init = here / "__init__.py"
        return i > 0 and init.exists() and _defines(init, part)
    return True


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_path_and_module_a_document_names_exists(doc):
    text = doc.read_text()
    missing = [p for p in sorted(named_paths(text))
               if not any(glob.glob(str(REPO / x)) for x in _expand(p))]
    missing += [m for m in sorted(named_modules(text)) if not resolves(m)]
    assert not missing, f"{doc.relative_to(REPO)} names what does not exist: {missing}"


def test_the_docs_check_finds_a_missing_path():
    """The check above can fail: a stale path and a stale module are found."""
    assert named_paths("see `kiosk/outbox_tail.py` and docs/mqtt.md.") == {"kiosk/outbox_tail.py", "docs/mqtt.md"}
    assert not any(glob.glob(str(REPO / "kiosk/outbox_tail.py")))
    assert named_modules("`kiosk.toml`, `python -m bench.NAME`, kiosk.hq_web.app") == {"kiosk.hq_web.app"}
    assert not resolves("kiosk.hq_web.app") and not resolves("kiosk.queue.QueueEngine")
    assert named_paths("topics `kiosk/{branch}/events` and kiosk/demo-001/reply/") == set()
    assert resolves("kiosk.domain.policy.choose_next") and resolves("kiosk.domain.policy")
