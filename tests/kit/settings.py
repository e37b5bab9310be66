"""Paths and settings the tests share: the repository, the shared folder beside it, the hall's
time zone, and copies of the sample hall's settings with sections replaced."""
from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

from kiosk.config.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
CN = timezone(timedelta(hours=8))


def settings_with(base: Settings, **changes) -> Settings:
    """A copy of `base` with top-level sections replaced (validated again)."""
    data = base.model_dump(mode="json")
    data.update(changes)
    return Settings.model_validate(data)
