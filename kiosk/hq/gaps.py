"""`GapRepair`: HQ notices events it never received and asks the branch to send them again.

Works from the database, not from one node's memory (with several nodes each sees only part
of the events). Every ``interval_s`` the node that repairs (`kiosk.hq.gap_leader`) looks at the
branches whose known last seq — the highest seq this node saw, or the ``last_seq`` of the
branch's retained queue snapshot — is above their watermark (`kiosk.hq.gap_table`), reads
their stored seqs above it, and finds the holes (`kiosk.hq.gap_scan`), the trailing one
included. A hole still there after ``grace_s`` (events arrive out of order, the recorder
batches) becomes an open gap, and HQ sends the branch ``resend`` for it: one ask outstanding
per branch, 10,000 seqs at most, again after 30 s, 60 s, … up to 10 min. A gap closes when its
events are stored; a reply that the branch no longer has them (``first_kept`` above them)
closes it as lost at the branch; seqs beyond the ``last_seq`` the branch itself replies are
void (a branch claiming an absurd last seq is not believed again until it claims another).
Every node reads the table and hands the gaps to `Live` (rows, branch page).
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from kiosk.hq import gap_table as table
from kiosk.hq.gap_leader import Leadership
from kiosk.hq.gap_scan import Range, holes, overlap, size, subtract
from kiosk.hq.db import Conn, Db, open_db
from kiosk.hq.web.live import Live
from kiosk.mqtt.protocol import MAX_RESEND, MAX_SEQ

log = logging.getLogger(__name__)

SCAN_LIMIT = 10_000            # stored seqs read per branch and pass
MAX_SCANS = 2_000              # branches scanned per pass (the others on the next passes)
MAX_ASKS = 100                 # resend commands sent per pass
ASK_TIMEOUT_S = 30.0
BACKOFF_MIN_S, BACKOFF_MAX_S = 30.0, 600.0
SHOW_CLOSED_S = 7 * 86400      # a gap lost at the branch stays on its page this long
KEEP_CLOSED_S = 30 * 86400
LogCommand = Callable[[str, str, str, str, str, Any, str], None]


@dataclass
class Ask:
    cmd_id: str
    future: Future
    branch: str
    first: int
    last: int
    sent: float


class GapRepair:
    """Finds the branches' missing events, asks for them, shows them (see the module doc)."""

    def __init__(self, db: Db | str | Path, live: Live, *, log_command: LogCommand | None = None,
                 interval_s: float = 5.0, grace_s: float = 10.0) -> None:
        self.db = db if isinstance(db, Db) else open_db(db)
        self.live = live
        self.log_command = log_command
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.leader = Leadership(self.db)
        self.is_leader = False
        self.ticks = 0
        self.asks_sent = 0
        self.last_error: str | None = None
        self._marks: dict[str, tuple[int, str | None]] | None = None
        self._pending: dict[tuple[str, int], float] = {}     # (branch, first seq) of a hole → first seen
        self._asks: dict[str, Ask] = {}                         # branch → its outstanding ask
        self._backoff: dict[str, tuple[int, float]] = {}        # branch → (asks without progress, next ask at)
        self._distrust: dict[str, int] = {}                     # branch → a queue last_seq its reply belied
        self._next = 0                                          # round-robin start among the candidates
        self._last_forget = 0.0
        self._view: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        with self.db.connection() as conn:
            table.ensure_schema(conn)

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> GapRepair:
        self._thread = threading.Thread(target=self._run, name="hq-gaps", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.leader.release()

    def snapshot(self) -> dict[str, Any]:
        """{"leader", "ticks", "asks_sent", "asking", "open_gaps", "missing", "error", "branches": {branch: view}}."""
        view = self._view
        return {"leader": self.is_leader, "ticks": self.ticks, "asks_sent": self.asks_sent,
                "asking": sorted(self._asks), "open_gaps": sum(v["gaps"] for v in view.values()),
                "missing": sum(v["missing"] for v in view.values()), "error": self.last_error,
                "branches": {k: dict(v) for k, v in view.items()}}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 — the repair keeps running whatever a pass meets
                log.exception("gap repair pass failed")
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self._marks = None   # read the watermarks again
            self._stop.wait(self.interval_s)

    # -- one pass ---------------------------------------------------------------------------------
    def tick(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.is_leader = self.leader.held()
        with self.db.connection() as conn:
            if self.is_leader:
                self._repair(conn, now)
            self._show(conn, now)
        self.ticks += 1

    def _repair(self, conn: Conn, now: float) -> None:
        if self._marks is None:
            self._marks = table.watermarks(conn)
        self._collect(conn, self._open_gaps(conn), now)
        open_by_branch = self._open_gaps(conn)
        known = self._known_last()
        todo = sorted(b for b in set(known) | set(open_by_branch)
                      if known.get(b, 0) > self._marks.get(b, (0, None))[0] or b in open_by_branch)
        if len(todo) > MAX_SCANS:
            start = self._next % len(todo)
            todo, self._next = (todo[start:] + todo[:start])[:MAX_SCANS], start + MAX_SCANS
        moved = []
        seen: set[tuple[str, int]] = set()
        for branch in todo:
            mark = self._scan(conn, branch, known.get(branch, 0), open_by_branch.get(branch, []), seen, now)
            if mark is not None:
                moved.append((branch, mark[0], mark[1], now))
        scanned = set(todo)
        self._pending = {k: v for k, v in self._pending.items() if k in seen or k[0] not in scanned}
        if moved:
            with conn.transaction():
                table.save_watermarks(conn, moved)
            for branch, mark, day, _ in moved:
                self._marks[branch] = (mark, day)
        self._ask(conn, now)
        if now - self._last_forget > 3600:
            self._last_forget = now
            table.forget_closed(conn, now - KEEP_CLOSED_S)

    @staticmethod
    def _open_gaps(conn: Conn) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for g in table.gaps(conn, states=(table.OPEN,)):
            out.setdefault(g["branch"], []).append(g)
        return out

    def _known_last(self) -> dict[str, int]:
        """branch → the highest seq it is known to have: seen here, or in its queue snapshot."""
        st = self.live.state
        with st.lock:
            known = {n: b.last_seq for n, b in st.branches.items()}
        with self.live.lock:
            claims = {n: (d.get("queue") or {}).get("last_seq") for n, d in self.live.detail.items()}
        for name, claim in claims.items():
            if isinstance(claim, int) and not isinstance(claim, bool) and 0 < claim <= MAX_SEQ:
                if self._distrust.get(name) == claim:
                    continue
                self._distrust.pop(name, None)
                known[name] = max(known.get(name, 0), claim)
        return known

    def _scan(self, conn: Conn, branch: str, known_last: int, open_gaps: list[dict[str, Any]],
              seen: set[tuple[str, int]], now: float) -> tuple[int, str | None] | None:
        """Holes of one branch; opens the old ones, shrinks or closes its open gaps; its new watermark."""
        mark, mark_day = self._marks.get(branch, (0, None))   # type: ignore[union-attr]
        rows = table.stored_after(conn, branch, mark, table.day_floor(mark_day), SCAN_LIMIT)
        complete = len(rows) < SCAN_LIMIT
        found, top = holes((s for s, _ in rows), mark, known_last, complete=complete)
        lost = [(int(g["first_seq"]), int(g["last_seq"])) for g in
                table.gaps(conn, states=(table.LOST,), branch=branch)] if found else []
        found = subtract(found, lost)
        judged = known_last if complete else top           # what this pass can tell about
        for g in open_gaps:
            first, last = int(g["first_seq"]), int(g["last_seq"])
            if first > judged or (not complete and last > top):
                continue
            parts = overlap(found, first, last)
            if not parts:
                table.close_gap(conn, branch, first, table.CLOSED, now, "its events arrived")
                self._backoff.pop(branch, None)
            elif (parts[0][0], parts[-1][1], size(parts)) != (first, last, int(g["missing"])):
                table.reshape_gap(conn, branch, first, parts[0][0], parts[-1][1], size(parts))
        covered = [(int(g["first_seq"]), int(g["last_seq"])) for g in open_gaps]
        for a, b in subtract(found, covered):
            key = (branch, a)
            seen.add(key)
            since = self._pending.setdefault(key, now)
            if now - since >= self.grace_s:
                log.warning("branch %s: events %d..%d missing for %.0f s: asking it to resend them", branch, a, b,
                            now - since)
                table.open_gap(conn, branch, a, b, b - a + 1, now)
                self._pending.pop(key, None)
        new_mark = found[0][0] - 1 if found else top
        if new_mark <= mark:
            return None
        day_of = {s: d for s, d in rows if s <= new_mark}
        return new_mark, day_of.get(new_mark, mark_day)

    # -- asking -----------------------------------------------------------------------------------
    def _ask(self, conn: Conn, now: float) -> None:
        sent = 0
        for g in table.gaps(conn, states=(table.OPEN,)):
            branch = g["branch"]
            if sent >= MAX_ASKS:
                return
            if branch in self._asks or self._backoff.get(branch, (0, 0.0))[1] > now:
                continue
            first = int(g["first_seq"])
            last = min(int(g["last_seq"]), first + MAX_RESEND - 1)
            args = {"from_seq": first, "to_seq": last}
            cmd_id, fut = self.live.send(branch, "resend", args)
            if self.log_command is not None:
                try:
                    self.log_command(cmd_id, "hq", "system", branch, "resend", args, "sent")
                except Exception:  # noqa: BLE001 — the log is not worth a lost ask
                    log.exception("logging HQ's resend")
            table.asked(conn, branch, first, now)
            n = self._backoff.get(branch, (0, 0.0))[0] + 1
            self._backoff[branch] = (n, now + min(BACKOFF_MIN_S * 2 ** (n - 1), BACKOFF_MAX_S))
            self._asks[branch] = Ask(cmd_id, fut, branch, first, last, now)
            self.asks_sent += 1
            sent += 1

    def _collect(self, conn: Conn, open_by_branch: dict[str, list[dict[str, Any]]], now: float) -> None:
        """The replies that came (or did not, in time)."""
        for branch, ask in list(self._asks.items()):
            if not ask.future.done():
                if now - ask.sent > ASK_TIMEOUT_S:
                    self.live.forget(ask.cmd_id)
                    del self._asks[branch]
                continue
            del self._asks[branch]
            if ask.future.exception() is not None:
                continue   # not connected: asked again after the back-off
            gap = next((g for g in open_by_branch.get(branch, []) if int(g["first_seq"]) == ask.first), None)
            if gap is not None:
                self._answer(conn, ask, gap, ask.future.result(), now)

    def _answer(self, conn: Conn, ask: Ask, gap: dict[str, Any], doc: Any, now: float) -> None:
        """What the branch's reply says about the gap it was asked for (replies are not trusted)."""
        branch, first = ask.branch, ask.first
        if not isinstance(doc, dict) or doc.get("ok") is not True:
            err = doc.get("error") if isinstance(doc, dict) else None
            what = f"{err.get('code')}: {err.get('message')}" if isinstance(err, dict) else "no reason"
            table.note_gap(conn, branch, first, f"the branch refused resend ({what})")
            return
        res = doc.get("result")
        kept = res.get("first_kept") if isinstance(res, dict) else None
        if not (isinstance(res, dict) and all(_seq(res.get(k)) for k in ("resent", "last_seq"))
                and (kept is None or _seq(kept)) and res.get("from_seq") == first and res.get("to_seq") == ask.last):
            table.note_gap(conn, branch, first, "the branch's reply to resend is malformed")
            return
        last_seq, g_last = res["last_seq"], int(gap["last_seq"])
        gone_to = min(ask.last, last_seq, ask.last if kept is None else kept - 1)
        if gone_to >= first:
            note = (f"lost at the branch: it keeps events from {kept} on" if kept is not None
                    else "lost at the branch: it keeps no events")
            if gone_to >= g_last:
                table.close_gap(conn, branch, first, table.LOST, now, note)
                self._backoff.pop(branch, None)
                return
            table.split_off(conn, branch, first, gone_to, table.LOST, now, note)
            first = gone_to + 1
            self._backoff.pop(branch, None)
        if last_seq < g_last:
            self._distrust_claim(branch, last_seq)
            note = f"the branch's last event is {last_seq}"
            if last_seq < first:
                table.close_gap(conn, branch, first, table.VOID, now, note)
            else:
                table.reshape_gap(conn, branch, first, first, last_seq, min(int(gap["missing"]), last_seq - first + 1))
                table.note_gap(conn, branch, first, note)
            self._backoff.pop(branch, None)

    def _distrust_claim(self, branch: str, last_seq: int) -> None:
        with self.live.lock:
            claim = ((self.live.detail.get(branch) or {}).get("queue") or {}).get("last_seq")
        if isinstance(claim, int) and claim > last_seq:
            self._distrust[branch] = claim
            log.warning("branch %s: its queue snapshot claims seq %d, its reply says %d: not believed", branch,
                        claim, last_seq)

    # -- what every node shows --------------------------------------------------------------------
    def _show(self, conn: Conn, now: float) -> None:
        view: dict[str, dict[str, Any]] = {}
        for g in table.gaps(conn, states=(table.OPEN, table.LOST, table.VOID), closed_since=now - SHOW_CLOSED_S):
            v = view.setdefault(g["branch"], {"gaps": 0, "missing": 0, "lost": 0, "list": []})
            if g["state"] == table.OPEN:
                v["gaps"] += 1
                v["missing"] += int(g["missing"])
            elif g["state"] == table.LOST:
                v["lost"] += int(g["missing"])
            v["list"].append({"first_seq": int(g["first_seq"]), "last_seq": int(g["last_seq"]),
                              "missing": int(g["missing"]), "state": g["state"], "opened": _iso(g["opened"]),
                              "asked_at": _iso(g["asked_at"]), "asks": int(g["asks"] or 0),
                              "closed": _iso(g["closed"]), "note": g["note"]})
        self._view = view
        self.live.set_gaps(view)


def _seq(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_SEQ


def _iso(t: Any) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(float(t)))


__all__ = ["GapRepair"]
