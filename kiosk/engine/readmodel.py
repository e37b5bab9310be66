"""Read models: what the screens, the CLI and HQ see of the queue (plain JSON-able dicts)."""
from __future__ import annotations

from typing import Any

from kiosk.domain.model import CounterState
from kiosk.engine.hall_alerts import hall_alert
from kiosk.engine.issuing import why_unavailable
from kiosk.engine.queue_engine import QueueEngine


def snapshot(engine: QueueEngine) -> dict[str, Any]:
    """The queue now: per service waiting, longest wait, estimate and availability (`unavailable`:
    None, 'hours', 'daily_cap' or 'diverted'); per counter its state and ticket; the alert as
    every reader sees it (`kiosk.engine.hall_alerts`); the devices with an open fault
    (`devices`: name → kind, reason, since; empty when all work). This is the payload of MQTT
    `kiosk/{branch}/queue`."""
    conn = engine.conn
    now = engine.time.now()
    wall = engine.clock.wall()
    day = conn.execute("SELECT day FROM business_day WHERE id = 1").fetchone()
    day = day[0] if day else None
    outlook = engine.outlook()  # a new ticket of each service: (estimated wait, people ahead)
    services = []
    for svc in engine.settings.services:
        row = conn.execute("SELECT count(*), min(queued_t), sum(priority > 0) FROM tickets "
                           "WHERE state = 'waiting' AND service = ?", (svc.prefix,)).fetchone()
        waiting, oldest, prio = row[0], row[1], row[2] or 0
        served = conn.execute("SELECT count(*) FROM tickets WHERE day = ? AND service = ? AND state = 'done'",
                              (day, svc.prefix)).fetchone()[0]
        services.append({
            "service": svc.prefix,
            "name": svc.name.model_dump(),
            "waiting": waiting,
            "priority_waiting": prio,
            "longest_wait_s": round(max(0.0, now - oldest), 1) if oldest is not None else 0.0,
            "estimate_s": round(outlook.get(svc.prefix, (0.0, 0))[0], 1),
            "ahead": outlook.get(svc.prefix, (0.0, 0))[1],
            "target_wait_s": svc.target_wait_min * 60,
            "served_today": served,
            "unavailable": why_unavailable(conn, svc, wall, day, engine.settings.day.tz,
                                           settings=engine.settings, now=now),
        })
    counters = []
    for r in conn.execute("SELECT c.number, c.state, c.since_t, c.pause_reason, t.number AS ticket, t.service, "
                          "t.state AS tstate, t.called_t, t.recalls FROM counters c "
                          "LEFT JOIN tickets t ON t.id = c.ticket_id ORDER BY c.number"):
        cfg = engine.settings.counter(r["number"])
        if cfg is None:
            continue
        counters.append({
            "counter": r["number"],
            "name": cfg.name.model_dump() if cfg.name else {"zh": cfg.display_name("zh"), "en": cfg.display_name("en")},
            "state": r["state"],
            "ticket": r["ticket"],
            "service": r["service"],
            "ticket_state": r["tstate"],
            "busy_s": round(max(0.0, now - r["called_t"]), 1) if r["called_t"] is not None else None,
            "recalls": r["recalls"] if r["ticket"] is not None else None,
            "services": list(cfg.services),
            "pause_reason": r["pause_reason"] if r["state"] == CounterState.PAUSED else None,
        })
    return {
        "v": 1,
        "ts": wall.isoformat(timespec="seconds"),
        "branch": engine.settings.branch.id,
        "day": day,
        "waiting": sum(s["waiting"] for s in services),
        "open_counters": sum(c["state"] == CounterState.OPEN for c in counters),
        "services": services,
        "counters": counters,
        "alert": hall_alert(conn, now, engine.settings),
        "devices": engine.open_device_faults(),
        "last_seq": engine.store.last_seq(),
        "phone": phone_block(engine.settings),
    }


def phone_block(settings: Any) -> dict[str, Any]:
    """What HQ's public branch page shows of the branch: its name and place, whether (and for which
    services) it takes tickets from the phone, how long a remote ticket has to check in."""
    phone = settings.phone
    return {"remote": phone.remote,
            "services": [s.prefix for s in settings.services if phone.takes_remote(s.prefix)],
            "name": settings.branch.name.model_dump(), "address": phone.address.model_dump(),
            "lat": phone.lat, "lon": phone.lon, "check_in_min": phone.check_in_min,
            "appointments": phone.appointments.model_dump(exclude={"head_start_min"}),
            "forms": {s.prefix: [f.model_dump(mode="json") for f in s.form] for s in settings.services if s.form}}


def recent_calls(engine: QueueEngine, limit: int = 8) -> list[dict[str, Any]]:
    """The latest calls, newest first (for the now-serving screens and displays)."""
    rows = engine.conn.execute(
        "SELECT number, service, counter, called_wall, recalls FROM tickets WHERE called_t IS NOT NULL "
        "AND state IN ('called', 'serving', 'done') ORDER BY called_t DESC LIMIT ?", (limit,)).fetchall()
    return [dict(r) for r in rows]
