"""Which packages pip installed from a prebuilt wheel and which it had to build.

Reads pip's installation report (``pip install --report FILE``, format version 1: one entry per
installed distribution with its ``download_info``) and, as a cross-check, pip's log (the
``Building wheel for NAME (…)`` lines).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlparse

BUILDING = re.compile(r"Building wheel for (\S+) \(")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(\d{3}) ", re.MULTILINE)


@dataclass(frozen=True)
class Installed:
    name: str
    version: str
    source: str     # "binary wheel", "pure wheel", "sdist" or "local directory"
    platform: str   # the wheel's platform tag ("any" for pure Python), "" when built here

    @property
    def built_here(self) -> bool:
        return self.source in ("sdist", "local directory")

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "source": self.source, "platform": self.platform}


def classify(item: dict) -> Installed:
    """One ``install`` entry of a pip report → what was installed and where it came from."""
    meta, info = item["metadata"], item["download_info"]
    url = info["url"]
    filename = unquote(Path(urlparse(url).path).name)
    if "dir_info" in info:
        source, platform = "local directory", ""
    elif filename.endswith(".whl"):
        platform = filename[: -len(".whl")].split("-")[-1]
        source = "pure wheel" if platform == "any" else "binary wheel"
    else:
        source, platform = "sdist", ""
    return Installed(meta["name"], meta["version"], source, platform)


def read_report(text: str) -> list[Installed]:
    doc = json.loads(text)
    if str(doc.get("version")) != "1":
        raise ValueError(f"unknown pip report version {doc.get('version')!r}")
    return sorted((classify(item) for item in doc["install"]), key=lambda i: i.name.lower())


def built_in_log(log_text: str) -> list[str]:
    """The distributions pip's log says it built a wheel for, in order, each once."""
    return list(dict.fromkeys(BUILDING.findall(log_text)))


def log_seconds(log_text: str) -> float | None:
    """How long pip ran: from the first to the last time stamp of its ``--log`` file."""
    stamps = [datetime.fromisoformat(day) + timedelta(milliseconds=int(ms)) for day, ms in STAMP.findall(log_text)]
    return round((stamps[-1] - stamps[0]).total_seconds(), 1) if stamps else None


def summary(installed: list[Installed], log_text: str = "") -> dict:
    """Names by origin: binary wheels (with their platform tag), pure wheels, built here."""
    built = {i.name for i in installed if i.built_here} | set(built_in_log(log_text))
    return {
        "binary_wheels": [f"{i.name} {i.version} ({i.platform})" for i in installed
                          if i.source == "binary wheel" and i.name not in built],
        "pure_wheels": [f"{i.name} {i.version}" for i in installed if i.source == "pure wheel" and i.name not in built],
        "built_from_source": sorted(built, key=str.lower),
    }
