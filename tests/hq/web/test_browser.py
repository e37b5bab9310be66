"""The dashboard in a real browser (Debian's Chromium, headless, driven by Playwright): log in,
watch a branch go offline when its kiosk is SIGKILLed (Last Will), see an alert appear, send
an HQ command as an operator and be refused as read-only. No timed assertions: every check
waits for its condition (Playwright's auto-waiting selectors)."""
from __future__ import annotations

from tests.kit.hq_web import login


def test_login_required_then_branch_goes_offline_when_kiosk_killed(new_page, hq_server, kiosks):
    page = new_page()
    page.goto(hq_server.url + "/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("input[name=name]", "view")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error")
    login(page, hq_server.url, "view")
    k = kiosks()
    row = f"tr[data-branch='{k.branch}']"
    page.wait_for_selector(f"{row}[data-state=online]")
    page.wait_for_selector("#live.on")
    k.kill()  # SIGKILL: no goodbye, the broker publishes the kiosk's Last Will (status offline, retained)
    page.wait_for_selector(f"{row}[data-state=offline]")
    with hq_server.client("view") as c:  # "since" is when the server saw it go, not the will's session start
        r = next(x for x in c.get("/api/branches").json()["rows"] if x["branch"] == k.branch)
    assert r["online"] is False and r["state_seen"] and r["state_seen"] >= r["since"][:19]
    # the filter and the "offline" view
    page.fill("#q", k.branch)
    page.wait_for_function("() => document.querySelectorAll('#tbl tbody tr').length === 1")
    page.click("#show button[data-v=offline]")
    page.wait_for_selector(f"{row}[data-state=offline]")


def test_alert_appears_on_list_and_branch_page(new_page, hq_server, kiosks):
    k = kiosks()
    page = new_page("view")
    page.goto(f"{hq_server.url}/branch/{k.branch}")
    page.wait_for_selector("#state-badge[data-state=online]")
    assert page.locator("#alert").count() == 0
    k.issue(6)  # six customers and no open counter: the kiosk raises a level-2 peak alert
    page.wait_for_selector("#alert[data-level='2']")
    page.wait_for_selector("#events tr[data-type='alert.raised']")
    page.wait_for_selector("#svc tbody tr")
    page.goto(hq_server.url + "/")
    first = page.locator("#tbl tbody tr").first
    first.wait_for()
    page.wait_for_selector(f"tr[data-branch='{k.branch}'][data-alert='2']")
    # alerts on top: the alerting branch sorts before the quiet ones
    page.wait_for_function("(b) => document.querySelector('#tbl tbody tr').dataset.branch === b", arg=k.branch)


def test_operator_sends_commands_and_sees_replies(new_page, hq_server, kiosks):
    k = kiosks()
    page = new_page("op")
    page.goto(f"{hq_server.url}/branch/{k.branch}")
    page.wait_for_selector("#state-badge[data-state=online]")
    page.click("#cmd-ping")
    page.wait_for_selector("#cmd-status[data-status=ok]")
    assert "pong" in page.inner_text("#cmd-result")
    page.select_option("form[data-cmd=counter] select[name=counter]", "2")
    page.select_option("form[data-cmd=counter] select[name=state]", "open")
    page.click("#cmd-counter")
    page.wait_for_function("() => document.querySelector('#cmd-status') && "
                           "document.querySelector('#cmd-status').textContent.startsWith('counter')")
    assert page.get_attribute("#cmd-status", "data-status") == "ok"
    # the kiosk's queue snapshot comes back with counter 2 open
    page.wait_for_selector("#ctr tbody tr:nth-child(2) .badge.online")
    # every command is logged with who sent it
    page.wait_for_selector("#cmdlog tbody tr:has-text('counter'):has-text('op')")
    with hq_server.client("op") as c:
        log = c.get(f"/api/branch/{k.branch}/commands").json()["commands"]
    assert [(x["command"], x["user"], x["status"]) for x in log[:2]] == [("counter", "op", "ok"), ("ping", "op", "ok")]
    assert log[0]["payload"] == {"counter": 2, "state": "open"}


def test_viewer_is_refused(new_page, hq_server, kiosks):
    k = kiosks()
    page = new_page("view")
    page.goto(f"{hq_server.url}/branch/{k.branch}")
    page.wait_for_selector("#state-badge[data-state=online]")
    page.wait_for_selector("#readonly")
    assert page.locator("#cmd-ping").count() == 0
    status = page.evaluate("""(b) => fetch('/api/branch/' + b + '/cmd/ping', {method: 'POST',
        headers: {'Content-Type': 'application/json',
                  'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
        body: '{}'}).then(r => r.status)""", k.branch)
    assert status == 403
    page.reload()
    page.wait_for_selector("#cmdlog tbody tr:has-text('view'):has-text('refused')")


def test_phone_width_and_chinese(new_page, hq_server, kiosks):
    k = kiosks()
    page = new_page("op", width=390, height=844, lang="zh")
    page.wait_for_selector(f"tr[data-branch='{k.branch}']")
    assert "营业厅" in page.inner_text("header")
    # the table turns into cards: nothing wider than the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{hq_server.url}/branch/{k.branch}")
    page.wait_for_selector("#state-badge[data-state=online]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{hq_server.url}/compare")
    page.wait_for_selector("#tbl tbody tr")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{hq_server.url}/?lang=en")
    page.wait_for_selector("header nav a:has-text('Branches')")


def test_offscreen_rows_are_current_when_scrolled_into_view(new_page, hq_server, hq_broker):
    import json

    from tests.kit.hq_web import new_branch
    from tests.kit.mqtt import Collector
    names = sorted(new_branch("zz-many") for _ in range(80))
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        for n in names:
            pub.client.publish(f"kiosk/{n}/status", json.dumps({"v": 1, "state": "online", "since": "2026-11-23T08:00:00+08:00"}),
                               qos=1, retain=True)
        page = new_page("view")
        last = f"tr[data-branch='{names[-1]}']"
        page.wait_for_selector(last, state="attached")
        page.evaluate("window.scrollTo(0, 0)")
        snap = {"v": 1, "waiting": 7, "open_counters": 1, "alert": {"level": 0, "reason": ""},
                "services": [{"service": "A", "waiting": 7, "longest_wait_s": 65.0}], "counters": []}
        pub.publish(f"kiosk/{names[-1]}/queue", json.dumps(snap))
        page.locator(last).scroll_into_view_if_needed()
        page.wait_for_function("(sel) => document.querySelector(sel).children[3].textContent === '7'", arg=last)
        assert page.locator(f"{last} td").nth(4).inner_text() == "1m05s"
    finally:
        for n in names:
            pub.client.publish(f"kiosk/{n}/status", b"", qos=1, retain=True)
            pub.client.publish(f"kiosk/{n}/queue", b"", qos=1, retain=True)
        pub.close()


def test_device_faults_show_on_the_list_and_the_branch_page(new_page, hq_server, hq_broker):
    """A branch's printer runs out of paper (an event), its display was already unplugged (the
    retained snapshot): the list shows both, the branch page says what and since when; the
    recovery takes the printer off again."""
    import json
    import uuid

    from tests.kit.hq_web import new_branch
    from tests.kit.mqtt import Collector
    name = new_branch("zz-dev")
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        pub.client.publish(f"kiosk/{name}/status", json.dumps({"v": 1, "state": "online", "since": "2026-11-23T08:00:00+08:00"}),
                           qos=1, retain=True)
        pub.client.publish(f"kiosk/{name}/queue", json.dumps({
            "v": 1, "waiting": 0, "open_counters": 1, "alert": {"level": 0, "reason": ""}, "services": [], "counters": [],
            "devices": {"hall-board": {"kind": "unplugged", "reason": "port gone", "since": "2026-11-23T08:30:00+08:00"}}}),
            qos=1, retain=True)
        page = new_page("view")
        row = f"tr[data-branch='{name}']"
        page.wait_for_selector(f"{row} .dev[data-devices='1']")

        def event(seq, type_, **kw):
            pub.publish(f"kiosk/{name}/events", json.dumps({"v": 1, "id": str(uuid.uuid4()), "seq": seq, "type": type_,
                                                              "ts": "2026-11-23T09:12:00+08:00", "branch": name,
                                                              "day": "2026-11-23", "device": "printer", **kw}))
        event(1, "device.fault", kind="paper_out", reason="paper end")
        page.wait_for_selector(f"{row} .dev[data-devices='2']")
        assert "printer out of paper" in page.inner_text(f"{row} .dev")
        page.goto(f"{hq_server.url}/branch/{name}?lang=zh")
        page.wait_for_selector("#devices[data-devices='2']")
        text = page.inner_text("#devices")
        assert "设备故障" in text and "printer 缺纸" in text and "hall-board 未连接" in text and "09:12" in text
        event(2, "device.recovered", kind="paper_out", reason="paper_out cleared")
        page.wait_for_selector("#devices[data-devices='1']")
        assert "printer" not in page.inner_text("#devices")
    finally:
        pub.client.publish(f"kiosk/{name}/status", b"", qos=1, retain=True)
        pub.client.publish(f"kiosk/{name}/queue", b"", qos=1, retain=True)
        pub.close()
