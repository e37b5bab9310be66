"""What a notice says (Chinese and English): the Web Push payload and the operator's webhook
document. Pure functions of the event and the ticket's view."""
from __future__ import annotations

import json
import math
from typing import Any

from kiosk.hq.phone.notify.decide import CALLED


def _minutes(estimate_s: Any) -> int | None:
    if estimate_s is None:
        return None
    return max(1, math.ceil(float(estimate_s) / 60))


def texts(event: str, view: dict[str, Any]) -> dict[str, str]:
    """The notice in both languages: {"zh", "en"}."""
    ticket = view.get("ticket") or "?"
    if event == CALLED:
        counter = view.get("counter")
        return {"zh": f"请 {ticket} 号到 {counter} 号窗口办理", "en": f"{ticket}, please go to counter {counter}"}
    ahead, minutes = view.get("ahead"), _minutes(view.get("estimate_s"))
    zh = f"{ticket} 号快到了：前面还有 {ahead} 人"
    en = f"{ticket} is nearly up: {ahead} ahead"
    if minutes is not None:
        zh += f"，约 {minutes} 分钟"
        en += f", about {minutes} min"
    zh += "。"
    en += "."
    if view.get("state") == "parked":
        zh += "请先到取号机签到。"
        en += " Please check in at the kiosk first."
    return {"zh": zh, "en": en}


def push_payload(event: str, view: dict[str, Any], url: str) -> str:
    """The JSON a service worker receives: {"title", "body", "url"}, each text zh then en."""
    t = texts(event, view)
    title = "叫号了 / You are called" if event == CALLED else "快到您了 / Your turn is near"
    return json.dumps({"title": title, "body": f"{t['zh']}\n{t['en']}", "url": url}, ensure_ascii=False)


def webhook_doc(event: str, view: dict[str, Any], phone: str) -> dict[str, Any]:
    """The document posted to the operator's webhook (their SMS / WeChat gateway)."""
    return {"event": event, "phone": phone, "ticket": view.get("ticket"), "branch": view.get("branch"),
            "counter": view.get("counter"), "ahead": view.get("ahead"), "estimate_s": view.get("estimate_s"),
            "text": texts(event, view)}


__all__ = ["push_payload", "texts", "webhook_doc"]
