"""The HQ dashboard: the HQ monitor and recorder (`kiosk.hq.monitor`, `kiosk.hq.recorder`) plus a
small web server (Starlette + uvicorn) that serves a live page of every branch, pushed by
server-sent events.

Modules: `auth` (users, scrypt hashes, revocable sessions, command log, in the recording's
SQLite file), `security` (CSP and security headers, CSRF), `pages` (auto-escaped pages),
`throttle` (login throttling per address and name, kept in the database; the header deadline,
connection caps and body limit are `kiosk.webkit.http_limits`),
`live` (the MQTT side: the monitor and recorder, per-branch detail, dirty tracking, HQ
commands with replies), `sse` (per-client coalesced pushes), `app` (the Starlette
application), `queries` (day figures from the recorded events); its command line is
`kiosk.cli.hq_web`.
"""
