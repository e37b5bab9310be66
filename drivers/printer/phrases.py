"""Fixed phrases printed on tickets, per language (English is the fallback)."""

from __future__ import annotations

import math
from typing import Optional

_PHRASES = {
    "zh": {
        "ahead": "您前面还有 {n} 人",
        "ahead_0": "您是下一位",
        "estimate": "预计等候约 {m} 分钟",
        "estimate_short": "预计很快就到您",
        "issued": "取号时间 {t}",
        "reprint": "补打",
        "scan": "扫码查看排队进度",
        "nearby": "附近网点：",
        "nearby_branch": "{name} {km} km，等候 {n} 人",
    },
    "en": {
        "ahead": "{n} people ahead of you",
        "ahead_1": "1 person ahead of you",
        "ahead_0": "You are next",
        "estimate": "Estimated wait: about {m} min",
        "estimate_short": "Estimated wait: a few minutes",
        "issued": "Issued {t}",
        "reprint": "REPRINT",
        "scan": "Scan to follow the queue",
        "nearby": "Nearby branches:",
        "nearby_branch": "{name} {km} km, {n} waiting",
    },
}


def phrase(lang: str, key: str, **values) -> str:
    table = _PHRASES.get(lang, _PHRASES["en"])
    template = table.get(key) or _PHRASES["en"].get(key, key)
    return template.format(**values)


def ahead_text(lang: str, n: int) -> str:
    n = max(0, int(n))
    table = _PHRASES.get(lang, _PHRASES["en"])
    if n == 0:
        return phrase(lang, "ahead_0")
    if n == 1 and "ahead_1" in table:
        return table["ahead_1"]
    return phrase(lang, "ahead", n=n)


def nearby_text(lang: str, name: str, km: float, waiting: int) -> str:
    """One nearby branch: "陆家嘴营业厅 1.4 km，等候 3 人" / "Lujiazui 1.4 km, 3 waiting"."""
    return phrase(lang, "nearby_branch", name=name, km=f"{float(km):.1f}", n=max(0, int(waiting)))


def estimate_text(lang: str, seconds: Optional[float]) -> Optional[str]:
    if seconds is None:
        return None
    minutes = math.ceil(max(0.0, float(seconds)) / 60.0)
    if minutes <= 1:
        return phrase(lang, "estimate_short")
    return phrase(lang, "estimate", m=minutes)
