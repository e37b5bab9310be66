"""Every file the kiosk writes besides its SQLite database is written atomically: a temporary
name, fsync, rename over the target, fsync of the directory (a power cut leaves the old file or
the whole new one). A run of the kiosk is traced in a child process: every open for writing
(Python's audit events "open"), every rename ("os.rename", also raised by os.replace) and every
fsync (os.fsync wrapped) is recorded, and the test lists what the run wrote and how."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.storage.files import atomic_writer, write_atomic

ROOT = Path(__file__).resolve().parents[2]

# the run: KioskApp with the virtual devices of `kiosk run --simulate`, tickets issued and
# printed (the virtual printer keeps PNGs), called, a backup, wrong and right admin PINs
RUN = r"""
import json, os, sys
from pathlib import Path

events = []
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

def hook(name, args):
    if name == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path, mode, flags = args
        if (mode and any(c in mode for c in "wax+")) or (mode is None and flags & WRITE):
            events.append(("write", os.path.realpath(os.fsdecode(path))))
    elif name == "os.rename":
        events.append(("rename", os.path.realpath(os.fsdecode(args[0])), os.path.realpath(os.fsdecode(args[1]))))

sys.addaudithook(hook)
real_fsync = os.fsync
def fsync(fd):
    real_fsync(fd)
    events.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd if isinstance(fd, int) else fd.fileno()}"))))
os.fsync = fsync

from kiosk.access.pin import PinGuard, hash_pin
from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.storage.backup import backup_now

data = Path(sys.argv[1])
settings = load_settings(DEFAULT_CONFIG)
app = KioskApp(settings, data, devices=Outputs(settings, simulate=True)).start()
try:
    app.set_counter(3, "open").result(10)
    for service in ("A", "B", "A"):
        app.issue(service).result(10)
    app.call_next(3).result(10)
    app.devices.hw.printer.wait_idle(20)
    backup_now(app.store.path, data / "backups", keep=3)
    guard = PinGuard(hash_pin("2468"), data, free_tries=1)
    guard.check("1111"); guard.check("2468")
finally:
    app.stop()
print("TRACE " + json.dumps(events))
"""


def _trace(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    data, scratch, cache = tmp_path / "data", tmp_path / "scratch", tmp_path / "cache"
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("ESCPOS_CAPABILITIES_PICKLE_DIR", "CACHE_DIRECTORY")}
    env.update(TMPDIR=str(scratch), XDG_CACHE_HOME=str(cache), PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", RUN, str(data)], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(s for s in out.stdout.splitlines() if s.startswith("TRACE "))
    return data, json.loads(line[len("TRACE "):])


def _is_sqlite(path: str, data: Path) -> bool:
    name = Path(path).name
    return Path(path).parent == data.resolve() and name.split("-")[0].endswith(".db")


def test_a_run_writes_every_file_beside_the_database_atomically(tmp_path):
    data, events = _trace(tmp_path)
    root = tmp_path.resolve()
    scratch = root / "scratch"
    written = {e[1] for e in events if e[0] == "write"}
    renames = [(i, e[1], e[2]) for i, e in enumerate(events) if e[0] == "rename"]
    fsyncs = [(i, e[1]) for i, e in enumerate(events) if e[0] == "fsync"]
    kept: dict[str, str] = {}       # final path -> the temporary name it was written under
    problems = []
    for path in sorted(written):
        if _is_sqlite(path, data) or Path(path).is_relative_to(scratch):
            continue                # the database itself; scratch files of this process only
        if not Path(path).is_relative_to(root):
            problems.append(f"{path}: written outside the run's directories")
            continue
        moved = [(i, dst) for i, src, dst in renames if src == path]
        if not moved:
            problems.append(f"{path}: written in place, never renamed")
            continue
        at, final = moved[-1]
        if not any(p == path and i < at for i, p in fsyncs):
            problems.append(f"{path}: renamed to {final} before an fsync of its content")
        if not any(p == str(Path(final).parent) and i > at for i, p in fsyncs):
            problems.append(f"{final}: its directory was not fsynced after the rename")
        kept[final] = path
    assert not problems, "\n".join(problems)
    listing = sorted(str(Path(p).relative_to(root)) for p in kept)
    print("written atomically:", *listing, sep="\n  ")
    names = [Path(p).name for p in kept]
    assert "admin_pin_lockout.json" in names                     # PIN state
    assert any(Path(p).parent.name == "backups" for p in kept)   # the backup
    assert sum(n.endswith(".png") for n in names) == 3          # the virtual printer's tickets
    assert any(n.endswith(".capabilities.pickle") for n in names)  # python-escpos's cache
    assert not [p for p in Path(data).rglob("*.tmp")]            # no temporary file left behind


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "state.json"
    write_atomic(target, '{"v": 1}')
    with pytest.raises(RuntimeError), atomic_writer(target, "w") as fh:
        fh.write('{"v": 2, "torn')
        raise RuntimeError("power cut in the middle")
    assert target.read_text() == '{"v": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "kiosk.toml"
    target.write_text("a = 1\n")
    target.chmod(0o640)
    write_atomic(target, "a = 2\n")
    assert target.read_text() == "a = 2\n" and target.stat().st_mode & 0o777 == 0o640
    fresh = write_atomic(tmp_path / "new.bin", b"\x00\x01")
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    line = next(s for s in Path("/proc/self/status").read_text().splitlines() if s.startswith("Umask:"))
    return int(line.split()[1], 8)
