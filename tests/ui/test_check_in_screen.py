"""Checking in a ticket taken on a phone, at the touchscreen: simulated fingers on the keypad, a
barcode reader typing the follow URL, a real KioskApp taking the remote ticket through its core."""
from __future__ import annotations

from kivy.core.window import Window

from ui.devtools import harness as h
from ui.i18n import tr
from ui.screens import check_in as check_in_module

FOLLOW_URL = "https://hq.example.com/t/{token}"


def remote_on(data):
    data["phone"].update(remote=True, follow_url=FOLLOW_URL)


def customer(ui):
    return ui.sm.get_screen("customer")


def check_in(ui):
    return ui.sm.get_screen("check_in")


def state(kiosk, number):
    return kiosk.ticket(number).result(10)["state"]


def take_remote(kiosk, service="A"):
    """A ticket taken on a phone (HQ's `issue_remote` command, straight into the core)."""
    return kiosk.issue_remote(service).result(10)


def type_code(ui, code):
    screen = check_in(ui)
    for digit in code:
        h.tap(screen.ids.keypad.keys[digit])
    h.tap(screen.ids.ok_btn)


def scan(text):
    """A USB barcode reader: one key press per character, then Enter."""
    for ch in text:
        Window.dispatch("on_key_down", ord(ch), 0, ch, [])
    Window.dispatch("on_key_down", 13, 40, None, [])


def test_the_code_on_the_keypad_puts_the_parked_ticket_in_the_queue(mk, hall, open_ui, printer):
    kiosk = hall(mk(edit=remote_on), devices=printer)
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    kiosk.set_counter(1, "open").result(10)
    assert state(kiosk, remote["ticket"]) == "parked"
    assert kiosk.call_next(1).result(10) is None                  # parked: no counter calls it
    printed = list(printer.jobs)

    h.tap(customer(ui).ids.check_in_btn)
    assert ui.sm.current == "check_in"
    screen = check_in(ui)
    assert screen.ids.title.text == tr("Took a ticket on your phone? Enter its check-in code or scan its QR code", "zh")
    type_code(ui, remote["check_in_code"])
    h.pump_until(lambda: screen.done)
    assert screen.number == remote["ticket"]
    assert screen.ids.in_queue.text == tr("You are in the queue now", "zh")
    assert screen.ahead_text == tr("You are next", "zh")
    assert "分钟" in screen.wait_text or "无需等待" in screen.wait_text
    h.pump(2)
    assert screen.ids.checked_in.opacity == 1 and screen.ids.entry.opacity == 0
    assert screen.ids.entry.height == 0 and screen.ids.number.height > screen.height / 5   # the ticket fills the screen
    assert state(kiosk, remote["ticket"]) == "waiting"
    call = kiosk.call_next(1).result(10)
    assert call is not None and call.ticket == remote["ticket"]      # callable now
    assert printer.jobs == printed                                   # no ticket printed for it

    h.tap(screen.ids.done_btn)
    assert ui.sm.current == "customer"
    customer(ui).open_check_in()                          # the next customer gets the keypad again
    h.pump(2)
    assert not screen.done and screen.ids.checked_in.height == 0 and screen.ids.keypad.height > 0


def test_the_check_in_screen_goes_back_by_itself(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on, result_timeout_s=0.3))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    ui.toggle_lang()
    customer(ui).open_check_in()
    type_code(ui, remote["check_in_code"])
    h.pump_until(lambda: check_in(ui).done)
    assert check_in(ui).ids.in_queue.text == "You are in the queue now"
    h.pump_until(lambda: ui.sm.current == "customer")
    assert ui.lang == "zh"


def test_a_wrong_code_is_refused_in_the_screens_language_and_changes_nothing(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    before = kiosk.snapshot()
    wrong = "000000" if remote["check_in_code"] != "000000" else "111111"
    h.tap(customer(ui).ids.check_in_btn)
    screen = check_in(ui)
    type_code(ui, wrong)
    h.pump_until(lambda: screen.message)
    assert screen.message == tr("There is no ticket with this code today. Please check the code.", "zh")
    assert screen.ids.message.opacity == 1 and not screen.done and ui.sm.current == "check_in"
    ui.toggle_lang()
    h.pump(2)
    assert screen.message == "There is no ticket with this code today. Please check the code."
    assert state(kiosk, remote["ticket"]) == "parked"
    after = kiosk.snapshot()
    assert [s["waiting"] for s in after["services"]] == [s["waiting"] for s in before["services"]]


def test_ok_waits_for_six_or_eight_digits(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    customer(ui).open_check_in()
    screen = check_in(ui)
    for digit in remote["check_in_code"][:5]:
        h.tap(screen.ids.keypad.keys[digit])
    assert screen.ids.ok_btn.disabled
    h.tap(screen.ids.ok_btn)
    assert not screen.busy and screen.message == ""
    screen.on_key_input("enter")                         # Enter with five digits: says what is needed
    assert screen.message == tr("Enter the 6-digit phone ticket code or the 8-digit appointment code.", "zh")
    assert state(kiosk, remote["ticket"]) == "parked"
    h.tap(screen.ids.keypad.keys[remote["check_in_code"][5]])
    assert screen.code == remote["check_in_code"] and screen.message == "" and not screen.ids.ok_btn.disabled
    h.tap(screen.ids.keypad.keys["9"])                    # seven digits: neither a ticket's code nor an appointment's
    assert screen.ids.ok_btn.disabled
    for digit in "999":                                   # the ninth digit is not taken
        h.tap(screen.ids.keypad.keys[digit])
    assert screen.code == remote["check_in_code"] + "99" and not screen.ids.ok_btn.disabled
    h.tap(screen.ids.keypad.keys["del"])
    h.tap(screen.ids.keypad.keys["del"])
    h.tap(screen.ids.ok_btn)
    h.pump_until(lambda: screen.done)


def test_an_expired_ticket_says_so_and_asks_for_a_new_ticket(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    kiosk.clock.advance(61 * 60)                                   # past [phone] check_in_min
    kiosk.loop.call(kiosk.engine.tick)
    assert state(kiosk, remote["ticket"]) == "expired"
    customer(ui).open_check_in()
    type_code(ui, remote["check_in_code"])
    screen = check_in(ui)
    h.pump_until(lambda: screen.message)
    assert screen.message == tr("This ticket has expired. Please take a new ticket.", "zh")
    assert state(kiosk, remote["ticket"]) == "expired"


def test_a_second_check_in_says_the_ticket_is_already_in_the_queue(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    kiosk.check_in(remote["check_in_code"]).result(10)
    customer(ui).open_check_in()
    type_code(ui, remote["check_in_code"])
    screen = check_in(ui)
    h.pump_until(lambda: screen.message)
    assert screen.message == tr("This ticket is already checked in: it is in the queue.", "zh")
    assert state(kiosk, remote["ticket"]) == "waiting"


def test_the_scanned_follow_url_checks_in_from_the_customer_screen(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    assert ui.sm.current == "customer"
    scan(FOLLOW_URL.format(token=remote["follow_token"]))
    h.pump_until(lambda: ui.sm.current == "check_in" and check_in(ui).done)
    assert check_in(ui).number == remote["ticket"]
    assert state(kiosk, remote["ticket"]) == "waiting"


def test_a_scanned_token_on_the_check_in_screen_checks_in(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    customer(ui).open_check_in()
    scan(remote["follow_token"])
    h.pump_until(lambda: check_in(ui).done)
    assert state(kiosk, remote["ticket"]) == "waiting"


def test_a_scanned_url_of_no_ticket_is_refused(mk, hall, open_ui):
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    scan(FOLLOW_URL.format(token="A" * 22))
    h.pump_until(lambda: check_in(ui).message)
    assert check_in(ui).message == tr("There is no ticket with this code today. Please check the code.", "zh")
    scan("https://hq.example.com/t/<script>alert(1)</script>")
    h.pump(3)
    assert not check_in(ui).done and state(kiosk, remote["ticket"]) == "parked"


def test_member_codes_still_go_to_the_priority_ticket(mk, hall, open_ui):
    def both(data):
        remote_on(data)
        data["tiers"] = [{"id": "vip", "name": {"zh": "贵宾", "en": "VIP"}}]
    kiosk = hall(mk(vip_entry="both", edit=both))
    ui = open_ui(kiosk)
    scan("88776655")
    h.pump_until(lambda: ui.sm.current == "result")
    assert ui.sm.get_screen("result").ticket.priority == 1


def test_wrong_codes_in_a_row_rest_the_keypad_but_not_the_scanner(mk, hall, open_ui, monkeypatch):
    monkeypatch.setattr(check_in_module, "WRONG_REST_S", 0.5)
    kiosk = hall(mk(edit=remote_on))
    ui = open_ui(kiosk)
    remote = take_remote(kiosk)
    customer(ui).open_check_in()
    screen = check_in(ui)
    wrong = [f"{n:06d}" for n in range(1, 10) if f"{n:06d}" != remote["check_in_code"]][:check_in_module.MAX_WRONG]
    for code in wrong:
        type_code(ui, code)
        h.pump_until(lambda: not screen.busy and screen.message)
    assert screen.locked and screen.ids.keypad.disabled
    assert screen.message == tr("Too many wrong codes. Please wait a moment or ask a member of staff.", "zh")
    type_code(ui, remote["check_in_code"])                       # the keypad rests
    h.pump(3)
    assert state(kiosk, remote["ticket"]) == "parked"
    h.pump_until(lambda: not screen.locked, timeout=5)
    type_code(ui, remote["check_in_code"])
    h.pump_until(lambda: screen.done)
    assert state(kiosk, remote["ticket"]) == "waiting"


def test_the_check_in_button_is_there_only_when_the_branch_takes_phone_tickets(kiosk, ui):
    btn = customer(ui).ids.check_in_btn
    assert btn.disabled and btn.opacity == 0 and btn.width == 0
