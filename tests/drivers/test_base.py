"""Fault reporting and the worker: changes only, paired recoveries, time limits."""

import threading
import time

import pytest

from drivers.base import DeviceError, DeviceTimeout, FaultKind, FaultTracker
from drivers.worker import DeviceWorker


def test_tracker_reports_changes_and_pairs_recoveries(faults):
    t = FaultTracker("printer", faults)
    t.fault(FaultKind.PAPER_NEAR_END, "near end")
    t.fault(FaultKind.PAPER_NEAR_END, "still near end")
    t.fault(FaultKind.COVER_OPEN, "cover")
    t.clear()
    t.clear()
    assert faults.calls == [("printer", "paper_near_end", "near end"),
                            ("printer", "recovered", "paper_near_end"),
                            ("printer", "cover_open", "cover"),
                            ("printer", "recovered", "cover_open")]


def test_tracker_starts_in_the_fault_its_listener_remembers(faults):
    faults.known_fault = {"printer": ("paper_out", "out"), "sign": ("melted", "?")}.get
    t = FaultTracker("printer", faults)
    assert t.kind is FaultKind.PAPER_OUT and t.reason == "out"
    t.fault(FaultKind.PAPER_OUT, "still out")                  # known: not reported again
    t.clear()
    assert faults.calls == [("printer", "recovered", "paper_out")]
    assert FaultTracker("sign", faults).kind is None           # a kind this version does not know
    assert FaultTracker("vfd", faults).kind is None            # nothing remembered


def test_broken_listener_is_contained():
    def boom(*args):
        raise RuntimeError("listener bug")

    t = FaultTracker("x", boom)
    t.fault(FaultKind.ERROR, "e")
    assert t.kind is FaultKind.ERROR


def test_worker_runs_in_order_and_times_out():
    reasons = []
    w = DeviceWorker("w", default_timeout_s=0.1, on_timeout=reasons.append)
    release = threading.Event()
    try:
        order = []
        futs = [w.submit(order.append, i) for i in range(5)]
        assert [f.result(5) for f in futs] == [None] * 5 and order == [0, 1, 2, 3, 4]
        stuck = w.submit(release.wait, 30, name="stuck")
        with pytest.raises(DeviceTimeout):
            stuck.result(10)
        assert reasons and "stuck" in reasons[0]
        release.set()
        assert w.submit(lambda: 42, timeout_s=None).result(10) == 42
        fired = threading.Event()
        w.call_later(0.01, fired.set)
        assert fired.wait(10)
        cancelled = threading.Event()
        w.call_later(0.05, cancelled.set).cancel()
        time.sleep(0.1)
        assert not cancelled.is_set()
        with pytest.raises(ZeroDivisionError):
            w.submit(lambda: 1 / 0).result(5)
    finally:
        release.set()
        w.close()
    with pytest.raises(DeviceError):
        w.submit(lambda: 1).result(1)
