"""The HTML shells of /caller and /floor: a header, an empty ``<main>`` and the scripts that
build the page in the DOM. No inline script or style (the CSP allows neither): the script
reads the hall's configuration from the ``data-lan`` attribute of ``<body>`` (JSON, escaped as
any attribute value is)."""
from __future__ import annotations

import html
import json
from typing import Any

from kiosk.config.settings import Settings

_PAGE = ('<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
         '<meta name="viewport" content="width=device-width, initial-scale=1">'
         '<title>{title} · {branch}</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/lan.css?v={version}"></head>'
         '<body data-page="{kind}" data-lan="{config}"><header><span class="brand">{title}</span>'
         '<span class="branch">{branch}</span><span id="live" class="live off">●</span>'
         '<a class="lang" href="?lang={other}">{lang}</a></header><main id="main"></main>'
         '<script src="/static/lan.js?v={version}"></script>'
         '<script src="/static/{kind}.js?v={version}"></script></body></html>')


def hall_config(settings: Settings) -> dict[str, Any]:
    """What the pages need of the configuration: services with their forms, tiers, counters,
    pause reasons (names in both languages)."""
    return {
        "services": [{"prefix": s.prefix, "name": s.name.model_dump(), "form": [f.model_dump() for f in s.form]}
                     for s in settings.services],
        "tiers": [{"id": t.id, "name": t.name.model_dump()} for t in settings.tiers],
        "counters": [{"number": c.number, "services": list(c.services),
                      "name": {"zh": c.display_name("zh"), "en": c.display_name("en")}} for c in settings.counters],
        "pause_reasons": [{"id": r.id, "name": r.name.model_dump()} for r in settings.pause_reasons],
    }


def page_html(*, kind: str, lang: str, t: dict[str, str], settings: Settings, version: str) -> str:
    config = {"page": kind, "lang": lang, "text": t, **hall_config(settings)}
    values = {"html_lang": "zh-CN" if lang == "zh" else "en", "title": t[kind], "branch": settings.branch.name.get(lang),
              "kind": kind, "config": json.dumps(config, ensure_ascii=False, allow_nan=False), "version": version,
              "other": "en" if lang == "zh" else "zh", "lang": t["lang"]}
    return _PAGE.format_map({k: html.escape(str(v), quote=True) for k, v in values.items()})
