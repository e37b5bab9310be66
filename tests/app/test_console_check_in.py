"""`checkin CODE|URL` at the kiosk console: a ticket taken on a phone joins the queue."""
from __future__ import annotations

import io

import pytest

from kiosk.app.console import HELP, Console, parse
from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import Settings


@pytest.fixture
def app(tmp_path, settings, clock):
    data = settings.model_dump(mode="json")
    data["phone"].update(remote=True, follow_url="https://hq.example.com/t/{token}")
    kiosk = KioskApp(Settings.model_validate(data), tmp_path, clock=clock).start()
    try:
        yield kiosk
    finally:
        kiosk.stop()


class Typed:
    """The console with its output captured: `say(line)` → what it printed for that line."""

    def __init__(self, app: KioskApp) -> None:
        self.out = io.StringIO()
        self.console = Console(app, io.StringIO(), self.out, on_quit=lambda: None)

    def say(self, line: str) -> str:
        start = len(self.out.getvalue())
        self.console.handle(line)
        return self.out.getvalue()[start:].strip()


def state(app, number):
    return app.ticket(number).result(10)["state"]


def test_checkin_by_code_puts_the_ticket_in_the_queue(app):
    remote = app.issue_remote("A").result(10)
    app.set_counter(1, "open").result(10)
    console = Typed(app)
    assert console.say("next 1") == "> nobody waits"                      # parked: not called
    said = console.say(f"checkin {remote['check_in_code']}")
    assert said.startswith(f"> checked in {remote['ticket']}: waiting, 0 ahead, estimated wait ")
    assert state(app, remote["ticket"]) == "waiting"
    assert console.say("next 1").startswith(f"> {remote['ticket']} → counter 1")


def test_checkin_by_follow_url_and_by_token(app):
    first, second = app.issue_remote("A").result(10), app.issue_remote("B").result(10)
    console = Typed(app)
    said = console.say(f"CHECKIN https://hq.example.com/t/{first['follow_token']}")
    assert said.startswith(f"> checked in {first['ticket']}: waiting")
    said = console.say(f"checkin {second['follow_token']}")
    assert said.startswith(f"> checked in {second['ticket']}: waiting")
    assert state(app, first["ticket"]) == state(app, second["ticket"]) == "waiting"


def test_checkin_refusals_are_clear_and_change_nothing(app, clock):
    remote = app.issue_remote("A").result(10)
    wrong = "000000" if remote["check_in_code"] != "000000" else "111111"
    console = Typed(app)
    assert console.say(f"checkin {wrong}") == "! no remote ticket with this code today"
    assert console.say("checkin") == ("! checkin: expected one check-in code, follow token or follow URL, "
                                      "e.g. 'checkin 483920'")
    assert console.say("checkin 1 2").startswith("! checkin: expected one check-in code")
    assert console.say("checkin <script>").startswith("! not a check-in code")
    assert console.say("checkin https://hq.example.com/t/" + "A" * 22) == "! this QR code is not a remote ticket of today"
    assert state(app, remote["ticket"]) == "parked"

    assert console.say(f"checkin {remote['check_in_code']}").startswith("> checked in")
    assert console.say(f"checkin {remote['check_in_code']}") == f"! ticket {remote['ticket']} is already checked in (waiting)"

    late = app.issue_remote("B").result(10)
    clock.advance(61 * 60)                                          # past [phone] check_in_min
    app.loop.call(app.engine.tick)
    said = console.say(f"checkin {late['check_in_code']}")
    assert said.startswith(f"! ticket {late['ticket']} expired") and "please take a new ticket" in said
    assert state(app, late["ticket"]) == "expired"


def test_checkin_is_in_the_help():
    assert "checkin CODE|URL" in HELP
    with pytest.raises(ValueError, match="unknown command 'check'.*checkin CODE\\|URL"):
        parse("check 123456")
