"""Priority tiers on the touchscreen (the sample hall: 钻石 / 金卡 / 银卡): the VIP button offers
them, a member code gives its own, and the ticket on screen and on paper names the tier."""
from __future__ import annotations

import logging
import os

import pytest
from kivy.core.window import Window

from kiosk.domain.errors import ConfigError
from ui.devtools import harness as h
from ui.i18n import tr
from ui.screens.member_codes import MemberCodes

TIERS = ["diamond", "gold", "silver"]


def customer(ui):
    return ui.sm.get_screen("customer")


def result(ui):
    return ui.sm.get_screen("result")


def scan(code: str) -> None:
    """A USB barcode reader: the characters, then Enter."""
    for ch in code:
        Window.dispatch("on_key_down", ord(ch), 0, ch, [])
    Window.dispatch("on_key_down", 13, 40, None, [])


@pytest.fixture
def printed(mk, hall):
    """A kiosk with the real outputs and the virtual printer: (kiosk, the jobs it printed)."""
    from kiosk.app.outputs import Outputs

    def start(**ui):
        outputs = Outputs(mk(**ui), simulate=True)
        kiosk = hall(outputs.settings, devices=outputs)
        return kiosk, outputs.hw.printer
    return start


def test_the_vip_button_offers_the_configured_tiers(printed, open_ui):
    kiosk, printer = printed()
    ui = open_ui(kiosk)
    screen = customer(ui)
    h.tap(screen.ids.vip_btn)
    assert screen.choosing_tier and ui.sm.current == "customer"
    assert screen.ids.prompt.text == tr("Priority ticket: please choose your membership tier", "zh")
    assert [b.title for b in screen.tier_buttons.values()] == ["钻石", "金卡", "银卡"]
    assert list(screen.ids.grid.children[::-1]) == list(screen.tier_buttons.values())
    ui.toggle_lang()
    h.pump(2)
    assert [b.title for b in screen.tier_buttons.values()] == ["Diamond", "Gold", "Silver"]
    ui.toggle_lang()
    h.tap(screen.tier_buttons["gold"])              # one VIP service: the ticket is issued at once
    h.pump_until(lambda: ui.sm.current == "result")
    t = result(ui).ticket
    assert t.ticket.startswith("V") and t.priority == kiosk.settings.tier_rank("gold") == 2
    assert result(ui).service_name == "VIP服务  · 金卡"
    h.pump_until(lambda: [p.job.number for p in printer.printed] == [t.ticket])
    assert printer.printed[0].job.tier_name == {"zh": "金卡", "en": "Gold"}


def test_back_from_the_tier_choice(kiosk, ui):
    screen = customer(ui)
    h.tap(screen.ids.vip_btn)
    assert screen.choosing_tier
    h.tap(screen.ids.cancel_btn)
    assert not screen.choosing_tier and not screen.priority_mode
    assert sorted(screen.buttons) == ["A", "B"]
    assert [b.prefix for b in screen.ids.grid.children[::-1]] == ["A", "B"]


def test_a_normal_ticket_names_no_tier(printed, open_ui):
    kiosk, printer = printed()
    ui = open_ui(kiosk)
    h.tap(customer(ui).buttons["A"])
    h.pump_until(lambda: ui.sm.current == "result")
    assert result(ui).ticket.priority == 0 and result(ui).service_name == "缴费"
    h.pump_until(lambda: printer.printed)
    assert printer.printed[0].job.tier_name is None


def test_a_member_code_gives_its_tier(printed, open_ui, tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("# members: code, tier\n111111 diamond\n222222      # no tier: the lowest\n")
    kiosk, printer = printed(vip_entry="both", vip_codes_file=str(codes))
    ui = open_ui(kiosk)
    scan("111111")
    h.pump_until(lambda: ui.sm.current == "result")
    diamond = result(ui).ticket
    assert diamond.priority == 1 and kiosk.ticket(diamond.ticket).result()["member"] == "111111"
    assert result(ui).service_name.endswith("钻石")
    h.tap(result(ui).ids.done_btn)
    scan("222222")
    h.pump_until(lambda: ui.sm.current == "result" and result(ui).ticket is not None
                 and result(ui).ticket.ticket != diamond.ticket)
    assert result(ui).ticket.priority == 3 and result(ui).service_name.endswith("银卡")
    h.pump_until(lambda: len(printer.printed) == 2)
    assert [p.job.tier_name["en"] for p in printer.printed] == ["Diamond", "Silver"]


def test_member_code_on_the_keypad_with_its_tier(mk, hall, open_ui, tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("123456 gold\n")
    kiosk = hall(mk(vip_entry="code", vip_codes_file=str(codes)))
    ui = open_ui(kiosk)
    h.tap(customer(ui).ids.code_btn)
    vip = ui.sm.get_screen("vip")
    for key in "123456":
        h.tap(vip.ids.keypad.keys[key])
    h.tap(vip.ids.ok_btn)
    h.pump_until(lambda: ui.sm.current == "result")
    assert result(ui).ticket.priority == 2


# -- the codes file --------------------------------------------------------------------------------
def test_an_unknown_tier_is_refused_naming_the_line(tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("111111 gold\n# platinum members\n222222 platinum\n")
    with pytest.raises(ConfigError) as err:
        MemberCodes(str(codes), TIERS)
    assert f"{codes}, line 3" in str(err.value) and "'platinum'" in str(err.value)
    assert "diamond, gold, silver" in str(err.value)


def test_a_line_of_three_fields_is_refused(tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("111111 gold Mr Wang\n")
    with pytest.raises(ConfigError, match="line 1"):
        MemberCodes(str(codes), TIERS)


def test_a_refused_new_version_keeps_the_codes_read_before(tmp_path, caplog):
    codes = tmp_path / "codes.txt"
    codes.write_text("111111 gold\n")
    member_codes = MemberCodes(str(codes), TIERS)
    assert member_codes.lookup("111111") == ("111111", "gold")
    codes.write_text("111111 gold\n333333 platinum\n")
    os.utime(codes, (1, 1))                     # a new modification time, whatever the file system's resolution
    with caplog.at_level(logging.ERROR):
        assert member_codes.lookup("111111") == ("111111", "gold")
        assert member_codes.lookup("333333") is None
    assert any("line 2" in r.getMessage() and "platinum" in r.getMessage() for r in caplog.records)
    codes.write_text("111111 gold\n333333 diamond\n")
    os.utime(codes, (2, 2))
    assert member_codes.lookup("333333") == ("333333", "diamond")


def test_without_a_file_a_code_has_no_tier_of_its_own(tmp_path):
    codes = MemberCodes(None, TIERS)
    assert codes.lookup("88776655") == ("88776655", None)
    assert codes.lookup("12") is None and codes.lookup("bad-code") is None
