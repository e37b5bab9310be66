"""Chromium (Debian's, through Playwright) drives the hall pages against a real kiosk: the clerk
signs in on /caller, calls the next customer (the pre-acceptance form shown), finishes; the
floor guide issues a ticket for a customer on /floor and sees its QR; the pages follow the hall
live; no console errors (the CSP refuses nothing of the pages' own)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.lan.conftest import CLERKS, Hall


@pytest.fixture
def page(browser) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    p = ctx.new_page()
    p.problems = []
    p.on("console", lambda m: p.problems.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.problems.append(str(e)))
    try:
        yield p
    finally:
        ctx.close()


def test_caller_sign_in_call_next_see_the_form_and_finish(hall: Hall, page) -> None:
    issued = hall.app.issue("B", form={"doc": "passport", "checked": True, "want": "replace card"}).result(10).ticket
    page.goto(f"{hall.url}/caller?lang=en")
    page.fill("input[name=clerk]", "c01")
    page.fill("input[name=pin]", CLERKS["c01"][1])
    page.select_option("select[name=counter]", "4")
    page.click("button[type=submit]")
    page.click("button[data-action=open]")
    page.wait_for_selector("#where.open")
    page.wait_for_selector(f"#waiting li:has-text('{issued}')")
    page.click("button[data-action=call]")
    page.wait_for_selector(f"#ticket:has-text('{issued}')")
    assert "Passport" in page.inner_text("#form") and "replace card" in page.inner_text("#form")
    assert hall.app.snapshot()["counters"][3]["ticket"] == issued
    page.click("button[data-action=finish]")
    page.wait_for_selector("#ticket.none")
    page.wait_for_selector("#today dd:text-is('1')")
    assert hall.app.ticket(issued).result(10)["state"] == "done"
    # live: a ticket issued elsewhere appears in the waiting list without a click
    later = hall.app.issue("A").result(10).ticket
    page.wait_for_selector(f"#waiting li:has-text('{later}')", timeout=10000)
    page.click("button[data-action=sign-out]")
    page.wait_for_selector("input[name=clerk]")
    assert hall.app.counter_clerk(4).result(10) is None
    assert page.problems == []


def test_floor_issue_for_a_customer_shown_as_qr(hall: Hall, page) -> None:
    page.goto(f"{hall.url}/floor?lang=zh")
    page.fill("input[name=clerk]", "c03")
    page.fill("input[name=pin]", CLERKS["c03"][1])
    page.click("button[type=submit]")
    page.wait_for_selector("#hall .services")
    page.select_option("select[name=service]", "B")
    page.select_option("select[name=f-doc]", "id_card")
    page.check("input[name=f-checked]")
    page.fill("input[name=f-want]", "挂失")
    page.select_option("select[name=tier]", "gold")
    page.check("input[name=assisted]")
    page.check("input[value=qr]")
    page.click("button[data-action=issue]")
    page.wait_for_selector("#qr")
    number = page.inner_text("#issued")
    row = hall.app.ticket(number).result(10)
    assert row["service"] == "B" and row["assisted"] and row["priority"] > 0 and "挂失" in row["form"]
    page.wait_for_selector("td[data-service=B]:text-is('1')", timeout=10000)   # the hall, live
    page.select_option("select[name=service]", "B")
    page.click("button[data-action=issue]")   # the required document missing: refused, named
    page.wait_for_selector(".msg.bad")
    assert hall.app.snapshot()["waiting"] == 1
    assert page.problems == [] or all("400" in p for p in page.problems)
