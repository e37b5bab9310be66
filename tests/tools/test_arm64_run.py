"""The pure parts of `python -m bench.arm64_run`: pip's report, pip's log, JUnit counts, binfmt lines."""
from __future__ import annotations

import json

import pytest

from bench.arm64 import binfmt, junit, pip_report
from bench.arm64_run import CONSOLE_EXPECTS, _changes

FILES = "https://files.pythonhosted.org/packages/ab/cd"


def entry(name: str, version: str, url: str, *, local: bool = False) -> dict:
    info = {"url": url, "dir_info": {}} if local else {"url": url, "archive_info": {"hash": "sha256=00"}}
    return {"download_info": info, "is_direct": local, "requested": local,
            "metadata": {"metadata_version": "2.1", "name": name, "version": version}}


REPORT = json.dumps({"version": "1", "pip_version": "23.0.1", "install": [
    entry("kiosk", "0.1.0", "file:///srv/kiosk", local=True),
    entry("Kivy", "2.3.1", f"{FILES}/Kivy-2.3.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
    entry("pydantic_core", "2.27.2",
          f"{FILES}/pydantic_core-2.27.2-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
    entry("paho-mqtt", "2.1.0", f"{FILES}/paho_mqtt-2.1.0-py3-none-any.whl"),
    entry("pyusb", "1.3.1", f"{FILES}/pyusb-1.3.1.tar.gz"),
], "environment": {"platform_machine": "aarch64"}})


def test_a_wheel_with_a_platform_tag_is_binary_and_keeps_its_tag():
    kivy = next(i for i in pip_report.read_report(REPORT) if i.name == "Kivy")
    assert kivy.source == "binary wheel"
    assert kivy.platform == "manylinux_2_17_aarch64.manylinux2014_aarch64"
    assert not kivy.built_here


def test_pure_wheels_sdists_and_the_local_project_are_told_apart():
    by_name = {i.name: i for i in pip_report.read_report(REPORT)}
    assert by_name["paho-mqtt"].source == "pure wheel" and by_name["paho-mqtt"].platform == "any"
    assert by_name["pyusb"].source == "sdist" and by_name["pyusb"].built_here
    assert by_name["kiosk"].source == "local directory" and by_name["kiosk"].built_here


def test_the_summary_lists_each_package_once_by_origin():
    s = pip_report.summary(pip_report.read_report(REPORT))
    assert s == {
        "binary_wheels": ["Kivy 2.3.1 (manylinux_2_17_aarch64.manylinux2014_aarch64)",
                          "pydantic_core 2.27.2 (manylinux_2_17_aarch64.manylinux2014_aarch64)"],
        "pure_wheels": ["paho-mqtt 2.1.0"],
        "built_from_source": ["kiosk", "pyusb"],
    }


def test_a_build_named_in_pip_s_log_counts_as_built_even_when_the_report_says_wheel():
    log = ("2026-12-01T10:00:00,1 Building wheel for kiosk (pyproject.toml): started\n"
           "2026-12-01T10:00:09,2 Building wheel for pydantic_core (pyproject.toml): started\n"
           "2026-12-01T10:00:09,3 Building wheel for kiosk (pyproject.toml): finished with status 'done'\n")
    assert pip_report.built_in_log(log) == ["kiosk", "pydantic_core"]
    s = pip_report.summary(pip_report.read_report(REPORT), log)
    assert "pydantic_core" in s["built_from_source"]
    assert not any(w.startswith("pydantic_core") for w in s["binary_wheels"])


def test_pip_s_run_time_is_read_from_its_log_s_time_stamps():
    log = ("2026-12-06T12:18:38,314 Using pip 23.0.1\n  continued line\n"
           "2026-12-06T12:19:53,030 Removed build tracker\n")
    assert pip_report.log_seconds(log) == 74.7
    assert pip_report.log_seconds("no stamps") is None


def test_an_unknown_report_version_is_refused():
    with pytest.raises(ValueError, match="version"):
        pip_report.read_report(json.dumps({"version": "2", "install": []}))


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="12.3">
<testcase classname="tests.domain.test_clock" name="test_a" time="0.1"/>
<testcase classname="tests.domain.test_clock" name="test_b" time="0.1"/>
<testcase classname="tests.engine.test_queue" name="test_c" time="0.1"><failure message="x">boom</failure></testcase>
<testcase classname="tests.engine.test_queue" name="test_d" time="0.1"><error message="y">oops</error></testcase>
<testcase classname="tests.drivers.test_gpio" name="test_e" time="0.1"><skipped message="z"/></testcase>
</testsuite></testsuites>"""


def test_junit_counts_and_names_the_failures():
    c = junit.counts(JUNIT)
    assert {k: c[k] for k in ("tests", "passed", "failed", "errors", "skipped")} == \
        {"tests": 5, "passed": 2, "failed": 1, "errors": 1, "skipped": 1}
    assert c["failures"] == ["tests.engine.test_queue::test_c", "tests.engine.test_queue::test_d"]


def test_binfmt_entry_name_is_read_from_debian_s_line():
    line = (r":qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00:\xff\xff\xff\xff\xff\xff\xff\x00"
            ":/usr/libexec/qemu-binfmt/aarch64-binfmt-P:OPF")
    assert binfmt.entry_name(line) == "qemu-aarch64"
    with pytest.raises(ValueError):
        binfmt.entry_name("# a comment")


def test_the_second_install_s_change_count_is_read_and_the_session_checks_a_call():
    assert _changes("kiosk-install: venv up to date\nkiosk-install: install done: 0 change(s)\n") == 0
    assert _changes("kiosk-install: install done: 12 change(s)\n") == 12
    assert _changes("install.sh: run as root\n") is None
    assert "A001 → counter 1" in CONSOLE_EXPECTS
