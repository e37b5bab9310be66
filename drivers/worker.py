"""One worker thread per output device: jobs run in order, each with a time limit.

The caller never waits for the device: :meth:`DeviceWorker.submit` returns a
:class:`concurrent.futures.Future` at once. If a job runs longer than its time limit the
future fails with :class:`~drivers.base.DeviceTimeout` and ``on_timeout(reason)`` is called
(devices turn that into a ``timeout`` fault); the stuck job keeps the thread, later jobs wait
behind it and are themselves timed out, so a dead device costs nothing but its own queue.

Timed tasks (:meth:`call_later`) run on the same thread, which is how devices poll status,
retry a connection with backoff or stop a blink without any locking of their own.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

from drivers.base import DeviceError, DeviceTimeout

log = logging.getLogger(__name__)


class _Task:
    __slots__ = ("fn", "args", "kwargs", "future", "timeout_s", "cancelled", "name")

    def __init__(self, fn, args, kwargs, future, timeout_s, name):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.future: Future = future
        self.timeout_s: Optional[float] = timeout_s
        self.cancelled = False
        self.name = name


class TimerHandle:
    """Returned by :meth:`DeviceWorker.call_later`; ``cancel()`` stops the task if not yet run."""

    def __init__(self, task: _Task) -> None:
        self._task = task

    def cancel(self) -> None:
        self._task.cancelled = True


class DeviceWorker:
    """A thread that runs one device's jobs in order, with time limits.

    :param name: device name (thread name and log messages).
    :param default_timeout_s: time limit of a job unless ``submit(..., timeout_s=)`` says
        otherwise; ``None`` for no limit.
    :param on_timeout: called with a reason when a job exceeds its time limit.
    :param max_pending: jobs waiting beyond this are refused (their future fails at once).
    """

    def __init__(
        self,
        name: str,
        *,
        default_timeout_s: Optional[float] = 10.0,
        on_timeout: Optional[Callable[[str], None]] = None,
        max_pending: int = 200,
    ) -> None:
        self.name = name
        self.default_timeout_s = default_timeout_s
        self.on_timeout = on_timeout
        self.max_pending = max_pending
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Task]] = []
        self._seq = itertools.count()
        self._closed = False
        self._busy = False
        # one watchdog thread per worker (no thread per job): it sleeps until the running
        # job's deadline and fails that job's future if it is still running then
        self._watch = threading.Condition()
        self._running: Optional[tuple[_Task, float]] = None
        self._thread = threading.Thread(target=self._run, name=f"dev-{name}", daemon=True)
        self._thread.start()
        self._watchdog = threading.Thread(target=self._watchdog_run, name=f"dev-{name}-watch",
                                          daemon=True)
        self._watchdog.start()

    # -- public -----------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], *args: Any, timeout_s: Any = "default",
               name: str = "", **kwargs: Any) -> Future:
        """Queue ``fn(*args, **kwargs)``; return its future at once."""
        return self._schedule(0.0, fn, args, kwargs, timeout_s, name)[0]

    def call_later(self, delay_s: float, fn: Callable[..., Any], *args: Any,
                   timeout_s: Any = "default", name: str = "", **kwargs: Any) -> TimerHandle:
        """Run ``fn`` on the worker thread after ``delay_s`` seconds (if not cancelled)."""
        return TimerHandle(self._schedule(max(0.0, delay_s), fn, args, kwargs, timeout_s, name)[1])

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        """Wait until no job is running or due now (timed tasks in the future don't count)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                now = time.monotonic()
                due = self._heap and self._heap[0][0] <= now
                if not self._busy and not due:
                    return True
                if now >= deadline:
                    return False
                self._cond.wait(min(0.01, deadline - now))

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop the thread; jobs not yet started fail with :class:`DeviceError`."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            pending = [t for _, _, t in self._heap]
            self._heap.clear()
            self._cond.notify_all()
        with self._watch:
            self._watch.notify_all()
        for task in pending:
            _fail(task.future, DeviceError(f"{self.name}: closed"))
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    # -- internals --------------------------------------------------------------------
    def _schedule(self, delay_s, fn, args, kwargs, timeout_s, name):
        fut: Future = Future()
        if timeout_s == "default":
            timeout_s = self.default_timeout_s
        task = _Task(fn, args, kwargs, fut, timeout_s, name or getattr(fn, "__name__", "job"))
        with self._cond:
            if self._closed:
                _fail(fut, DeviceError(f"{self.name}: closed"))
                return fut, task
            if len(self._heap) >= self.max_pending:
                _fail(fut, DeviceError(f"{self.name}: too many pending jobs"))
                return fut, task
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), task))
            self._cond.notify_all()
        return fut, task

    def _next_task(self) -> Optional[_Task]:
        with self._cond:
            while not self._closed:
                if self._heap:
                    due, _, task = self._heap[0]
                    wait = due - time.monotonic()
                    if wait <= 0:
                        heapq.heappop(self._heap)
                        self._busy = True
                        return task
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    def _run(self) -> None:
        while True:
            task = self._next_task()
            if task is None:
                return
            try:
                if not task.cancelled and task.future.set_running_or_notify_cancel():
                    self._execute(task)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _execute(self, task: _Task) -> None:
        if task.timeout_s is not None:
            with self._watch:
                self._running = (task, time.monotonic() + task.timeout_s)
                self._watch.notify()
        try:
            result = task.fn(*task.args, **task.kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported through the future
            if not task.future.done():
                log.debug("%s: %s failed: %r", self.name, task.name, exc)
            _fail(task.future, exc)
        else:
            try:
                task.future.set_result(result)
            except Exception:  # already failed by the timeout
                pass
        finally:
            if task.timeout_s is not None:
                with self._watch:
                    if self._running is not None and self._running[0] is task:
                        self._running = None

    def _watchdog_run(self) -> None:
        with self._watch:
            while not self._closed:
                running = self._running
                if running is None:
                    self._watch.wait()
                    continue
                task, deadline = running
                left = deadline - time.monotonic()
                if left > 0:
                    self._watch.wait(left)
                    continue
                self._running = None  # fire once per job
                self._watch.release()
                try:
                    self._timed_out(task)
                finally:
                    self._watch.acquire()

    def _timed_out(self, task: _Task) -> None:
        if task.future.done():
            return
        reason = f"{task.name} took longer than {task.timeout_s:g} s"
        if self.on_timeout:  # report first, so whoever waits on the future sees the fault
            try:
                self.on_timeout(reason)
            except Exception:
                log.exception("%s: on_timeout failed", self.name)
        _fail(task.future, DeviceTimeout(f"{self.name}: {reason}"))


def _fail(fut: Future, exc: BaseException) -> bool:
    try:
        fut.set_exception(exc)
        return True
    except Exception:  # already done
        return False
