"""A wait in seconds as people read it on a ticket or a screen ("about 10 min", "约10分钟")."""
from __future__ import annotations

import math
from typing import SupportsFloat


def humanize_wait(seconds: float, lang: str) -> str:
    """A wait rounded the way people read it.

    under 30 s: "no wait" / "无需等待"; under a minute: "less than 1 min" / "不到1分钟";
    then "about N min" / "约N分钟" with N by the minute up to 5 and by 5 minutes above;
    from an hour: "about 1 h 10 min" / "约1小时10分钟" (minutes by 5).
    ``lang`` starting with "zh" gives Chinese, anything else English.
    Negative, NaN or non-numeric input reads as no wait; infinity is capped at 24 h.
    """
    s = min(_seconds(seconds), 24 * 3600.0)
    zh = str(lang).lower().startswith("zh")
    if s < 30:
        return "无需等待" if zh else "no wait"
    if s < 60:
        return "不到1分钟" if zh else "less than 1 min"
    m = _round_minutes(s / 60.0)
    if m < 60:
        return f"约{m}分钟" if zh else f"about {m} min"
    h, rem = divmod(m, 60)
    if zh:
        return f"约{h}小时" + (f"{rem}分钟" if rem else "")
    return f"about {h} h" + (f" {rem} min" if rem else "")


def _seconds(value: object) -> float:
    """A number of seconds >= 0 (or +inf); anything else is 0 (no wait)."""
    if isinstance(value, str):
        value = _parse_number(value)
    if not isinstance(value, SupportsFloat):
        return 0.0
    s = float(value)
    return s if s >= 0 else 0.0  # NaN fails the test too


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:  # not a number: read as no wait
        return None


def _round_minutes(minutes: float) -> int:
    """1-5 min by the minute, then to the nearest 5 minutes."""
    if minutes < 5.5:
        return max(1, int(math.floor(minutes + 0.5)))
    return int(5 * math.floor(minutes / 5 + 0.5))
