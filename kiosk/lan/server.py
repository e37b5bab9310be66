"""`LanServer`: the hall web app on uvicorn, in a thread of the kiosk process.

Started by the composition root (`kiosk.app.run`) once the kiosk's core is open, stopped before
it closes. The limits of `kiosk.webkit.http_limits` (as the HQ dashboard's) keep a hostile client
from holding the kiosk: a request head must arrive within 10 s of the connection opening or of
the previous response, open connections are capped in all (128) and per client address (32)
(``503`` beyond), idle connections are closed after 5 s, request heads are at most 16 KiB
(``431``), bodies at most 16 KiB (``413``) and due within 10 s (``408``) — see `kiosk.lan.app.LIMITS`.
"""
from __future__ import annotations

import logging
import threading
import time

import uvicorn

from kiosk.lan.app import LIMITS, create_app
from kiosk.lan.port import HallPort
from kiosk.webkit.http_limits import ServerLimits, limited_h11

log = logging.getLogger("kiosk.lan")

START_TIMEOUT_S = 15.0


class LanServer:
    def __init__(self, port: HallPort, host: str, tcp_port: int, *, tls_cert: str | None = None,
                 tls_key: str | None = None, push_ms: float = 250, limits: ServerLimits = LIMITS) -> None:
        self.host = host
        self.tls = tls_cert is not None
        config = uvicorn.Config(create_app(port, push_ms=push_ms, limits=limits), host=host, port=tcp_port,
                                lifespan="on", log_level="warning", access_log=False, http=limited_h11(limits),
                                timeout_keep_alive=limits.keep_alive_s,
                                h11_max_incomplete_event_size=limits.max_header_bytes,
                                ssl_certfile=tls_cert, ssl_keyfile=tls_key, server_header=False,
                                timeout_graceful_shutdown=1.0)   # open live streams (pages, a TV) end within 1 s
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="lan-web", daemon=True)

    @property
    def port(self) -> int:
        """The port listened on (the one the OS chose when 0 was asked)."""
        for s in self.server.servers:
            for sock in s.sockets:
                return sock.getsockname()[1]
        return self.server.config.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def start(self) -> LanServer:
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError(f"the hall web app could not listen on {self.host}:{self.server.config.port} "
                                   "(see the log)")
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the hall web app did not start in time")
            time.sleep(0.02)
        log.info("hall web app on %s (/caller, /floor, /api)", self.url)
        return self

    def close(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(10)
