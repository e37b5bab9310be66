"""Signing in to the HQ dashboard as a script does (benchmarks, screenshots, tests): every
state-changing request carries the session's CSRF token (kiosk.hq.web.security), read from the
login page's ``csrf-token`` meta tag."""
from __future__ import annotations

import re

import httpx

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_of(c: httpx.Client) -> str:
    """The CSRF token of the client's session (made on the first page it loads)."""
    r = c.get("/login")
    m = _CSRF_META.search(r.text)
    if not m:
        raise RuntimeError(f"no csrf-token meta tag on /login (HTTP {r.status_code})")
    return m.group(1)


def sign_in(c: httpx.Client, name: str, password: str, next_path: str = "/") -> httpx.Response:
    """Post the login form with its token; on success the client sends the new session's token
    in the X-CSRF-Token header from then on."""
    r = c.post("/login", data={"name": name, "password": password, "next": next_path, "csrf": csrf_of(c)})
    if r.status_code == 303:
        c.headers["X-CSRF-Token"] = csrf_of(c)
    return r
