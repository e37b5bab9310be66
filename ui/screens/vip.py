"""The VIP screen: a member code on an on-screen keypad (or typed by a barcode reader)."""
from __future__ import annotations

from kivy.properties import StringProperty

from ui.screens.host import HostedScreen


class VipScreen(HostedScreen):
    """Member code on an on-screen keypad (or typed by a barcode reader)."""

    code = StringProperty("")
    message = StringProperty("")

    def reset(self) -> None:
        self.code = ""
        self.message = ""

    def on_key_input(self, key: str) -> None:
        if key == "enter":
            self.submit()
        else:
            self.keypad(key)

    def keypad(self, key: str) -> None:
        self.message = ""
        if key == "clear":
            self.code = ""
        elif key == "del":
            self.code = self.code[:-1]
        elif len(self.code) < 32 and key.isalnum():
            self.code += key

    def submit(self) -> None:
        app = self.app
        customer = app.screen("customer")
        if not customer.codes.valid(self.code):
            self.message = app.tr("This member code is not valid. Please ask a member of staff.", app.lang)
            self.code = ""
            return
        code, self.code = self.code, ""
        customer.member_code(code)

    def cancel(self) -> None:
        self.app.go_home(reset_lang=False)
