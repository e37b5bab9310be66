"""The new operations on the running kiosk (`KioskApp`): each runs on the core thread and returns
a Future, as the hall web app uses them; a refusal comes out of the Future."""
from __future__ import annotations

import pytest

from kiosk.access.clerks import ClerkBook
from kiosk.app.kiosk_app import KioskApp
from kiosk.domain import errors


@pytest.fixture
def app(settings, tmp_path, clock):
    kiosk = KioskApp(settings, tmp_path, clock=clock).start()
    book = ClerkBook(tmp_path)
    book.add("E1", "Li", "1234")
    book.add("E2", "Wang", "5678")
    try:
        yield kiosk
    finally:
        book.close()
        kiosk.stop()


def test_the_hall_operations_through_the_app(app):
    for c in (3, 4):
        app.set_counter(c, "open").result()
    assert app.sign_in(3, "E1").result()["name"] == "Li"
    assert app.counter_clerk(3).result() == "E1"
    t = app.issue("B", form={"document": "passport", "note": "with a guide"}, assisted=True).result()
    app.issue("A").result()
    assert app.call_next(4).result().ticket == t.ticket
    assert app.transfer(4, to_clerk="E1", note="account question").result() == t.ticket
    [first, second] = app.waiting_list(3).result()
    assert (first["number"], first["note"], first["form"]["document"], first["assisted"], first["reserved"]) == (
        t.ticket, "account question", "passport", True, "clerk")
    assert second["number"] == "A001"
    assert app.call_next(3).result().ticket == t.ticket
    assert app.finish(3).result() == t.ticket
    assert app.rate(t.ticket, 5).result() == t.ticket
    day = app.clerk_day("E1").result()
    assert (day["served"], day["counter"], day["satisfaction"]["ratings"]) == (1, 3, 1)
    assert day["pre_acceptance"]["with"]["n"] == 1
    assert app.set_counter(4, "paused", "back_office").result() == "paused"
    assert app.sign_out(3).result() == "E1"
    with pytest.raises(errors.BadField) as exc:
        app.issue("B", form={"colour": "red"}).result()
    assert exc.value.field == "form.colour"
    with pytest.raises(errors.UnknownClerk):
        app.sign_in(3, "E404").result()
