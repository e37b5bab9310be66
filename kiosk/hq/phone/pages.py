"""The customer's phone pages on HQ: the follow page (``/t/{token}``) and the branch page (``/b``).

Complete HTML documents with no script or style of their own (the Content-Security-Policy allows
neither): the scripts under ``/phone/static/`` build the page with ``textContent`` from the words
in ``data-phone`` (JSON, escaped like any attribute) and the public JSON API. The follow page
reads its token from ``location.pathname``; nothing of the request reaches the HTML.
"""
from __future__ import annotations

import functools
import hashlib
import html
import json
from pathlib import Path

from kiosk.hq.phone.i18n import DEFAULT_LANG, LANGS, TEXT

STATIC = Path(__file__).parent / "static"


@functools.cache
def _static_version() -> str:
    """A short hash of the static files, so a phone never keeps an old script."""
    h = hashlib.sha256()
    for p in sorted(STATIC.glob("*")):
        h.update(p.read_bytes())
    return h.hexdigest()[:10]


_DOC = ('<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><title>{title}</title>'
        '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/phone/static/phone.css?v={v}"></head>'
        '<body class="phone {kind}" data-phone="{words}"><header><span class="brand">{brand}</span>'
        '{live}<a class="lang" href="?lang={other}" hreflang="{other}">{other_lang}</a></header>'
        '<main id="main"><p class="note">{loading}</p></main>'
        '{scripts}</body></html>')
# each page's scripts, in the order they load (kit: what both share; form and booking: the branch page's)
SCRIPTS = {"follow": ("kit", "follow"), "branches": ("kit", "form", "booking", "branches")}


def pick_lang(query_lang: str | None, accept_language: str | None) -> str:
    """``?lang=`` when it names a language, else the best of Accept-Language, else Chinese."""
    if query_lang in LANGS:
        return query_lang
    best, best_q = DEFAULT_LANG, -1.0
    for part in (accept_language or "")[:500].split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        if lang not in LANGS:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = lang, q
    return best


def _page(kind: str, lang: str, title_key: str) -> str:
    t = TEXT[lang if lang in LANGS else DEFAULT_LANG]
    live = ('<span id="live" class="live off">{}</span>'.format(html.escape(t["offline"]))
            if kind == "follow" else "")
    return _DOC.format(
        html_lang="zh-CN" if lang == "zh" else "en", title=html.escape(t[title_key]), v=_static_version(), kind=kind,
        words=html.escape(json.dumps({"lang": lang, **t}, ensure_ascii=False), quote=True),
        brand=html.escape(t["brand"]), live=live, other="en" if lang == "zh" else "zh",
        other_lang=html.escape(t["other_lang"]), loading=html.escape(t["loading"]),
        scripts="".join(f'<script src="/phone/static/{name}.js?v={_static_version()}"></script>'
                        for name in SCRIPTS[kind]))


def follow_page(lang: str) -> str:
    """The page of one ticket (its token is read from the address by ``follow.js``)."""
    return _page("follow", lang, "follow_title")


def branches_page(lang: str) -> str:
    """The public list of branches with their queues, the remote-ticket and appointment buttons."""
    return _page("branches", lang, "branches_title")
