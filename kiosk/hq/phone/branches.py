"""The public list of branches (``GET /api/public/branches``): what a customer choosing where
to go may see — name, address, place, online, people waiting and the estimate per service,
its usually quiet hours (the kiosk's `QuietHours` phrase: "周二至周四 14:00–15:00 人少"), and
whether it takes remote tickets and appointments (with each service's pre-acceptance form). Built from each branch's retained queue snapshot (its
``phone`` block, `kiosk.hq.ingest.follow.phone_info`) and status; nothing of counters,
clerks, devices or alerts. Only branches whose snapshot has a ``phone`` block are listed."""
from __future__ import annotations

from typing import Any

from kiosk.hq.ingest.follow import lang_names, phone_info
from kiosk.hq.phone.appointments_config import rules_of
from kiosk.hq.phone.appointments_form import form_fields


def _service(s: dict[str, Any], remote: bool, takes: set[str]) -> dict[str, Any]:
    estimate = s.get("estimate_s")
    return {"service": s["service"], "name": lang_names(s.get("name")), "waiting": s.get("waiting") or 0,
            "estimate_s": float(estimate) if isinstance(estimate, (int, float)) else None,
            "remote": remote and s["service"] in takes}


def public_branch(branch: str, queue: dict[str, Any], online: bool) -> dict[str, Any] | None:
    """One branch as the public sees it; None when its snapshot has no ``phone`` block."""
    phone = phone_info(queue)
    if phone is None:
        return None
    takes = set(phone["services"])
    services = [_service(s, phone["remote"], takes) for s in queue.get("services") or []
                if isinstance(s, dict) and isinstance(s.get("service"), str)]
    rules = rules_of(queue)
    return {"branch": branch, "name": phone["name"], "address": phone["address"], "lat": phone["lat"],
            "lon": phone["lon"], "online": online, "waiting": sum(s["waiting"] for s in services),
            "remote": phone["remote"] and online, "services": services, "quiet": phone["quiet"],
            "appointments": {"services": list(rules.services) if rules else []},
            "forms": _forms(queue, [s["service"] for s in services])}


def _forms(queue: dict[str, Any], services: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each service's pre-acceptance form as the phone shows it: only forms HQ can check
    (`appointments_form.form_fields`), their texts cleaned (`lang_names`)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for service in services:
        fields = form_fields(queue, service)
        if fields:
            out[service] = [{"id": f.id, "type": f.type, "label": lang_names(f.label.model_dump()),
                             "required": f.required, "max_length": f.max_length,
                             "choices": [{"id": c.id, "name": lang_names(c.name.model_dump())} for c in f.choices]}
                            for f in fields]
    return out


def public_branches(snapshots: list[tuple[str, dict[str, Any], bool]]) -> list[dict[str, Any]]:
    """The public rows of (branch, queue snapshot, online), sorted by branch id."""
    rows = (public_branch(*s) for s in sorted(snapshots, key=lambda s: s[0]))
    return [r for r in rows if r is not None]


__all__ = ["public_branch", "public_branches"]
