"""Peak actions where the customer sees them: at level 1 the self-service hint on the service's
button and on its printed ticket; at level 2, with `alerts.stop_issuing_at_level2`, a service
that stops issuing shows where to go instead. The hall reaches its levels for real: tickets
waiting at one open counter (level 1 at 2.5 per counter, level 2 at 3.5)."""
from __future__ import annotations

import pytest

from kiosk.domain.errors import Diverted
from ui.devtools import harness as h
from ui.i18n import tr
from ui.texts import error_text

A_HINT_ZH = "缴费也可在自助终端或手机营业厅办理"


def customer(ui):
    return ui.sm.get_screen("customer")


def level(kiosk) -> int:
    return int(kiosk.snapshot()["alert"]["level"])


def crowd(kiosk, n: int, service: str = "B") -> None:
    """Counter 3 open, `n` tickets waiting."""
    kiosk.set_counter(3, "open").result()
    for _ in range(n):
        kiosk.issue(service).result()


def stop_issuing(data):
    data["alerts"]["stop_issuing_at_level2"] = True


def test_level_1_puts_the_hint_on_the_button_of_a_service_with_self_service(kiosk, ui):
    screen = customer(ui)
    crowd(kiosk, 2)
    ui.refresh()
    assert level(kiosk) == 0
    assert tr("Or use self-service", "zh") not in screen.buttons["A"].detail
    kiosk.issue("B").result()
    ui.refresh()
    assert level(kiosk) == 1
    assert screen.buttons["A"].detail.endswith("\n" + tr("Or use self-service", "zh"))
    assert tr("Or use self-service", "zh") not in screen.buttons["B"].detail      # B has no self-service way
    assert A_HINT_ZH in screen.hint_text
    assert not screen.buttons["A"].disabled


def test_the_ticket_printed_at_a_peak_carries_the_hint(mk, hall, open_ui):
    from kiosk.app.outputs import Outputs
    outputs = Outputs(mk(), simulate=True)
    kiosk = hall(outputs.settings, devices=outputs)
    printer = outputs.hw.printer
    crowd(kiosk, 1, "A")                           # A001 at level 0
    kiosk.issue("B").result()
    kiosk.issue("A").result()                      # A002: three waiting at one counter, level 1
    kiosk.issue("B").result()                      # B002 at level 1: B has no self-service way
    h.pump_until(lambda: len(printer.printed) == 4, timeout=20)
    jobs = {p.job.number: p.job for p in printer.printed}
    assert jobs["A001"].self_service is None
    assert jobs["A002"].self_service == {"zh": A_HINT_ZH, "en": kiosk.settings.service("A").self_service.en}
    assert jobs["B002"].self_service is None


def test_a_diverted_service_says_where_to_go_instead(mk, hall, open_ui):
    kiosk = hall(mk(edit=stop_issuing), devices=h.MockDevices())
    ui = open_ui(kiosk)
    screen = customer(ui)
    crowd(kiosk, 4)
    ui.refresh()
    assert level(kiosk) == 2
    a, b = screen.buttons["A"], screen.buttons["B"]
    assert a.disabled and a.detail == tr("Very busy: no tickets here now", "zh") + "\n" + A_HINT_ZH
    assert not b.disabled                           # no self-service way: B still issues
    h.tap(a)
    h.pump(5)
    assert ui.sm.current == "customer" and kiosk.snapshot()["waiting"] == 4
    with pytest.raises(Diverted) as refused:
        kiosk.issue("A").result()
    assert error_text(refused.value, "zh") == tr(
        "It is very busy: this service takes no tickets now. Please use self-service.", "zh")
    ui.toggle_lang()
    assert a.detail.endswith("self-service terminals or in the app")


def test_the_tv_says_where_to_go_instead(mk, hall, open_ui):
    kiosk = hall(mk(edit=stop_issuing))
    crowd(kiosk, 4)
    ui = open_ui(kiosk, "display")
    ui.lang = "zh"
    ui.refresh()
    rows = {r.name: r for r in ui.screen("display").ids.waits.children}
    assert rows["缴费"].wait == tr("please use self-service", "zh")
    assert rows["综合业务"].wait != tr("please use self-service", "zh")


def test_without_stop_issuing_level_2_still_issues(kiosk, ui):
    crowd(kiosk, 4)
    ui.refresh()
    assert level(kiosk) == 2
    assert not customer(ui).buttons["A"].disabled
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
