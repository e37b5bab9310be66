"""Screenshots of the HQ dashboard: ``python -m kiosk.sim.hq_screenshots [--out docs/screenshots]``.

Starts a local mosquitto (:class:`kiosk.sim.broker.Broker`) and the real dashboard (`python -m
kiosk.cli.hq_web serve`, its users added with `… user add`), plays a day of a dozen simulated
branches into it over MQTT (retained status/queue/alerts and the events, recorded by the
server), then drives Debian's headless Chromium with Playwright and writes ``hq-*.png``: login,
branch list, branch page and comparison, in English and Chinese, and at phone width. The
dashboard is driven from outside only (processes, HTTP, MQTT), as a person and the branches
would.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.sim.broker import Broker
from kiosk.sim.hq_login import sign_in
from kiosk.sim.net import free_port, is_listening
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
TZ = timezone(timedelta(hours=8))
SERVICES = [("A", {"zh": "缴费", "en": "Payments"}, 600), ("B", {"zh": "综合业务", "en": "General business"}, 900),
            ("V", {"zh": "VIP服务", "en": "VIP service"}, 300)]
BRANCHES = ["bj-chaoyang-01", "bj-haidian-02", "bj-dongcheng-03", "sh-pudong-01", "sh-xuhui-02", "gz-tianhe-01",
            "gz-yuexiu-02", "sz-futian-01", "sz-nanshan-02", "cd-jinjiang-01", "wh-wuchang-01", "hz-xihu-01"]


# open device faults of the demo (device, kind, reason): shown on the list and the branch page
DEVICE_FAULTS = {"sh-pudong-01": [("printer", "paper_out", "paper end sensor")],
                 "wh-wuchang-01": [("hall-board", "unplugged", "write failed: [Errno 5] Input/output error")]}


def simulate(rng: random.Random, branch: str, day: date, busy: float, now_hour: int) -> tuple[list[dict], dict]:
    """A business day of one branch up to `now_hour`: events and the queue snapshot at the end."""
    events: list[dict] = []
    seq = 0

    def ev(type_: str, hour: int, minute: int, **kw) -> None:
        nonlocal seq
        seq += 1
        ts = datetime(day.year, day.month, day.day, hour, minute, rng.randrange(60), tzinfo=TZ)
        events.append({"v": 1, "id": str(uuid.uuid4()), "seq": seq, "type": type_, "branch": branch,
                       "day": day.isoformat(), "ts": ts.isoformat(timespec="seconds"), **kw})
    n = 0
    for counter in (1, 2, 3):
        ev("counter.opened", 8, 30, counter=counter)
    peak = {10: 1.6, 11: 1.8, 14: 1.4, 15: 1.5}
    for hour in range(9, now_hour + 1):
        arrivals = int(rng.gauss(14 * busy * peak.get(hour, 1.0), 2))
        for k in range(max(0, arrivals)):
            n += 1
            svc, _, target = rng.choices(SERVICES, weights=(5, 4, 1))[0]
            minute = min(59, int(60 * (k + 0.5) / max(1, arrivals)))
            ticket = f"{svc}{n:03d}"
            ev("ticket.issued", hour, minute, ticket=ticket, ticket_id=n, service=svc, priority=int(svc == "V"))
            wait = max(5.0, rng.gammavariate(2.0, target * 0.35 * busy * peak.get(hour, 1.0)))
            counter = rng.choice((1, 2, 3))
            ev("ticket.called", hour, min(59, minute + 1), ticket=ticket, ticket_id=n, service=svc, counter=counter,
               wait_s=round(wait, 1))
            if rng.random() < 0.05:
                ev("ticket.noshow", hour, min(59, minute + 2), ticket=ticket, service=svc, counter=counter)
                continue
            ev("ticket.finished", hour, min(59, minute + 6), ticket=ticket, service=svc, counter=counter,
               service_s=round(rng.gammavariate(3, 90), 1))
            if rng.random() < 0.6:
                score = rng.choices((5, 4, 3, 2, 1), weights=(50, 30, 10, 6, 4) if busy < 1.3 else (30, 30, 20, 12, 8))[0]
                ev("ticket.rated", hour, min(59, minute + 7), ticket=ticket, service=svc, counter=counter, score=score)
    waiting = int(busy * rng.randint(2, 9))
    open_counters = 3 if busy < 1.5 else 2
    level = 2 if waiting >= 3.5 * open_counters else 1 if waiting >= 2.5 * open_counters else 0
    reason = f"{waiting} waiting at {open_counters} open counters" if level else ""
    if level:
        ev("alert.raised", now_hour, 50, level=level, reason=reason, waiting=waiting, open_counters=open_counters)
    services = []
    for i, (svc, name, target) in enumerate(SERVICES):
        w = waiting // 3 + (1 if i < waiting % 3 else 0)
        services.append({"service": svc, "name": name, "waiting": w, "priority_waiting": w if svc == "V" else 0,
                         "longest_wait_s": round(w * target * 0.4 * busy, 1), "estimate_s": round(w * 150.0, 1),
                         "target_wait_s": float(target), "served_today": n // 3, "unavailable": None})
    counters = []
    for c in (1, 2, 3, 4):
        state = "open" if c <= open_counters else ("paused" if c == 3 else "closed")
        counters.append({"counter": c, "name": {"zh": f"{c}号窗口", "en": f"Counter {c}"}, "state": state,
                         "ticket": f"A{n - c:03d}" if state == "open" else None, "service": "A" if state == "open" else None,
                         "ticket_state": "serving" if state == "open" else None,
                         "busy_s": round(rng.uniform(30, 500), 1) if state == "open" else None, "services": ["A", "B"]})
    devices = {}
    for device, kind, why in DEVICE_FAULTS.get(branch, []):   # no draws from rng: the rest of the demo stays the same
        seq += 1
        since = datetime(day.year, day.month, day.day, now_hour, 40, tzinfo=TZ).isoformat(timespec="seconds")
        events.append({"v": 1, "id": str(uuid.uuid4()), "seq": seq, "type": "device.fault", "branch": branch,
                       "day": day.isoformat(), "ts": since, "device": device, "kind": kind, "reason": why})
        devices[device] = {"kind": kind, "reason": why, "since": since}
    snap = {"v": 1, "ts": datetime.now(TZ).isoformat(timespec="seconds"), "branch": branch, "day": day.isoformat(),
            "waiting": waiting, "open_counters": open_counters, "services": services, "counters": counters,
            "alert": {"level": level, "reason": reason}, "devices": devices, "last_seq": seq}
    return events, snap


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m kiosk.sim.hq_screenshots", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "screenshots"))
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="hq-shots-"))
    broker = Broker(work / "broker").start()
    mport, wport = broker.port, free_port()
    server = None
    try:
        db = work / "hq.db"
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        for name, role in (("wang.li", "operator"), ("zhao.min", "viewer")):
            subprocess.run([sys.executable, "-m", "kiosk.cli.hq_web", "user", "add", name, "--role", role,
                            "--db", str(db)], input="screenshot-pass\n", text=True, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        server = subprocess.Popen([sys.executable, "-m", "kiosk.cli.hq_web", "serve", "--broker",
                                   f"mqtt://127.0.0.1:{mport}", "--db", str(db), "--port", str(wport)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{wport}"
        wait_until(lambda: is_listening(wport), 30, interval=0.1, what="the dashboard")
        http = httpx.Client(base_url=base)
        sign_in(http, "wang.li", "screenshot-pass")
        wait_until(lambda: http.get("/api/stats").json().get("connected"), 30, interval=0.1,
                   what="the dashboard's MQTT clients")
        rng = random.Random(20261123)
        today = datetime.now(TZ).date()
        now_hour = min(max(datetime.now(TZ).hour, 12), 17)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        c.max_inflight_messages_set(0)
        c.connect("127.0.0.1", mport)
        c.loop_start()
        total = 0
        infos = []
        for i, b in enumerate(BRANCHES):
            busy = [0.8, 1.0, 1.2, 1.7, 0.9, 1.1, 1.5, 1.0, 0.7, 1.3, 1.0, 0.9][i]
            events, snap = simulate(rng, b, today, busy, now_hour)
            online = b not in ("wh-wuchang-01",)
            since = datetime.combine(today, datetime.min.time(), TZ).replace(hour=8, minute=rng.randrange(10, 40))
            if not online:
                since = since.replace(hour=now_hour - 1)
            for e in events:
                infos.append(c.publish(f"kiosk/{b}/events", json.dumps(e, ensure_ascii=False), qos=1))
            total += len(events)
            infos.append(c.publish(f"kiosk/{b}/status", json.dumps(
                {"v": 1, "state": "online" if online else "offline", "version": "0.1.0",
                 "since": since.isoformat(timespec="seconds"), "branch": b}), qos=1, retain=True))
            infos.append(c.publish(f"kiosk/{b}/queue", json.dumps(snap, ensure_ascii=False), qos=1, retain=True))
            infos.append(c.publish(f"kiosk/{b}/alerts", json.dumps(
                {"v": 1, "branch": b, **snap["alert"], "waiting": snap["waiting"],
                 "open_counters": snap["open_counters"]}, ensure_ascii=False), qos=1, retain=True))
        for info in infos:
            info.wait_for_publish(30)
        wait_until(lambda: http.get("/api/stats").json().get("recorded", 0) >= total, 60, interval=0.1,
                   what="the day to be recorded")
        with sync_playwright() as pw:
            br = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                shots = [
                    ("hq-login-en.png", None, "/login?lang=en", (1280, 720), False),
                    ("hq-login-zh.png", None, "/login?lang=zh", (1280, 720), False),
                    ("hq-branches-en.png", "wang.li", "/?lang=en", (1280, 800), False),
                    ("hq-branches-zh.png", "zhao.min", "/?lang=zh", (1280, 800), False),
                    ("hq-branch-en.png", "wang.li", "/branch/sh-pudong-01?lang=en", (1280, 800), True),
                    ("hq-branch-zh.png", "zhao.min", "/branch/sh-pudong-01?lang=zh", (1280, 800), True),
                    ("hq-compare-en.png", "wang.li", "/compare?lang=en", (1280, 800), True),
                    ("hq-compare-zh.png", "wang.li", "/compare?lang=zh", (1280, 800), True),
                    ("hq-phone-branches-zh.png", "zhao.min", "/?lang=zh", (390, 844), False),
                    ("hq-phone-branch-en.png", "wang.li", "/branch/gz-yuexiu-02?lang=en", (390, 844), True),
                ]
                for name, user, path, (w, h), full in shots:
                    ctx = br.new_context(viewport={"width": w, "height": h}, device_scale_factor=1,
                                         locale="zh-CN" if "lang=zh" in path else "en-GB")
                    page = ctx.new_page()
                    if user:
                        page.goto(f"{base}/login?lang=en")
                        page.fill("input[name=name]", user)
                        page.fill("input[name=password]", "screenshot-pass")
                        page.click("button[type=submit]")
                        page.wait_for_url(f"{base}/")
                    page.goto(base + path)
                    if path.startswith("/branch/"):
                        page.wait_for_selector("#state-badge")
                        page.wait_for_selector("#chart_wait svg")
                    elif path.startswith("/compare"):
                        page.wait_for_selector("#chart svg")
                    elif path.startswith("/?"):
                        page.wait_for_function(f"() => document.body.dataset.rows === '{len(BRANCHES)}'")
                    page.wait_for_timeout(300)
                    if full:  # a sticky header would be drawn mid-page in a full-page capture
                        page.evaluate("() => document.querySelectorAll('header')"
                                      ".forEach(h => h.style.setProperty('position', 'static', 'important'))")
                    page.screenshot(path=str(out / name), full_page=full)
                    print(out / name)
                    ctx.close()
            finally:
                br.close()
        c.disconnect()
        c.loop_stop()
        http.close()
    finally:
        stop_process(server, signal.SIGTERM, 20)
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
