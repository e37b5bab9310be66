"""The dashboard's HTML shells, from auto-escaping templates.

`render(template, **values)` escapes every value (``html.escape``, quotes included) unless it
is `Safe` — markup that `render` itself produced. A value from a request or a branch can only
reach the page as text. The pages carry no script and no style of their own (the
Content-Security-Policy allows neither): the script reads its settings from the ``data-hq``
attribute of ``<body>`` (JSON, escaped like any attribute).
"""
from __future__ import annotations

import html
import json
from typing import Any


class Safe(str):
    """Markup made by `render`: inserted as it is."""


def escape(value: Any) -> str:
    return value if isinstance(value, Safe) else html.escape(str(value), quote=True)


def render(template: str, **values: Any) -> Safe:
    return Safe(template.format_map({k: escape(v) for k, v in values.items()}))


_HEAD = ('<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
         '<meta name="viewport" content="width=device-width, initial-scale=1">'
         '<meta name="csrf-token" content="{csrf}"><title>{title} · {app}</title>'
         '<link rel="icon" href="/static/icon.svg?v={version}" type="image/svg+xml">'
         '<link rel="stylesheet" href="/static/hq.css?v={version}"></head>')

_NAV = ('<nav><a href="/" class="{on_list}">{branches}</a><a href="/compare" class="{on_compare}">{compare}</a></nav>'
        '<div class="who">{live_dot}<span class="uname">{user} · {role}</span>'
        '<a class="lang" href="?lang={other}">{lang}</a>'
        '<form method="post" action="/logout"><input type="hidden" name="csrf" value="{csrf}">'
        '<button type="submit">{sign_out}</button></form></div>')

_PAGE = ('{head}<body data-page="{kind}" data-hq="{config}"><header><a class="brand" href="/">{app}</a>{nav}</header>'
         '<main id="main"></main><script src="/static/hq.js?v={version}"></script>'
         '<script src="/static/hq-{kind}.js?v={version}"></script></body></html>')

_LOGIN = ('{head}<body class="login"><header><span class="brand">{app}</span><div class="who">'
          '<a class="lang" href="?lang={other}&amp;next={next_q}">{lang}</a></div></header>'
          '<main><form class="card login" method="post" action="/login"><h1>{heading}</h1>{error}'
          '<label>{user_label}<input name="name" autocomplete="username" required autofocus></label>'
          '<label>{password_label}<input name="password" type="password" autocomplete="current-password" required>'
          '</label><input type="hidden" name="next" value="{next}"><input type="hidden" name="csrf" value="{csrf}">'
          '<button type="submit">{sign_in}</button></form></main></body></html>')


def _head(t: dict[str, str], lang: str, title: str, csrf: str, version: str) -> Safe:
    return render(_HEAD, html_lang="zh-CN" if lang == "zh" else "en", csrf=csrf, title=title, app=t["title"],
                  version=version)


def page_html(*, kind: str, lang: str, t: dict[str, str], title: str, user: dict[str, str], csrf: str,
              version: str, config: dict[str, Any]) -> str:
    """A signed-in page: the header, an empty ``<main>`` and the scripts that fill it."""
    nav = render(_NAV, on_list="on" if kind == "list" else "", on_compare="on" if kind == "compare" else "",
                 branches=t["branches"], compare=t["compare"],
                 live_dot=Safe('<span id="live" class="live off">●</span>') if kind != "compare" else "",
                 user=user["name"], role=t[user["role"]], other="en" if lang == "zh" else "zh", lang=t["lang"],
                 csrf=csrf, sign_out=t["sign_out"])
    return render(_PAGE, head=_head(t, lang, title, csrf, version), kind=kind, app=t["title"], nav=nav,
                  version=version, config=json.dumps(config, ensure_ascii=False, allow_nan=False))


def login_html(*, lang: str, t: dict[str, str], next_path: str, next_q: str, error: str, csrf: str,
               version: str) -> str:
    err = render('<p class="error" role="alert">{e}</p>', e=error) if error else ""
    return render(_LOGIN, head=_head(t, lang, t["login"], csrf, version), app=t["title"],
                  other="en" if lang == "zh" else "zh", next_q=next_q, lang=t["lang"], heading=t["login"],
                  error=err, user_label=t["user"], password_label=t["password"], next=next_path, csrf=csrf,
                  sign_in=t["sign_in"])
