"""The customer screen, driven by simulated fingers on the real widgets."""
from __future__ import annotations

import threading

from kivy.core.window import Window

from ui.devtools import harness as h
from ui.i18n import tr
from ui.widgets import qr_matrix



def customer(ui):
    return ui.sm.get_screen("customer")


def result(ui):
    return ui.sm.get_screen("result")


def waiting(kiosk, prefix):
    return next(s["waiting"] for s in kiosk.snapshot()["services"] if s["service"] == prefix)


def one_tier(data):
    """A hall with one priority tier (the configuration's default): the VIP button needs no tier choice.
    Several tiers: tests/ui/test_ui_tiers.py."""
    data["tiers"] = [{"id": "vip", "name": {"zh": "贵宾", "en": "VIP"}}]


def test_tap_issues_a_ticket_prints_it_and_shows_the_number(kiosk, printer, ui):
    assert ui.sm.current == "customer"
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    res = result(ui)
    assert res.number == "A001"
    assert waiting(kiosk, "A") == 1
    h.pump_until(lambda: printer.jobs == ["A001"])
    assert res.take_text == tr("Please take your ticket", "zh")
    assert res.ahead_text == tr("You are next", "zh")
    assert "分钟" in res.wait_text or "无需等待" in res.wait_text
    assert res.qr is None and res.problem == ""


def test_double_tap_gives_one_ticket(kiosk, printer, ui):
    btn = customer(ui).buttons["B"]
    h.tap(btn)
    h.tap(btn)
    h.pump_until(lambda: ui.sm.current == "result")
    h.pump(5)
    assert waiting(kiosk, "B") == 1


def test_back_to_start_after_the_timeout(mk, hall, open_ui):
    kiosk = hall(mk(result_timeout_s=0.2), devices=h.MockDevices())
    ui = open_ui(kiosk)
    ui.toggle_lang()
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    h.pump_until(lambda: ui.sm.current == "customer")
    assert ui.lang == "zh"            # the next customer starts in the default language


def test_done_button_goes_back(kiosk, printer, ui):
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    h.tap(result(ui).ids.done_btn)
    assert ui.sm.current == "customer"


def test_faulty_printer_still_issues_and_shows_a_qr_code_with_the_reason(kiosk, printer, ui):
    printer.set_state("fault", "paper_out")
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    res = result(ui)
    assert waiting(kiosk, "A") == 1 and printer.jobs == []
    assert res.problem == tr("The printer is out of paper.", "zh")
    assert res.qr is not None and res.ids.qr.opacity == 1
    # the texture is the QR code of the ticket (one texel per module, bottom row first)
    matrix = qr_matrix(res.qr_data(res.ticket))
    n = len(matrix)
    assert res.qr.size == (n, n)
    pixels = res.qr.pixels
    for y in (0, n // 2, n - 1):
        row = [pixels[((n - 1 - y) * n + x) * 4] == 0 for x in range(n)]
        assert row == matrix[y]
    assert "A001" in res.qr_data(res.ticket)


def test_no_printer_attached_shows_the_qr_code(kiosk, ui):
    h.tap(customer(ui).buttons["B"])
    h.pump_until(lambda: ui.sm.current == "result")
    assert result(ui).qr is not None
    assert result(ui).problem == tr("No ticket printer is connected.", "zh")


def test_a_failed_print_reported_later_switches_to_the_qr_code(kiosk, printer, ui):
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    res = result(ui)
    assert res.qr is None
    kiosk.record_print(res.ticket.ticket_id, False, "cover_open").result()
    h.pump_until(lambda: res.qr is not None)
    assert res.problem == tr("The printer cover is open.", "zh")


def test_language_switch_changes_the_texts(kiosk, ui):
    screen = customer(ui)
    assert screen.ids.prompt.text == "请选择业务"
    assert screen.buttons["A"].title == "缴费"
    assert screen.ids.lang_btn.text == "English"
    h.tap(screen.ids.lang_btn)
    assert ui.lang == "en"
    assert screen.ids.prompt.text == "Please choose a service"
    assert screen.buttons["A"].title == "Payments"
    assert "waiting" in screen.buttons["A"].detail
    assert screen.ids.lang_btn.text == "中文"
    h.tap(screen.ids.lang_btn)
    assert screen.ids.prompt.text == "请选择业务"


def test_service_outside_its_hours_is_disabled_with_the_reason(mk, hall, open_ui):
    kiosk = hall(mk(services={"B": {"hours": ["13:00-17:00"]}}))
    ui = open_ui(kiosk)
    btn = customer(ui).buttons["B"]
    assert btn.disabled
    assert "13:00-17:00" in btn.detail and "暂停办理" in btn.detail
    h.tap(btn)
    assert ui.sm.current == "customer" and waiting(kiosk, "B") == 0


def test_service_at_its_daily_cap_is_disabled(mk, hall, open_ui):
    kiosk = hall(mk(services={"A": {"daily_cap": 1}}))
    ui = open_ui(kiosk)
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    ui.go_home()
    btn = customer(ui).buttons["A"]
    assert btn.disabled and btn.detail == tr("No more tickets today", "zh")


def test_refused_ticket_shows_why(kiosk, ui):
    screen = customer(ui)
    kiosk.set_service_hours("A", ["13:00-14:00"]).result()   # closed since the last refresh
    screen.buttons["A"].disabled = False
    h.tap(screen.buttons["A"])
    h.pump_until(lambda: screen.message)
    assert screen.message == tr("This service is closed now.", "zh")
    assert ui.sm.current == "customer"


def test_peak_alert_shows_the_self_service_hint(kiosk, ui):
    screen = customer(ui)
    assert screen.hint_text == ""
    h.force_alert(kiosk, 1)
    ui.refresh()
    assert "自助终端" in screen.hint_text          # service A's self_service text in zh
    ui.toggle_lang()
    assert "self-service" in screen.hint_text


def test_vip_button_issues_a_priority_ticket(mk, hall, open_ui):
    kiosk = hall(mk(edit=one_tier), devices=h.MockDevices())
    ui = open_ui(kiosk)
    assert "V" not in customer(ui).buttons        # VIP services are reached through the VIP way in
    h.tap(customer(ui).ids.vip_btn)
    h.pump_until(lambda: ui.sm.current == "result")
    t = result(ui).ticket
    assert t.ticket.startswith("V") and t.priority == 1


def test_member_code_on_the_keypad(mk, hall, open_ui, tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("# members\n123456\n")
    kiosk = hall(mk(vip_entry="code", vip_codes_file=str(codes), edit=one_tier))
    ui = open_ui(kiosk)
    assert customer(ui).ids.vip_btn.opacity == 0
    h.tap(customer(ui).ids.code_btn)
    assert ui.sm.current == "vip"
    vip = ui.sm.get_screen("vip")
    for key in "999999":
        h.tap(vip.ids.keypad.keys[key])
    h.tap(vip.ids.ok_btn)
    assert vip.message == tr("This member code is not valid. Please ask a member of staff.", "zh")
    assert ui.sm.current == "vip"
    for key in "1234567":
        h.tap(vip.ids.keypad.keys[key])
    h.tap(vip.ids.keypad.keys["del"])
    assert vip.code == "123456"
    h.tap(vip.ids.ok_btn)
    h.pump_until(lambda: ui.sm.current == "result")
    t = result(ui).ticket
    assert t.ticket.startswith("V") and t.priority == 1
    assert kiosk.ticket(t.ticket).result()["member"] == "123456"


def test_barcode_reader_types_the_member_code(mk, hall, open_ui):
    kiosk = hall(mk(vip_entry="both", edit=one_tier))
    ui = open_ui(kiosk)
    for ch in "88776655":
        Window.dispatch("on_key_down", ord(ch), 0, ch, [])
    Window.dispatch("on_key_down", 13, 40, None, [])
    h.pump_until(lambda: ui.sm.current == "result")
    t = result(ui).ticket
    assert t.priority == 1 and kiosk.ticket(t.ticket).result()["member"] == "88776655"


def test_priority_without_a_vip_service_lets_the_customer_choose(mk, hall, open_ui):
    def no_vip(data):
        one_tier(data)
        data["services"] = [s for s in data["services"] if s["prefix"] != "V"]
        for c in data["counters"]:
            c["services"] = [s for s in c["services"] if s != "V"]
    kiosk = hall(mk(edit=no_vip))
    ui = open_ui(kiosk)
    screen = customer(ui)
    h.tap(screen.ids.vip_btn)
    assert screen.priority_mode and screen.ids.prompt.text == tr("Priority ticket: please choose a service", "zh")
    h.tap(screen.buttons["B"])
    h.pump_until(lambda: ui.sm.current == "result")
    t = result(ui).ticket
    assert t.ticket.startswith("B") and t.priority == 1


def test_core_events_reach_the_widgets_on_the_kivy_thread(kiosk, ui):
    seen = []
    screen = customer(ui)
    screen.on_core_event = lambda ev: seen.append((ev["type"], threading.current_thread()))
    before = screen.buttons["B"].detail
    done = threading.Event()
    threading.Thread(target=lambda: (kiosk.issue("B").result(), kiosk.issue("B").result(), done.set())).start()
    done.wait(10)
    h.pump_until(lambda: screen.buttons["B"].detail != before)
    assert "2人等候" in screen.buttons["B"].detail
    assert seen and all(t is threading.main_thread() for _, t in seen)


def test_with_the_real_outputs_and_the_virtual_printer(mk, hall, open_ui):
    """kiosk.app.outputs with `simulate=True`: the virtual printer prints the ticket; with its
    paper out the ticket is still issued and the QR code says why."""
    from kiosk.app.outputs import Outputs
    outputs = Outputs(mk(), simulate=True)
    kiosk = hall(outputs.settings, devices=outputs)
    printer = outputs.hw.printer
    ui = open_ui(kiosk)
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    assert result(ui).qr is None
    h.pump_until(lambda: [t.job.number for t in printer.printed] == ["A001"])
    h.tap(result(ui).ids.done_btn)
    printer.set_faults(paper_out=True)
    h.pump_until(lambda: kiosk.device_status()["printer"]["fault"] == "paper_out")
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    assert result(ui).number == "A002" and waiting(kiosk, "A") == 2
    assert result(ui).qr is not None
    assert result(ui).problem == tr("The printer is out of paper.", "zh")


def test_with_a_follow_url_the_on_screen_qr_leads_to_the_tickets_page(hall, open_ui, mk):
    def follow(data):
        data["phone"] = {"follow_url": "https://hq.example.com/t/{token}"}
    kiosk = hall(mk(edit=follow))          # no printer attached: the QR code is on the screen
    ui = open_ui(kiosk)
    h.tap(customer(ui).buttons["B"])
    h.pump_until(lambda: ui.sm.current == "result")
    res = result(ui)
    token = kiosk.ticket(res.ticket.ticket).result(10)["follow_token"]
    assert res.qr is not None and res.qr_data(res.ticket) == f"https://hq.example.com/t/{token}"
    assert res.qr.size[0] == len(qr_matrix(res.qr_data(res.ticket)))



def test_with_a_follow_url_the_printed_qr_leads_to_the_tickets_page(hall, mk):
    """The print job is built from the committed ticket.issued event (as `Outputs` does), and from the
    ticket's row for a reprint."""
    from kiosk.app.outputs import ticket_job

    def follow(data):
        data["phone"] = {"follow_url": "https://hq.example.com/t/{token}"}
    kiosk = hall(mk(edit=follow))
    events = []
    kiosk.subscribe(events.append)
    t = kiosk.issue("A").result(10)
    issued = next(e for e in events if e["type"] == "ticket.issued")
    link = f"https://hq.example.com/t/{t.follow_token}"
    assert ticket_job(kiosk.settings, issued).qr_url == link
    assert ticket_job(kiosk.settings, kiosk.ticket(t.ticket).result(10), reprint=True).qr_url == link
