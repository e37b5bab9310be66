"""`kiosk … | head -1`: a command whose reader went away ends quietly (exit 141, as a command killed
by SIGPIPE), with no BrokenPipeError traceback on stderr. Real pipes, real processes."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from tests.kit.daysim import simulated_week
from tests.kit.settings import REPO

WEEK = ("--from", "2026-11-23", "--to", "2026-11-29")
PIPE_BUFFER = 64 * 1024  # Linux's default pipe capacity
SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


@pytest.fixture
def week_data(tmp_path, tmp_path_factory):
    """A data directory with a copy of the simulated week (commands may write to their database)."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(simulated_week(tmp_path_factory), data / "kiosk.db")
    return data


def kiosk_env(data) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    env["KIOSK_DATA"] = str(data)
    return env


def into_a_closed_pipe(argv: list[str], data) -> subprocess.CompletedProcess:
    """Run `python -m kiosk argv` writing into a pipe whose reader has already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "kiosk", *argv], stdout=write_end, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, env=kiosk_env(data), timeout=120)
    finally:
        os.close(write_end)


def piped_into_head(argv: list[str], data) -> subprocess.CompletedProcess:
    """`python -m kiosk argv | head -1` in a shell; the exit status is kiosk's (pipefail)."""
    kiosk = shlex.join([sys.executable, "-m", "kiosk", *argv])
    return subprocess.run(["bash", "-c", f"set -o pipefail; {kiosk} | head -1"], capture_output=True, text=True,
                           cwd=REPO, env=kiosk_env(data), timeout=120)


@pytest.mark.parametrize("argv", [["status"], ["status", "--json"], ["stats", *WEEK], ["stats", *WEEK, "--json"]],
                         ids=" ".join)
def test_a_reader_that_went_away_ends_the_command_quietly(argv, week_data):
    proc = into_a_closed_pipe(argv, week_data)
    assert proc.stderr == ""
    assert proc.returncode == SIGPIPE_STATUS


def test_status_into_head(week_data):
    """The issue's command as typed. Whether head leaves before kiosk's last write is a race (with
    PYTHONUNBUFFERED, print's newline is a write of its own); the closed pipe above is the sure form."""
    proc = piped_into_head(["status"], week_data)
    assert "demo-001" in proc.stdout and proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr
    assert proc.returncode in (0, SIGPIPE_STATUS)  # 0 when head read before it left


def test_a_long_output_into_head(week_data):
    """More than a pipe holds: head leaves while kiosk still writes, every time."""
    full = subprocess.run([sys.executable, "-m", "kiosk", "events"], capture_output=True, text=True, cwd=REPO,
                          env=kiosk_env(week_data), timeout=120, check=True).stdout
    assert len(full.encode()) > 2 * PIPE_BUFFER
    proc = piped_into_head(["events"], week_data)
    assert proc.stdout == full.splitlines(keepends=True)[0]
    assert proc.stderr == ""
    assert proc.returncode == SIGPIPE_STATUS
