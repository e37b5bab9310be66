"""Diversion at peaks, the kiosk's half: with HQ's neighbours on the kiosk (`KioskApp.set_neighbours`),
the customer screen names the nearest branches with their distance and waiting only during a
level 1 or 2 alert, in the screen's language; and the ticket printed at a peak carries them (the
people waiting there for the ticket's own service), a ticket at level 0 does not. The hall reaches
its levels for real: tickets waiting at one open counter (level 1 at 2.5 per counter, 2 at 3.5)."""
from __future__ import annotations

from ui.devtools import harness as h

NEIGHBOURS = {"v": 1, "ts": "2026-12-06T10:00:00+08:00", "neighbours": [
    {"branch": "sh-002", "name": {"zh": "陆家嘴营业厅", "en": "Lujiazui"}, "km": 1.2, "online": True, "waiting": 3,
     "services": [{"service": "A", "waiting": 1, "estimate_s": 120.0}, {"service": "B", "waiting": 2,
                                                                       "estimate_s": 300.0}]},
    {"branch": "sh-003", "name": {"zh": "人民广场营业厅", "en": "People's Square"}, "km": 2.46, "online": True,
     "waiting": 0, "services": []}]}
ZH = "附近网点：陆家嘴营业厅 1.2 km，等候 3 人；人民广场营业厅 2.5 km，等候 0 人"
EN = "Nearby: Lujiazui 1.2 km, 3 waiting; People's Square 2.5 km, 0 waiting"


def level(kiosk) -> int:
    return int(kiosk.snapshot()["alert"]["level"])


def crowd(kiosk, n: int, service: str = "B") -> None:
    kiosk.set_counter(3, "open").result()
    for _ in range(n):
        kiosk.issue(service).result()


def test_the_nearby_line_shows_at_a_peak_only(kiosk, ui):
    screen = ui.sm.get_screen("customer")
    kiosk.set_neighbours(NEIGHBOURS)
    crowd(kiosk, 2)
    ui.refresh()
    assert level(kiosk) == 0
    assert screen.nearby_text == "" and screen.ids.nearby.text == ""
    kiosk.issue("B").result()
    ui.refresh()
    assert level(kiosk) == 1
    assert screen.nearby_text == ZH and screen.ids.nearby.text == ZH
    h.pump(3)
    panel = screen.ids.nearby.parent
    assert panel.height > 0 and panel.opacity == 1
    ui.toggle_lang()
    ui.refresh()
    assert screen.nearby_text == EN
    kiosk.issue("B").result()
    ui.refresh()
    assert level(kiosk) == 2 and screen.nearby_text == EN
    for _ in range(3):                             # the crowd is served: back to level 0, the line goes
        kiosk.call_next(3).result()
    ui.refresh()
    assert level(kiosk) == 0 and screen.nearby_text == ""


def test_at_a_peak_without_neighbours_from_hq_there_is_no_line(kiosk, ui):
    screen = ui.sm.get_screen("customer")
    crowd(kiosk, 3)
    ui.refresh()
    assert level(kiosk) == 1
    assert kiosk.neighbours() is None and screen.nearby_text == ""
    kiosk.set_neighbours({"v": 1, "ts": "2026-12-06T10:00:00+08:00", "neighbours": []})
    ui.refresh()
    assert screen.nearby_text == ""
    kiosk.set_neighbours(NEIGHBOURS)
    ui.refresh()
    assert screen.nearby_text == ZH


def test_the_ticket_printed_at_a_peak_names_the_nearby_branches(mk, hall, open_ui):
    from kiosk.app.outputs import Outputs
    outputs = Outputs(mk(), simulate=True)
    kiosk = hall(outputs.settings, devices=outputs)
    kiosk.set_neighbours(NEIGHBOURS)
    printer = outputs.hw.printer
    crowd(kiosk, 2, "B")                           # B001, B002 at level 0
    kiosk.issue("B").result()                      # B003: three waiting at one counter, level 1
    kiosk.issue("A").result()                      # A001 at level 1
    h.pump_until(lambda: len(printer.printed) == 4, timeout=20)
    jobs = {p.job.number: p.job for p in printer.printed}
    assert jobs["B001"].nearby == () and jobs["B002"].nearby == ()
    b3 = jobs["B003"].nearby
    assert [(n.name["zh"], n.km, n.waiting) for n in b3] == [("陆家嘴营业厅", 1.2, 2), ("人民广场营业厅", 2.46, 0)]
    assert [n.waiting for n in jobs["A001"].nearby] == [1, 0]     # the same service's waiting there
