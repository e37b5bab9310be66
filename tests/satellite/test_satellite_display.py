"""A now-serving TV on another Pi (`kiosk run --satellite URL --screen display`): the satellite's
app follows the main kiosk's live hall (`GET /api/stream`) — a call at the main kiosk reaches its
`recent_calls()` and a `ticket.called` event within 2 s; the main kiosk cut off (its connections
dropped, none accepted) → offline within 2 s; back → it follows again by itself."""
from __future__ import annotations

import socket
import threading
import time

from kiosk.app.satellite import SatelliteApp  # noqa: E402
from kiosk.sim.waiting import wait_until  # noqa: E402
from ui.devtools.harness import headless_env  # imports no Kivy: the environment Kivy reads at import

headless_env()

from kiosk.app.main_link import MainLink  # noqa: E402
from tests.lan.conftest import DEVICE_TOKEN, hall_settings  # noqa: E402
from tests.satellite.test_satellite import Main, main  # noqa: E402,F401 — `main` is a fixture

LIVE_S = 2.0


class Events:
    """The events a satellite hands its screen, as they come."""

    def __init__(self, sat: SatelliteApp) -> None:
        self.seen: list[dict] = []
        self._lock = threading.Lock()
        self.unsubscribe = sat.subscribe(self._take)

    def _take(self, event: dict) -> None:
        with self._lock:
            self.seen.append(event)

    def called(self) -> list[tuple[str, int]]:
        with self._lock:
            return [(e["ticket"], e["counter"]) for e in self.seen if e["type"] == "ticket.called"]


class Cable:
    """A TCP relay between the satellite and the main kiosk's server that can be unplugged: every
    connection through it is cut at once (as when the main kiosk's Pi goes off) and none is
    accepted until it is plugged in again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = 0
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.plug()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plug(self) -> None:
        lst = socket.socket()
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lst.bind(("127.0.0.1", self.port))
        lst.listen(16)
        self.port, self._listener = lst.getsockname()[1], lst
        threading.Thread(target=self._accept, args=(lst,), daemon=True).start()

    def unplug(self) -> None:
        with self._lock:
            socks, self._socks = self._socks, []
            lst, self._listener = self._listener, None
        for s in [lst, *socks]:
            if s is not None:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _accept(self, lst: socket.socket) -> None:
        while True:
            try:
                near, _ = lst.accept()
                far = socket.create_connection(self.target, 3)
            except OSError:
                return
            with self._lock:
                self._socks += [near, far]
            for a, b in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def tv(tmp_path, url: str) -> SatelliteApp:
    """A satellite as `kiosk run --satellite URL --screen display` starts it: following the live hall."""
    return SatelliteApp(hall_settings(), tmp_path / "tv", MainLink(url, DEVICE_TOKEN, timeout_s=3.0), simulate=True,
                        retry_s=0.2, follow=True).start()


def call_at_main(m: Main, counter: int) -> str:
    m.app.set_counter(counter, "open").result(10)
    r = m.app.call_next(counter).result(10)
    assert r is not None
    return r.ticket


def test_a_call_at_the_main_kiosk_reaches_the_satellite_board_within_two_seconds(main: Main, tmp_path) -> None:
    a = main.app.issue("A").result(10).ticket
    b = main.app.issue("A").result(10).ticket
    sat = tv(tmp_path, main.url)
    events = Events(sat)
    try:
        wait_until(lambda: sat._streaming, 10, 0.02)
        assert sat.recent_calls() == []
        t0 = time.monotonic()
        assert call_at_main(main, 1) == a
        wait_until(lambda: [c["number"] for c in sat.recent_calls()] == [a] and events.called() == [(a, 1)],
                   LIVE_S, 0.01)
        first_s = time.monotonic() - t0
        assert call_at_main(main, 2) == b
        wait_until(lambda: [c["number"] for c in sat.recent_calls()] == [b, a], LIVE_S, 0.01)
        assert events.called() == [(a, 1), (b, 2)]
        calls = sat.recent_calls()
        assert [(c["counter"], c["service"], c["recalls"]) for c in calls] == [(2, "A", 0), (1, "A", 0)]
        key = lambda r: (r["number"], r["counter"], r["service"])  # noqa: E731
        assert {key(c) for c in calls} == {key(c) for c in main.app.recent_calls()}   # the main board's rows
        snap = sat.snapshot()
        assert snap["waiting"] == 0 and {s["unavailable"] for s in snap["services"]} == {None}
        print(f"a call reached the satellite in {first_s * 1000:.0f} ms")
        main.app.recall(1).result(10)                       # a recall at the main kiosk: the board calls it again
        wait_until(lambda: [e["ticket"] for e in events.seen if e["type"] == "ticket.recalled"] == [a], LIVE_S, 0.01)
        assert next(c for c in sat.recent_calls() if c["number"] == a)["recalls"] == 1
        assert events.called() == [(a, 1), (b, 2)]          # a recall is not a new call
    finally:
        events.unsubscribe()
        sat.stop()


def test_the_main_kiosk_cut_off_the_board_says_offline_then_follows_again(main: Main, tmp_path) -> None:
    a = main.app.issue("A").result(10).ticket
    cable = Cable(main.port)
    sat = tv(tmp_path, cable.url)
    events = Events(sat)
    try:
        assert call_at_main(main, 1) == a
        wait_until(lambda: [c["number"] for c in sat.recent_calls()] == [a], LIVE_S, 0.01)
        cable.unplug()
        wait_until(lambda: not sat.online, LIVE_S, 0.01)
        assert sat.device_status()["main-kiosk"]["fault"] == "unreachable"
        assert {s["unavailable"] for s in sat.snapshot()["services"]} == {"offline"}
        assert sat.recent_calls() == []                              # no stale calls on the board
        b = main.app.issue("A").result(10).ticket
        assert any(e["type"] == "device.fault" and e["device"] == "main-kiosk" for e in events.seen)
        time.sleep(1.0)                                              # a few retries, all refused
        assert not sat.online
        cable.plug()
        wait_until(lambda: sat.online and sat._streaming, 10, 0.05)
        assert [c["number"] for c in sat.recent_calls()] == [a]
        assert call_at_main(main, 3) == b
        wait_until(lambda: (b, 3) in events.called(), LIVE_S, 0.01)
        assert [c["number"] for c in sat.recent_calls()] == [b, a]
    finally:
        events.unsubscribe()
        sat.stop()
        cable.unplug()


def test_the_board_on_the_satellite_shows_the_main_kiosks_call_and_blinks(main: Main, tmp_path) -> None:
    from ui.devtools import harness as h     # Kivy, headless (the environment is set above)
    h.configure((800, 480))
    a = main.app.issue("A").result(10).ticket
    sat = tv(tmp_path, main.url)
    ui = None
    try:
        wait_until(lambda: sat._streaming, 10, 0.02)
        ui = h.start_ui(sat, "display")
        screen = ui.sm.get_screen("display")
        assert screen.ids.calls.children == [] and not screen.blinking
        call_at_main(main, 1)
        h.pump_until(lambda: [r.number for r in screen.ids.calls.children] == [a], LIVE_S)
        row = screen.ids.calls.children[0]
        assert row.newest and row.counter_name in ("1号窗口", "Counter 1")
        assert screen.blinking                       # the new call flashes, as on the main kiosk's board
    finally:
        if ui is not None:
            h.stop_ui(ui)
        sat.stop()


def test_a_hostile_stream_is_refused_with_its_reason_and_nothing_crashes(tmp_path) -> None:
    """A 'main kiosk' whose hall view answers and whose live stream sends junk: no call, no crash,
    offline with the reason, and the satellite keeps trying."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hall = {"ts": "2026-03-02T09:00:00+08:00", "day": "2026-03-02", "services": [],
            "counters": [{"counter": 1, "ticket": "A001", "service": "A", "busy_s": 3.0}]}
    junk = [b"event: hall\ndata: {not json\n\n",
            b"event: hall\ndata: " + json.dumps({"services": [], "counters": [
                {"counter": "1", "ticket": "X"}, {"counter": 2, "ticket": 7}, "nonsense",
                {"counter": True, "ticket": "A002", "busy_s": float("nan")}]}).encode() + b"\n\n",
            b"event: hall\ndata: " + b"x" * (1 << 20) + b"\n\n"]
    streams: list[int] = []

    class Hostile(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/api/hall":
                body = json.dumps(hall).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            streams.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(junk[(len(streams) - 1) % len(junk)])
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sat = tv(tmp_path, f"http://127.0.0.1:{server.server_address[1]}")
    events = Events(sat)
    try:
        wait_until(lambda: len(streams) >= 4, 10, 0.02)              # cut, refused, tried again
        assert sat._follower.is_alive()
        assert events.called() == []                                 # junk is no call
        assert [c["number"] for c in sat.recent_calls()] in ([], ["A001"])
        reasons = {e.get("reason", "") for e in events.seen if e["type"] == "device.fault"}
        assert any("sent a hall view that is not one" in r for r in reasons), reasons
        assert any("is over 1048576 bytes" in r for r in reasons), reasons
    finally:
        events.unsubscribe()
        sat.stop()
        server.shutdown()
        server.server_close()
