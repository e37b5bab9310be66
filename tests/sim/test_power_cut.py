"""Power cuts in a virtual machine (kiosk.sim.vm): the checks that judge a boot's state, and a
short campaign of real cuts (SIGKILL to QEMU) that CI runs with `-m slow`:

    python3 -m pytest -q -m slow tests/sim/test_power_cut.py

The campaign fails, never skips, when QEMU, debootstrap or mkfs.ext4 is missing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.sim.vm.campaign import Campaign, CampaignPlan
from kiosk.sim.vm.guest_load import kernel_args
from kiosk.sim.vm.ledger import Ledger
from kiosk.sim.vm.machine import MachineSpec, VirtualMachine
from tests.kit.settings import REPO

DAY = "2026-12-06"


def _state(tickets, *, held=(), called_twice=(), outbox=None, check_db=None):
    return {"tickets": [list(t) for t in tickets], "held": [list(h) for h in held],
            "called_twice": [list(c) for c in called_twice],
            "outbox": outbox or [len(tickets), 1 if tickets else None, len(tickets) or None],
            "issued_events": len(tickets), "check_db": check_db or {"rc": 0, "ok": True, "problems": []}}


def _ledger(*lines):
    ledger = Ledger()
    for line in lines:
        ledger.acknowledge(line)
    return ledger


def test_a_state_holding_everything_acknowledged_is_clean():
    ledger = _ledger({"ack": "issued", "ticket": "A001", "id": 1, "day": DAY},
                     {"ack": "issued", "ticket": "A002", "id": 2, "day": DAY},
                     {"ack": "called", "ticket": "A001", "id": 1, "counter": 1},
                     {"ack": "finished", "ticket": "A001", "id": 1, "counter": 1})
    found = ledger.check(_state([(1, "A001", DAY, "done"), (2, "A002", DAY, "waiting"), (3, "A003", DAY, "waiting")]))
    assert found.clean, found.describe()
    assert ledger.total == 4


def test_a_ticket_or_a_call_missing_after_the_cut_is_lost():
    ledger = _ledger({"ack": "issued", "ticket": "A001", "id": 1, "day": DAY},
                     {"ack": "issued", "ticket": "A002", "id": 2, "day": DAY},
                     {"ack": "called", "ticket": "A001", "id": 1, "counter": 1})
    found = ledger.check(_state([(1, "A001", DAY, "waiting")]))
    assert len(found.lost) == 2 and "A002" in found.lost[0] and "call of A001" in found.lost[1]


def test_a_number_given_twice_is_a_duplicate_also_when_the_first_row_was_lost():
    ledger = _ledger({"ack": "issued", "ticket": "A001", "id": 1, "day": DAY},
                     {"ack": "issued", "ticket": "A001", "id": 2, "day": DAY})
    found = ledger.check(_state([(1, "A001", DAY, "waiting"), (2, "A001", DAY, "waiting")]))
    assert len(found.duplicates) == 2


def test_a_ticket_called_twice_or_held_by_two_counters_is_a_double_call():
    ledger = _ledger({"ack": "called", "ticket": "A001", "id": 1, "counter": 1},
                     {"ack": "called", "ticket": "A001", "id": 1, "counter": 2})
    found = ledger.check(_state([(1, "A001", DAY, "called")], held=[(1, 1), (2, 1)], called_twice=[(1, 2)]))
    assert len(found.double_calls) == 3


def test_a_gap_in_the_outbox_and_an_unclean_check_db_are_reported():
    found = Ledger().check(_state([(1, "A001", DAY, "waiting")], outbox=[2, 1, 3],
                                  check_db={"rc": 1, "ok": False, "problems": ["database disk image is malformed"]}))
    assert found.outbox and found.check_db == ["database disk image is malformed"]


def test_the_guest_reads_its_orders_from_the_kernel_command_line():
    assert kernel_args("root=/dev/vda quiet kiosk.boot=3 kiosk.seed=42 kiosk.load=0") == {
        "boot": "3", "seed": "42", "load": "0"}


def test_the_root_disk_loses_what_the_guest_did_not_write_out(tmp_path):
    spec = MachineSpec(tmp_path / "k", tmp_path / "i", tmp_path / "root.ext4", tmp_path / "p.ext4")
    cmd = " ".join(VirtualMachine(spec, tmp_path, 0, 1).command()) if shutil.which("qemu-system-x86_64") else ""
    if not cmd:
        pytest.fail("qemu-system-x86_64 is missing: .ci/setup installs qemu-system-x86")
    assert f"file={tmp_path / 'root.ext4'},format=raw,if=virtio,cache=none" in cmd
    assert "-no-reboot" in cmd and "kiosk.load=1" in cmd


@pytest.mark.slow
def test_power_cuts_in_a_virtual_machine_lose_nothing_acknowledged(request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the VM campaign (minutes) runs only when selected: pytest -m slow tests/sim/test_power_cut.py")
    missing = [tool for tool in ("qemu-system-x86_64", "debootstrap", "mkfs.ext4") if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: .ci/setup installs qemu-system-x86, debootstrap and e2fsprogs"
    result = Campaign(CampaignPlan(cuts=3, seed=17), Path(REPO), say=print).run()
    print(result)
    assert result["acknowledged"] > 0 and result["checks"] >= 2
    assert result["lost"] == result["duplicates"] == result["double_calls"] == 0, result["problems"]
    assert result["outbox_breaks"] == result["check_db_failures"] == result["not_ready"] == 0, result["problems"]
