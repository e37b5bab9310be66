"""The public alert routes under hostile input, on a real uvicorn server: a bad or unknown token
is the plain 404 of the ticket page, a bad body is refused with a message naming what is wrong,
and nothing of a refused request is kept."""
from __future__ import annotations

import base64
import contextlib
import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from starlette.applications import Starlette

from kiosk.hq.ingest.follow import parse_follow
from kiosk.hq.phone.follow_index import FollowIndex, key_of
from kiosk.hq.phone.notify import Notifier, NotifyConfigError, alert_routes
from tests.kit.asgi_serve import serve, vapid_file  # noqa: F401 — vapid_file is a fixture

BRANCH = "sh-notify-02"
TOKEN = secrets.token_urlsafe(16)


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def p256dh() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    return b64u(key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))


def sub(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc", **keys: str) -> dict[str, Any]:
    return {"endpoint": endpoint, "expirationTime": None,
            "keys": {"p256dh": p256dh(), "auth": b64u(secrets.token_bytes(16)), **keys}}






def _index() -> FollowIndex:
    now = datetime.now().astimezone()
    doc = {"v": 1, "ts": now.isoformat(timespec="seconds"), "branch": BRANCH, "day": now.date().isoformat(),
           "tickets": [{"key": key_of(TOKEN), "ticket": "B007", "service": "B", "state": "waiting", "ahead": 9,
                        "estimate_s": 900.0, "counter": None, "since": None}], "calls": []}
    index = FollowIndex()
    index.update(BRANCH, parse_follow(BRANCH, json.dumps(doc).encode()).doc)
    return index


@contextlib.contextmanager
def running(notifier: Notifier) -> Iterator[tuple[httpx.Client, Notifier]]:
    index = _index()
    notifier.attach(index)
    try:
        with serve(Starlette(routes=alert_routes(index, notifier))) as client:
            yield client, notifier
    finally:
        notifier.close()


@pytest.fixture
def full(vapid_file: Path) -> Iterator[tuple[httpx.Client, Notifier]]:
    """Push and webhook configured, insecure push not allowed (as in production)."""
    with running(Notifier.from_options(str(vapid_file), "mailto:ops@example.com",
                                       "http://127.0.0.1:9/hook")) as x:
        yield x


HOSTILE: list[tuple[str, bytes | dict[str, Any], str]] = [
    ("not json", b"{ahead: 2", "not JSON"),
    ("not utf-8", b'{"ahead": "\xff"}', "not JSON"),
    ("deep nesting", b"[" * 1500 + b"]" * 1500, "not JSON"),
    ("array", b"[1, 2]", "must be a JSON object"),
    ("unknown field", {"ahead": 2, "phone": "+8613800138000", "admin": True}, "unknown field(s): admin"),
    ("ahead too big", {"ahead": 51, "phone": "+8613800138000"}, "'ahead' must be a whole number from 0 to 50"),
    ("ahead negative", {"ahead": -1, "phone": "+8613800138000"}, "'ahead' must be"),
    ("ahead text", {"ahead": "3", "phone": "+8613800138000"}, "'ahead' must be"),
    ("ahead bool", {"ahead": True, "phone": "+8613800138000"}, "'ahead' must be"),
    ("ahead float", {"ahead": 2.5, "phone": "+8613800138000"}, "'ahead' must be"),
    ("minutes 0", {"minutes": 0, "phone": "+8613800138000"}, "'minutes' must be a whole number from 1 to 180"),
    ("minutes 181", {"minutes": 181, "phone": "+8613800138000"}, "'minutes' must be"),
    ("on_call text", {"on_call": "yes", "phone": "+8613800138000"}, "'on_call' must be true or false"),
    ("nothing asked", {"on_call": False, "phone": "+8613800138000"}, "nothing to be told"),
    ("no channel", {"ahead": 2}, "no way to tell you"),
    ("phone no plus", {"ahead": 2, "phone": "13800138000"}, "'phone' must be '+' and 6 to 15 digits"),
    ("phone short", {"ahead": 2, "phone": "+12345"}, "'phone' must be"),
    ("phone long", {"ahead": 2, "phone": "+1234567890123456"}, "'phone' must be"),
    ("phone spaces", {"ahead": 2, "phone": "+86 138 0013 8000"}, "'phone' must be"),
    ("phone number", {"ahead": 2, "phone": 8613800138000}, "'phone' must be"),
    ("phone newline", {"ahead": 2, "phone": "+8613800138000\n"}, "'phone' must be"),
    ("push not object", {"ahead": 2, "push": "https://x"}, "'push' must be a PushSubscription object"),
    ("push http", {"ahead": 2, "push": sub("http://push.example.com/x")}, "must be an https URL"),
    ("push loopback http", {"ahead": 2, "push": sub("http://127.0.0.1:8080/x")}, "must be an https URL"),
    ("push ip", {"ahead": 2, "push": sub("https://10.0.0.5/x")}, "must name a host, not an IP address"),
    ("push ipv6", {"ahead": 2, "push": sub("https://[::1]/x")}, "must name a host, not an IP address"),
    ("push user", {"ahead": 2, "push": sub("https://user:pw@push.example.com/x")}, "no user"),
    ("push javascript", {"ahead": 2, "push": sub("javascript:alert(1)")}, "with a host"),
    ("push bad port", {"ahead": 2, "push": sub("https://push.example.com:99999/x")}, "not a valid URL"),
    ("push too long", {"ahead": 2, "push": sub("https://push.example.com/" + "a" * 1100)}, "at most 1024"),
    ("push field", {"ahead": 2, "push": {**sub(), "extra": 1}}, "unknown push field(s): extra"),
    ("push no keys", {"ahead": 2, "push": {"endpoint": "https://push.example.com/x"}}, "exactly 'p256dh' and 'auth'"),
    ("auth short", {"ahead": 2, "push": sub(auth=b64u(b"x" * 15))}, "'auth' must decode to 16 bytes, not 15"),
    ("auth not b64", {"ahead": 2, "push": sub(auth="!!!!not base64!!!!")}, "'auth' must be base64url"),
    ("p256dh short", {"ahead": 2, "push": sub(p256dh=b64u(b"\x04" + b"\x01" * 32))}, "must decode to 65 bytes"),
    ("p256dh off curve", {"ahead": 2, "push": sub(p256dh=b64u(b"\x04" + b"\x01" * 64))}, "not a P-256 public key"),
]


@pytest.mark.parametrize("body,message", [(b, m) for _, b, m in HOSTILE], ids=[n for n, _, _ in HOSTILE])
def test_hostile_bodies_are_refused_and_nothing_kept(full: tuple[httpx.Client, Notifier], body: Any,
                                                     message: str) -> None:
    client, notifier = full
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post(f"/t/{TOKEN}/alerts", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request"
    assert message in r.json()["message"]
    assert notifier.pending(key_of(TOKEN)) == 0


def test_bad_and_unknown_tokens_are_the_same_plain_404(full: tuple[httpx.Client, Notifier]) -> None:
    client, _ = full
    ok = {"ahead": 2, "phone": "+8613800138000"}
    answers = [client.post(f"/t/{t}/alerts", json=ok) for t in
               (secrets.token_urlsafe(16), TOKEN[:-1], TOKEN + "A", "..%2E..%2Eapi", "%00" * 22, TOKEN[:21] + "!")]
    for r in answers:
        assert (r.status_code, r.text, r.headers["content-type"].split(";")[0]) == (404, "not found", "text/plain")
    assert client.get(f"/t/{TOKEN}/alerts").status_code == 405


def test_size_and_type_limits(full: tuple[httpx.Client, Notifier]) -> None:
    client, notifier = full
    big = json.dumps({"ahead": 2, "phone": "+8613800138000", "pad": "x" * 5000}).encode()
    r = client.post(f"/t/{TOKEN}/alerts", content=big, headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["error"]) == (413, "too_large")

    def chunks() -> Iterator[bytes]:          # no Content-Length: the stream is cut at 4 KB
        yield b'{"ahead": 2, "phone": "+8613800138000", "pad": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'
    r = client.post(f"/t/{TOKEN}/alerts", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    r = client.post(f"/t/{TOKEN}/alerts", content=b'{"ahead": 2}', headers={"Content-Type": "text/plain"})
    assert (r.status_code, r.json()["error"]) == (415, "bad_type")
    r = client.post(f"/t/{TOKEN}/alerts", data={"ahead": "2", "phone": "+8613800138000"})   # an HTML form
    assert r.status_code == 415
    assert notifier.pending(key_of(TOKEN)) == 0


def test_at_most_three_requests_per_ticket_the_same_channel_replaces(full: tuple[httpx.Client, Notifier]) -> None:
    client, notifier = full
    for i in range(3):
        assert client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "phone": f"+861380013800{i}"}).status_code == 201
    r = client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "phone": "+8613800138009"})
    assert r.status_code == 429 and r.json() == {"error": "too_many",
                                                 "message": "a ticket has at most 3 alert requests"}
    assert client.post(f"/t/{TOKEN}/alerts", json={"minutes": 5, "phone": "+8613800138001"}).status_code == 201
    assert notifier.pending(key_of(TOKEN)) == 3
    s = sub()
    assert client.post(f"/t/{TOKEN}/alerts", json={"ahead": 1, "push": s}).status_code == 429
    # a push subscription together with a phone already held replaces that phone's request
    assert client.post(f"/t/{TOKEN}/alerts", json={"ahead": 1, "push": s, "phone": "+8613800138000"}
                       ).status_code == 201
    assert client.post(f"/t/{TOKEN}/alerts", json={"ahead": 3, "push": s}).status_code == 201
    assert notifier.pending(key_of(TOKEN)) == 3


def test_push_key_and_channels_not_configured(vapid_file: Path) -> None:
    with running(Notifier.from_options(None, None, None)) as (client, notifier):
        assert (client.get("/api/public/push-key").status_code, client.get("/api/public/push-key").text) == \
            (404, "not found")
        r = client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "push": sub()})
        assert r.status_code == 400 and r.json()["message"] == "push notifications are not configured on this server"
        r = client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "phone": "+8613800138000"})
        assert r.status_code == 400 and r.json()["message"] == "text messages are not configured on this server"
        assert notifier.pending(key_of(TOKEN)) == 0
    with running(Notifier.from_options(str(vapid_file), "mailto:ops@example.com", None)) as (client, _):
        key = client.get("/api/public/push-key").json()["key"]
        raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
        assert len(raw) == 65 and raw[0] == 4
        assert Vapid.from_file(str(vapid_file)).public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint) == raw


def test_insecure_push_only_to_the_loopback_and_only_when_allowed(vapid_file: Path) -> None:
    with running(Notifier.from_options(str(vapid_file), "mailto:ops@example.com", None,
                                       allow_insecure_push=True)) as (client, _):
        assert client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "push": sub("http://127.0.0.1:8080/x")}
                           ).status_code == 201
        r = client.post(f"/t/{TOKEN}/alerts", json={"ahead": 2, "push": sub("http://192.168.1.2/x")})
        assert r.status_code == 400 and "https" in r.json()["message"]


@pytest.mark.parametrize("args,message", [
    (("{missing}", "mailto:ops@example.com", None), "no such file"),
    (("{garbage}", "mailto:ops@example.com", None), "not a PEM private key"),
    (("{rsa}", "mailto:ops@example.com", None), "not a P-256"),
    (("{ok}", None, None), "--vapid-key and --vapid-subject go together"),
    ((None, "mailto:ops@example.com", None), "go together"),
    (("{ok}", "ops@example.com", None), "--vapid-subject"),
    (("{ok}", "http://example.com", None), "--vapid-subject"),
    ((None, None, "ftp://gw.example.com/sms"), "--notify-webhook is not an http(s) URL"),
    ((None, None, "gw.example.com/sms"), "--notify-webhook"),
])
def test_bad_options_are_named(tmp_path: Path, vapid_file: Path, args: tuple[Any, ...], message: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    (tmp_path / "garbage.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "rsa.pem").write_bytes(rsa_pem)
    paths = {"missing": str(tmp_path / "none.pem"), "garbage": str(tmp_path / "garbage.pem"),
             "rsa": str(tmp_path / "rsa.pem"), "ok": str(vapid_file)}
    real = [a.format(**paths) if isinstance(a, str) and a.startswith("{") else a for a in args]
    with pytest.raises(NotifyConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Notifier.from_options(*real)
    assert not (tmp_path / "none.pem").exists()       # py-vapid would have made one: we do not


def test_one_phone_number_is_told_about_two_tickets_at_most(vapid_file: Path) -> None:
    """Rate limit per phone: whoever holds several tickets' pages cannot make HQ's gateway text one
    number about all of them (an SMS flood at the operator's cost); the cap frees with the tickets."""
    now = datetime.now().astimezone()
    tokens = [secrets.token_urlsafe(16) for _ in range(3)]
    doc = {"v": 1, "ts": now.isoformat(timespec="seconds"), "branch": BRANCH, "day": now.date().isoformat(),
           "tickets": [{"key": key_of(t), "ticket": f"B00{i}", "service": "B", "state": "waiting", "ahead": 9,
                        "estimate_s": 900.0, "counter": None, "since": None} for i, t in enumerate(tokens)],
           "calls": []}
    index = FollowIndex()
    index.update(BRANCH, parse_follow(BRANCH, json.dumps(doc).encode()).doc)
    notifier = Notifier.from_options(str(vapid_file), "mailto:ops@example.com", "http://127.0.0.1:9/hook")
    notifier.attach(index)
    try:
        with serve(Starlette(routes=alert_routes(index, notifier))) as client:
            phone = "+8613800138000"
            for t in tokens[:2]:
                assert client.post(f"/t/{t}/alerts", json={"ahead": 2, "phone": phone}).status_code == 201
            assert client.post(f"/t/{tokens[0]}/alerts", json={"minutes": 5, "phone": phone}).status_code == 201
            r = client.post(f"/t/{tokens[2]}/alerts", json={"ahead": 2, "phone": phone})
            assert r.status_code == 429 and "2 other tickets" in r.json()["message"]
            assert client.post(f"/t/{tokens[2]}/alerts", json={"ahead": 2, "phone": "+8613900139000"}
                               ).status_code == 201                      # another number: fine
            doc["tickets"] = doc["tickets"][1:]                          # the first ticket leaves the queue
            index.update(BRANCH, parse_follow(BRANCH, json.dumps(doc).encode()).doc)
            assert notifier.flush()
            assert client.post(f"/t/{tokens[2]}/alerts", json={"ahead": 2, "phone": phone}).status_code == 201
    finally:
        notifier.close()
