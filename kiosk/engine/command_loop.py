"""One thread of control: every input becomes a command run in order on the core thread.

GPIO callbacks (gpiozero's thread), touches (Kivy's thread), MQTT commands (paho's thread)
and timers call `submit(fn, *args)`; the loop runs `fn` on its own thread, where the engine
and its SQLite connection live, and the caller gets a `Future`. Between commands the loop
runs its periodic jobs (rollover check, watchdog ping, housekeeping).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)

_STOP = object()


class CommandLoop:
    def __init__(self, name: str = "kiosk-core") -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._periodic: list[list[Any]] = []  # [interval_s, next_due, fn]
        self._started = threading.Event()
        self.processed = 0

    def start(self) -> CommandLoop:
        self._thread.start()
        self._started.wait()
        return self

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        """Queue `fn(*args, **kwargs)` for the core thread; never blocks."""
        fut: Future = Future()
        self._queue.put((fut, fn, args, kwargs))
        return fut

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = 30, **kwargs: Any) -> Any:
        """Run on the core thread and wait for the result (raises what `fn` raised)."""
        if self.in_loop():
            return fn(*args, **kwargs)
        return self.submit(fn, *args, **kwargs).result(timeout)

    def every(self, interval_s: float, fn: Callable[[], Any]) -> None:
        """Run `fn` on the core thread every `interval_s` seconds (first run: after one interval)."""
        self._periodic.append([interval_s, time.monotonic() + interval_s, fn])

    def stop(self, timeout: float = 10) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        self._started.set()
        while True:
            timeout = self._due_in()
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is _STOP:
                return
            if item is not None:
                fut, fn, args, kwargs = item
                if fut.set_running_or_notify_cancel():
                    try:
                        fut.set_result(fn(*args, **kwargs))
                    except BaseException as exc:  # noqa: BLE001 — the caller gets it
                        fut.set_exception(exc)
                self.processed += 1
            self._run_due()

    def _due_in(self) -> float | None:
        if not self._periodic:
            return None
        return max(0.0, min(p[1] for p in self._periodic) - time.monotonic())

    def _run_due(self) -> None:
        now = time.monotonic()
        for p in self._periodic:
            if p[1] <= now:
                p[1] = now + p[0]
                try:
                    p[2]()
                except Exception:  # noqa: BLE001 — a periodic job must not kill the core
                    log.exception("periodic job %r failed", p[2])
