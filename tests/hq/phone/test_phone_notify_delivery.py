"""'Your turn is near' delivered for real: a local push endpoint that checks the VAPID
signature and decrypts the message with http_ece, and a local webhook server; views driven
through the real FollowIndex with follow messages checked by the real ingest boundary."""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from py_vapid import Vapid
import httpx
from starlette.applications import Starlette

from kiosk.hq.ingest.follow import parse_follow
from kiosk.hq.phone.follow_index import FollowIndex, key_of
from kiosk.hq.phone.notify import Notifier, alert_routes
from tests.kit.asgi_serve import serve, vapid_file  # noqa: F401 — vapid_file is a fixture

BRANCH = "sh-notify-01"
PHONE = "+8613800138000"
SUBJECT = "mailto:ops@example.com"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LocalServer:
    """An HTTP server on the loopback that records every POST and answers with scripted statuses
    (then `default`), optionally after a delay."""

    def __init__(self, default: int = 201, delay_s: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.default = default
        self.delay_s = delay_s
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 — http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                time.sleep(outer.delay_s)
                self.send_response(outer.statuses.pop(0) if outer.statuses else outer.default)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Browser:
    """What a browser holds for one push subscription: its private key and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        pub = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)
        self.subscription = {"endpoint": endpoint, "expirationTime": None,
                             "keys": {"p256dh": b64u(pub), "auth": b64u(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def verify_vapid(authorization: str, audience: str) -> tuple[str, dict[str, Any]]:
    """The VAPID public key and claims of an Authorization header, after checking its signature."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(p.split("=", 1) for p in params.split(","))
    header, claims, sig = parts["t"].split(".")
    raw = unb64u(sig)
    assert len(raw) == 64
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64u(parts["k"]))
    pub.verify(encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
               f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))   # raises InvalidSignature
    assert json.loads(unb64u(header)) == {"typ": "JWT", "alg": "ES256"}
    doc = json.loads(unb64u(claims))
    assert doc["aud"] == audience and doc["sub"] == SUBJECT
    assert time.time() < doc["exp"] <= time.time() + 24 * 3600
    return parts["k"], doc


class Hall:
    """One branch's followed tickets, published into a real FollowIndex through the real check."""

    def __init__(self, index: FollowIndex) -> None:
        self.index = index
        self.tickets: dict[str, dict[str, Any]] = {}
        self.day = datetime.now().astimezone()

    def put(self, token: str, **t: Any) -> None:
        base = {"key": key_of(token), "ticket": "A003", "service": "A", "state": "waiting", "ahead": 5,
                "estimate_s": 600.0, "counter": None, "since": None}
        self.tickets[token] = {**base, **self.tickets.get(token, {}), **t}
        self.publish()

    def drop(self, token: str) -> None:
        self.tickets.pop(token)
        self.publish()

    def publish(self) -> None:
        doc = {"v": 1, "ts": self.day.isoformat(timespec="seconds"), "branch": BRANCH,
               "day": self.day.date().isoformat(), "tickets": list(self.tickets.values()), "calls": []}
        self.index.update(BRANCH, parse_follow(BRANCH, json.dumps(doc).encode()).doc)






@pytest.fixture
def push_server() -> Iterator[LocalServer]:
    s = LocalServer(201)
    yield s
    s.close()


@pytest.fixture
def webhook() -> Iterator[LocalServer]:
    s = LocalServer(200)
    yield s
    s.close()


@pytest.fixture
def world(vapid_file: Path, webhook: LocalServer) -> Iterator[tuple[Hall, Notifier, httpx.Client]]:
    index = FollowIndex()
    notifier = Notifier.from_options(str(vapid_file), SUBJECT, webhook.url + "/sms?secret=s3cr3t",
                                     allow_insecure_push=True)
    notifier.attach(index)
    try:
        with serve(Starlette(routes=alert_routes(index, notifier))) as client:
            yield Hall(index), notifier, client
    finally:
        notifier.close()


def test_push_and_webhook_fire_once_per_condition_and_the_phone_is_forgotten(
        world: tuple[Hall, Notifier, httpx.Client], push_server: LocalServer, webhook: LocalServer,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hall, notifier, client = world
    token = secrets.token_urlsafe(16)
    hall.put(token)
    browser = Browser(push_server.url + "/wpush/v2/opaque-capability")
    key = client.get("/api/public/push-key").json()["key"]
    ask = {"ahead": 2, "minutes": None, "on_call": True, "push": browser.subscription, "phone": PHONE}
    r = client.post(f"/t/{token}/alerts", json=ask)
    assert r.status_code == 201, r.text
    assert r.json() == {"ok": True, "ahead": 2, "minutes": None, "on_call": True, "push": True, "phone": True}

    hall.put(token, ahead=3, estimate_s=360.0)
    assert notifier.flush()
    assert push_server.received == [] and webhook.received == []

    hall.put(token, ahead=2, estimate_s=240.0)
    assert notifier.flush()
    [push] = push_server.received
    assert push["path"] == "/wpush/v2/opaque-capability"
    assert push["headers"]["content-encoding"] == "aes128gcm"
    assert push["headers"]["ttl"] == "900"
    k, _ = verify_vapid(push["headers"]["authorization"], push_server.url)
    assert k == key
    msg = browser.decrypt(push["body"])
    assert msg["url"] == f"/t/{token}"
    assert msg["title"] == "快到您了 / Your turn is near"
    assert msg["body"] == "A003 号快到了：前面还有 2 人，约 4 分钟。\nA003 is nearly up: 2 ahead, about 4 min."
    [hook] = webhook.received
    assert hook["path"] == "/sms?secret=s3cr3t"
    assert json.loads(hook["body"]) == {
        "event": "turn_near", "phone": PHONE, "ticket": "A003", "branch": BRANCH, "counter": None, "ahead": 2,
        "estimate_s": 240.0, "text": {"zh": "A003 号快到了：前面还有 2 人，约 4 分钟。",
                                      "en": "A003 is nearly up: 2 ahead, about 4 min."}}

    hall.put(token, ahead=1, estimate_s=120.0)                      # fires once: nothing new
    assert client.post(f"/t/{token}/alerts", json=ask).status_code == 201   # the page reconnects
    hall.put(token, ahead=0, estimate_s=60.0)
    assert notifier.flush()
    assert len(push_server.received) == 1 and len(webhook.received) == 1

    hall.put(token, state="called", ahead=None, estimate_s=None, counter=3)
    assert notifier.flush()
    assert len(push_server.received) == 2 and len(webhook.received) == 2
    called = push_server.received[1]
    assert called["headers"]["urgency"] == "high"
    assert browser.decrypt(called["body"]) == {"title": "叫号了 / You are called",
                                               "body": "请 A003 号到 3 号窗口办理\nA003, please go to counter 3",
                                               "url": f"/t/{token}"}
    doc = json.loads(webhook.received[1]["body"])
    assert (doc["event"], doc["counter"], doc["phone"]) == ("called", 3, PHONE)

    hall.put(token, state="serving")
    hall.put(token, state="called")                                 # a recall: already told
    assert notifier.flush()
    assert len(push_server.received) == 2 and len(webhook.received) == 2

    assert notifier.pending(key_of(token)) == 1
    hall.drop(token)                                                # the ticket expires
    assert notifier.flush()
    assert notifier.pending(key_of(token)) == 0
    hall.put(token, state="waiting", ahead=0, counter=None)         # the same key again: nobody asked
    assert notifier.flush()
    assert len(push_server.received) == 2 and len(webhook.received) == 2
    assert PHONE not in caplog.text                                 # not even at DEBUG
    told = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and r.name != "httpx")
    assert "opaque-capability" not in told and "s3cr3t" not in told  # (urllib3 names paths at DEBUG only)


def test_estimate_condition_and_parked_ticket_text(world: tuple[Hall, Notifier, httpx.Client],
                                                   webhook: LocalServer) -> None:
    hall, notifier, client = world
    token = secrets.token_urlsafe(16)
    hall.put(token, state="parked", ahead=8, estimate_s=900.0)
    r = client.post(f"/t/{token}/alerts", json={"minutes": 10, "phone": PHONE})
    assert r.status_code == 201, r.text
    hall.put(token, ahead=7, estimate_s=601.0)
    assert notifier.flush() and webhook.received == []
    hall.put(token, ahead=6, estimate_s=600.0)
    hall.put(token, ahead=5, estimate_s=500.0)
    assert notifier.flush()
    [hook] = webhook.received
    doc = json.loads(hook["body"])
    assert doc["event"] == "turn_near" and doc["ahead"] == 6
    assert doc["text"]["zh"].endswith("请先到取号机签到。")
    assert doc["text"]["en"].endswith("Please check in at the kiosk first.")


def test_already_true_when_asked_fires_at_once(world: tuple[Hall, Notifier, httpx.Client], webhook: LocalServer) -> None:
    hall, notifier, client = world
    token = secrets.token_urlsafe(16)
    hall.put(token, ahead=1, estimate_s=60.0)
    assert client.post(f"/t/{token}/alerts", json={"ahead": 3, "phone": PHONE}).status_code == 201
    assert notifier.flush()
    assert [json.loads(h["body"])["ahead"] for h in webhook.received] == [1]


@pytest.mark.parametrize("status", [410, 404])
def test_a_gone_subscription_is_dropped(world: tuple[Hall, Notifier, httpx.Client], push_server: LocalServer,
                                        webhook: LocalServer, status: int) -> None:
    hall, notifier, client = world
    push_server.default = status
    only_push, both = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    hall.put(only_push)
    hall.put(both, ticket="A004")
    b1, b2 = Browser(push_server.url + "/p/1"), Browser(push_server.url + "/p/2")
    assert client.post(f"/t/{only_push}/alerts", json={"ahead": 2, "on_call": True, "push": b1.subscription}
                       ).status_code == 201
    assert client.post(f"/t/{both}/alerts", json={"ahead": 2, "on_call": True, "push": b2.subscription,
                                                  "phone": PHONE}).status_code == 201
    hall.put(only_push, ahead=2)
    hall.put(both, ahead=2)
    assert notifier.flush()
    assert len(push_server.received) == 2 and len(webhook.received) == 1
    assert notifier.pending(key_of(only_push)) == 0                 # nothing left to tell it by
    assert notifier.pending(key_of(both)) == 1                      # the phone stays
    hall.put(only_push, state="called", ahead=None, estimate_s=None, counter=1)
    hall.put(both, state="called", ahead=None, estimate_s=None, counter=2)
    assert notifier.flush()
    assert len(push_server.received) == 2                           # no push to a gone subscription
    assert [json.loads(h["body"])["event"] for h in webhook.received] == ["turn_near", "called"]


def test_webhook_is_retried_once(world: tuple[Hall, Notifier, httpx.Client], webhook: LocalServer,
                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hall, notifier, client = world
    notifier.webhook.retry_after_s = 0.05
    t1, t2 = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    hall.put(t1)
    assert client.post(f"/t/{t1}/alerts", json={"ahead": 2, "phone": PHONE}).status_code == 201
    webhook.statuses = [500]                                        # fails once, then succeeds
    hall.put(t1, ahead=2)
    assert notifier.flush()
    assert len(webhook.received) == 2
    assert webhook.received[0]["body"] == webhook.received[1]["body"]

    webhook.received.clear()
    webhook.default = 503                                           # down: one retry, no more
    hall.put(t2, ticket="A009")
    assert client.post(f"/t/{t2}/alerts", json={"on_call": True, "phone": "+8613912345678"}).status_code == 201
    hall.put(t2, state="called", ahead=None, estimate_s=None, counter=4)
    assert notifier.flush()
    assert len(webhook.received) == 2
    assert "+86*********78" in caplog.text and "HTTP 503" in caplog.text
    assert PHONE not in caplog.text and "+8613912345678" not in caplog.text


def test_a_slow_webhook_never_holds_up_the_index(world: tuple[Hall, Notifier, httpx.Client],
                                                 webhook: LocalServer) -> None:
    hall, notifier, client = world
    webhook.delay_s = 1.5
    tokens = [secrets.token_urlsafe(16) for _ in range(3)]
    for i, t in enumerate(tokens):
        hall.put(t, ticket=f"A10{i}")        # three customers (one number is told about 2 tickets at most)
        assert client.post(f"/t/{t}/alerts", json={"ahead": 2, "phone": f"+86138001380{i:02d}"}).status_code == 201
    t0 = time.monotonic()
    for t in tokens:
        hall.tickets[t]["ahead"] = 1
    hall.publish()
    hall.publish()
    assert time.monotonic() - t0 < 0.2
    assert notifier.flush(10)
    assert len(webhook.received) == 3


def test_requests_are_forgotten_when_the_day_ends(vapid_file: Path, webhook: LocalServer) -> None:
    index = FollowIndex()
    notifier = Notifier.from_options(str(vapid_file), SUBJECT, webhook.url, allow_insecure_push=True)
    notifier.sweep_s = 0.2
    notifier.attach(index)
    try:
        with serve(Starlette(routes=alert_routes(index, notifier))) as client:
            hall = Hall(index)
            token = secrets.token_urlsafe(16)
            hall.put(token)
            assert client.post(f"/t/{token}/alerts", json={"ahead": 2, "phone": PHONE}).status_code == 201
            assert notifier.pending(key_of(token)) == 1
            hall.day -= timedelta(days=2)          # the branch's last message is of a past business day:
            hall.publish()                         # the index no longer shows the ticket
            assert index.view(key_of(token)) is None
            deadline = time.monotonic() + 5
            while notifier.pending(key_of(token)) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert notifier.pending(key_of(token)) == 0
    finally:
        notifier.close()


def test_a_push_endpoint_naming_a_private_host_is_never_posted_to(vapid_file: Path, push_server: LocalServer,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    from kiosk.hq.phone.notify.request import PushSubscription, check_endpoint
    from kiosk.hq.phone.notify.senders import PushResult, PushSender
    port = push_server.httpd.server_address[1]
    endpoint = check_endpoint(f"https://localhost:{port}/x", allow_insecure_push=False)   # a name: accepted
    b = Browser(endpoint)
    sender = PushSender(Vapid.from_file(str(vapid_file)), SUBJECT, allow_insecure_push=False)
    sub = PushSubscription(endpoint, b.subscription["keys"]["p256dh"], b.subscription["keys"]["auth"])
    assert sender.send(sub, "{}") is PushResult.GONE               # ... but it resolves to the loopback
    assert push_server.received == []
    assert "does not resolve to public addresses only" in caplog.text
