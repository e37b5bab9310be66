"""What a validated HQ command does on the running kiosk.

`dispatch()` hands a `kiosk.mqtt.protocol.Command` to its handler; each handler calls one
typed method of the kiosk (`KioskPort`), which runs on the core thread, and returns a
`Future` of the reply's ``result``. Engine errors (a `QueueError` with a ``.code``) come
out of the Future as exceptions; `error_of()` turns one into the reply's error.

A message for the displays is checked here once more, whoever built the command: a control
character (ESC/POS or a sign's framing byte) or an over-long text never reaches a display.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from kiosk import __version__
from kiosk.config.text import check_printable
from kiosk.domain.model import EventType
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.protocol import MAX_RESEND, MAX_TEXT_CHARS, Command, CommandError

Handler = Callable[[dict[str, Any], KioskPort], Future]


def _ping(args: dict[str, Any], app: KioskPort) -> Future:
    fut: Future = Future()
    fut.set_result({"pong": True, "version": __version__})
    return fut


def _counter(args: dict[str, Any], app: KioskPort) -> Future:
    return _then(app.set_counter(args["counter"], args["state"]),
                 lambda state: {"counter": args["counter"], "state": state})


def _stats(args: dict[str, Any], app: KioskPort) -> Future:
    return app.read_snapshot()  # read on the core thread: the MQTT thread does not wait


def _display_message(args: dict[str, Any], app: KioskPort) -> Future:
    text = args["text"]
    if len(text) > MAX_TEXT_CHARS:
        return _failed(CommandError("out_of_range", f"field 'text' is longer than {MAX_TEXT_CHARS} characters"))
    try:
        check_printable(text)
    except ValueError as exc:
        return _failed(CommandError("bad_value", f"field 'text' {exc}"))
    return _then(app.record_event(EventType.DISPLAY_MESSAGE, text=args["text"], seconds=args["seconds"]),
                 lambda _: {"text": args["text"], "seconds": args["seconds"]})


def _service_hours(args: dict[str, Any], app: KioskPort) -> Future:
    return _then(app.set_service_hours(args["service"], args["hours"]),
                 lambda hours: {"service": args["service"], "hours": hours})


def _resend(args: dict[str, Any], app: KioskPort) -> Future:
    first, last = args["from_seq"], args["to_seq"]
    if not 1 <= first <= last < first + MAX_RESEND:
        return _failed(CommandError("out_of_range", f"resend {first}..{last}: at most {MAX_RESEND} seqs from 1"))
    return _then(app.resend_events(first, last), lambda r: {"from_seq": first, "to_seq": last, **r})


def _issue_remote(args: dict[str, Any], app: KioskPort) -> Future:
    return app.issue_remote(args["service"], form=args.get("form"))


HANDLERS: dict[str, Handler] = {
    "ping": _ping,
    "counter": _counter,
    "stats": _stats,
    "display_message": _display_message,
    "service_hours": _service_hours,
    "resend": _resend,
    "issue_remote": _issue_remote,
}


def dispatch(cmd: Command, app: KioskPort) -> Future:
    """Run a validated command; the Future's result is the reply's ``result``."""
    handler = HANDLERS.get(cmd.name)
    if handler is None:  # validate() knows no command without a handler (tests check both tables)
        raise CommandError("unknown_command", f"unknown command {cmd.name!r}")
    return handler(cmd.args, app)


def _failed(exc: BaseException) -> Future:
    """A Future that already holds `exc` (the command is refused; the reply says why)."""
    fut: Future = Future()
    fut.set_exception(exc)
    return fut


def _then(fut: Future, fn: Callable[[Any], Any]) -> Future:
    """A Future of `fn(result of fut)`; an exception of either comes out of it."""
    out: Future = Future()

    def done(f: Future) -> None:
        exc = f.exception()
        if exc is not None:
            out.set_exception(exc)
        else:
            try:
                out.set_result(fn(f.result()))
            except Exception as e:  # noqa: BLE001 — handed to the reply
                out.set_exception(e)

    fut.add_done_callback(done)
    return out


def error_of(exc: BaseException) -> tuple[str, str]:
    """(code, message) of an exception raised by the engine while running a command."""
    code = getattr(exc, "code", None)
    if isinstance(exc, CommandError):
        return exc.code, exc.message
    if isinstance(code, str):
        return code, str(exc)
    return "internal_error", f"{type(exc).__name__}: {exc}"[:200]
