"""A client of a server-sent-event stream (the HQ dashboard's ``/api/stream``) in its own thread,
for the dashboard tests and its benchmark: every ``(event, data)`` frame goes to a callback."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx

Frame = Callable[[str, Any, int], None]  # (event name, decoded data, size of the data line)


class SseStream:
    def __init__(self, client: httpx.Client, on_frame: Frame, path: str = "/api/stream") -> None:
        self._client = client
        self._on_frame = on_frame
        self._stop = False
        self._resp: httpx.Response | None = None
        self.thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self.thread.start()

    def _run(self, path: str) -> None:
        event = None
        try:
            with self._client.stream("GET", path, timeout=httpx.Timeout(30, read=None)) as r:
                self._resp = r
                for line in r.iter_lines():
                    if self._stop:
                        return
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event:
                        self._on_frame(event, json.loads(line[6:]), len(line))
        except (httpx.HTTPError, OSError):
            if not self._stop:  # closing the stream from close() ends the read with an error
                raise

    def close(self) -> None:
        self._stop = True
        if self._resp is not None:
            sock = self._resp.extensions["network_stream"].get_extra_info("socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the reader blocked in recv()
                except OSError:
                    pass
        self.thread.join(10)
