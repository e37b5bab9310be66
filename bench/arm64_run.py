"""The kiosk on the Pi's architecture: install, run and test it in an arm64 Debian root under QEMU.

    sudo python -m bench.arm64_run [--cache /var/cache/kiosk-arm64] [--work /var/tmp/kiosk-arm64]
                                   [--fresh-root] [--tests tests/domain,tests/engine,…]

Long (about 15 min with the root cached, plus about 4 min for the first debootstrap; outside the
default CI). As root, on Debian 12 x86_64:

1. the host's parts: ``debootstrap`` and ``qemu-user-static`` (apt-get installed when missing),
   binfmt_misc mounted and Debian's qemu-aarch64 entry registered (bench/arm64/binfmt.py);
2. a pristine ``debootstrap --arch arm64 --variant=minbase bookworm`` root, cached, copied fresh
   for every run (bench/arm64/root.py); ``uname -m`` inside must say ``aarch64``;
3. ``firmware_config/install.sh`` inside (chroot), as on a freshly flashed Pi: apt packages, the
   kiosk user, the venv with ``pip install .[ui]``, files and units; then a second run that must
   change nothing. pip's installation report (``PIP_REPORT``) says which packages came as
   prebuilt aarch64 wheels and which were built here (bench/arm64/pip_report.py);
4. ``kiosk run --simulate`` as the kiosk user with the installed config and data directory, fed
   a short console session (open a counter, issue, call, finish, quit);
5. the test tools into the venv, then the headless tests of the core and the drivers
   (bench/arm64/junit.py counts them).

Prints one JSON line ``{"metric": "arm64_run", "value": <total s>, "unit": "s", "ok", "steps",
"install", "console", "tests", "wheels", ...}``; every step's output is kept in ``WORK/logs``.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from pathlib import Path

from bench.arm64 import binfmt, junit, pip_report, root
from bench.metrics import Metric, Target

REPO = Path(__file__).resolve().parent.parent
METRICS = (
    Metric("arm64_run", "s", Target("tests_failed", "<=", 0),
           what="install.sh, kiosk run --simulate and the headless tests in an arm64 root under QEMU; "
                "value: the whole run"),
)
HEADLESS_TESTS = ("tests/domain", "tests/estimate", "tests/storage", "tests/config", "tests/engine",
                  "tests/drivers")
TEST_TOOLS = ("pytest>=8", "pytest-timeout>=2.2", "hypothesis>=6.100")
VENV = "/opt/kiosk/venv"
SRC = "/srv/kiosk"
CONSOLE_SESSION = "open 1\nissue A\nissue A\nstatus\nnext 1\nfinish 1\nquit\n"
# what the session must print: the first ticket issued, and it (the longest waiting) called to counter 1
CONSOLE_EXPECTS = ("kiosk ready in", "> ticket A001", "A001 → counter 1")


class Run:
    """The steps' timings, outcomes and logs."""

    def __init__(self, logs: Path) -> None:
        self.logs, self.steps, self.t0 = logs, {}, time.monotonic()
        logs.mkdir(parents=True, exist_ok=True)

    def step(self, name: str, seconds: float, ok: bool, **extra) -> None:
        self.steps[name] = {"s": round(seconds, 1), "ok": ok, **extra}
        print(f"arm64_run: {name}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s", file=sys.stderr, flush=True)

    @property
    def ok(self) -> bool:
        return all(s["ok"] for s in self.steps.values())


def prepare_host(run: Run) -> None:
    t0 = time.monotonic()
    missing = root.missing_host_packages()
    if missing:
        root.install_host_packages(missing)
    done = binfmt.ensure_aarch64()
    run.step("host", time.monotonic() - t0, True, installed=missing, binfmt=done)


def install(run: Run, rootdir: Path) -> dict:
    """install.sh twice (the second must change nothing), with pip's report and log kept."""
    env = {"PIP_REPORT": "/var/tmp/pip-report.json", "PIP_LOG": "/var/tmp/pip.log"}
    code, _, secs = root.chroot(rootdir, ["/bin/bash", f"{SRC}/firmware_config/install.sh"], env=env,
                                  timeout=5400, log=run.logs / "install-1.log")
    run.step("install", secs, code == 0, exit=code)
    code2, out2, secs2 = root.chroot(rootdir, ["/bin/bash", f"{SRC}/firmware_config/install.sh"],
                                     timeout=1800, log=run.logs / "install-2.log")
    changes = _changes(out2)
    run.step("install_again", secs2, code2 == 0 and changes == 0, exit=code2, changes=changes)
    report, log = rootdir / "var/tmp/pip-report.json", rootdir / "var/tmp/pip.log"
    if not report.exists():
        return {"error": "pip wrote no report (install.sh stopped before pip)"}
    installed = pip_report.read_report(report.read_text())
    (run.logs / "pip-report.json").write_text(report.read_text())
    log_text = log.read_text(errors="replace") if log.exists() else ""
    run.steps["install"]["pip_s"] = pip_report.log_seconds(log_text)
    return pip_report.summary(installed, log_text)


def console(run: Run, rootdir: Path) -> dict:
    env = {"KIOSK_DATA": "/var/lib/kiosk", "KIOSK_CONFIG": "/etc/kiosk/kiosk.toml", "HOME": "/var/lib/kiosk",
           "PYTHONDONTWRITEBYTECODE": "1"}
    code, out, secs = root.chroot(rootdir, [f"{VENV}/bin/kiosk", "run", "--simulate", "--screen", "none"],
                                  env=env, user="kiosk", stdin=CONSOLE_SESSION, timeout=900,
                                  log=run.logs / "console.log")
    missing = [e for e in CONSOLE_EXPECTS if e not in out]
    ready = re.search(r"kiosk ready in ([0-9.]+) s", out)
    run.step("console", secs, code == 0 and not missing, exit=code, missing=missing)
    return {"ready_s": float(ready.group(1)) if ready else None, "session": CONSOLE_SESSION.strip().split("\n"),
            "missing": missing}


def tests(run: Run, rootdir: Path, paths: list[str]) -> tuple[dict, dict]:
    code, _, secs = root.chroot(rootdir, [f"{VENV}/bin/pip", "install", "--no-cache-dir", "--report",
                                          "/var/tmp/pip-test-report.json", *TEST_TOOLS],
                                timeout=1800, log=run.logs / "test-tools.log")
    run.step("test_tools", secs, code == 0, exit=code)
    report = rootdir / "var/tmp/pip-test-report.json"
    tools = pip_report.summary(pip_report.read_report(report.read_text())) if report.exists() else {}
    xml = rootdir / "var/tmp/arm64-junit.xml"
    xml.unlink(missing_ok=True)
    env = {"PYTHONDONTWRITEBYTECODE": "1"}
    code, out, secs = root.chroot(rootdir, [f"{VENV}/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                            "--junitxml=/var/tmp/arm64-junit.xml",
                                            *paths], env=env, cwd=SRC, timeout=7200, log=run.logs / "tests.log")
    result = junit.counts(xml.read_text()) if xml.exists() else {"error": out[-2000:]}
    run.step("tests", secs, code == 0, exit=code)
    return {"paths": paths, **result}, tools


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("/var/cache/kiosk-arm64"),
                    help="the pristine debootstrap root and apt's downloads, kept between runs")
    ap.add_argument("--work", type=Path, default=Path("/var/tmp/kiosk-arm64"), help="the run's root and logs")
    ap.add_argument("--fresh-root", action="store_true", help="debootstrap again instead of using the cache")
    ap.add_argument("--tests", default=",".join(HEADLESS_TESTS), help="test paths, comma-separated")
    args = ap.parse_args(argv)
    run = Run(args.work / "logs")
    result: dict = {"metric": "arm64_run", "unit": "s", "host": platform.machine()}
    prepare_host(run)
    base, debootstrap_s, cached = root.cached_base(args.cache, fresh=args.fresh_root)
    result["debootstrap"] = {"s": round(debootstrap_s, 1), "cached": cached}
    t0 = time.monotonic()
    rootdir = root.fresh_copy(base, args.work / "root")
    files = root.copy_repository(REPO, rootdir, SRC)
    result["host_adaptations"] = {"resolv_conf": True, "ca_certificates": root.add_host_network_settings(rootdir)}
    run.step("root", time.monotonic() - t0, True, cached=cached, repository_files=files)
    with root.mounted(rootdir, args.cache / "apt-archives"):
        code, out, secs = root.chroot(rootdir, ["/bin/sh", "-c", "uname -m; . /etc/os-release; echo $PRETTY_NAME"],
                                      log=run.logs / "uname.log")
        arch, _, os_name = out.strip().partition("\n")
        run.step("uname", secs, code == 0 and arch == "aarch64", arch=arch)
        result["guest"] = {"arch": arch, "os": os_name}
        if run.ok:
            result["wheels"] = install(run, rootdir)
        if run.ok:
            _, pyver, _ = root.chroot(rootdir, [f"{VENV}/bin/python", "-c", "import platform; print("
                                                "platform.python_version(), platform.machine())"],
                                        log=run.logs / "python.log")
            result["guest"]["python"] = pyver.strip()
            result["console"] = console(run, rootdir)
            result["tests"], result["test_tool_wheels"] = tests(run, rootdir, args.tests.split(","))
    counted = result.get("tests", {})
    result.update(value=round(time.monotonic() - run.t0, 1), ok=run.ok,
                  tests_passed=counted.get("passed"),
                  tests_failed=(counted["failed"] + counted["errors"]) if "failed" in counted else None,
                  steps=run.steps, logs=str(run.logs))
    (args.work / "result.json").write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return 0 if run.ok else 1


def _changes(install_output: str) -> int | None:
    found = re.search(r"install done: (\d+) change", install_output)
    return int(found.group(1)) if found else None


if __name__ == "__main__":
    sys.exit(main())
