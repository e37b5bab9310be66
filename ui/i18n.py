"""Translations of the screens with gettext (domain ``kiosk``, ``ui/locale/<ll>/LC_MESSAGES``).

Message ids are the English texts. Every string the screens show goes through `tr` (or
`ntr` for counts); placeholders are ``str.format`` names (``{n}``, ``{name}``). The
compiled ``.mo`` files are committed next to their ``.po`` so the kiosk needs no tools at
run time; ``python -m ui.i18n`` rebuilds the ``.mo`` files from the ``.po`` files and
lists message ids used in the code that a catalogue lacks.
No Kivy here: the core's tests and tools can import it.
"""
from __future__ import annotations

import ast
import gettext
import re
import struct
import sys
from functools import lru_cache
from pathlib import Path

DOMAIN = "kiosk"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALES = {"zh": "zh_CN", "en": "en"}   # kiosk language code → gettext locale directory


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, [LOCALES.get(lang, lang)], fallback=True)


def tr(msgid: str, lang: str, **fmt: object) -> str:
    text = catalog(lang).gettext(msgid)
    return text.format(**fmt) if fmt else text


def ntr(singular: str, plural: str, n: int, lang: str, **fmt: object) -> str:
    return catalog(lang).ngettext(singular, plural, n).format(n=n, **fmt)


# -- catalogue tools (development; used by the tests) -------------------------------------------
def parse_po(path: Path) -> dict[tuple[str, str | None], list[str]]:
    """(msgid, msgid_plural) → [msgstr…] of a .po file (header included under msgid "")."""
    entries: dict[tuple[str, str | None], list[str]] = {}
    cur: dict[str, object] = {}
    key: str | None = None

    def flush() -> None:
        if "msgid" in cur:
            strs = cur.get("msgstr")
            if isinstance(strs, dict):
                strs = [strs[i] for i in sorted(strs)]
            entries[(cur["msgid"], cur.get("msgid_plural"))] = list(strs or [""])  # type: ignore[arg-type]
        cur.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line and cur:
                flush()
            continue
        m = re.match(r'^(msgid|msgid_plural|msgstr)(?:\[(\d+)\])?\s+(".*")$', line)
        if m:
            word, idx, lit = m.groups()
            if word == "msgid" and "msgstr" in cur:
                flush()
            value = ast.literal_eval(lit)
            if idx is not None:
                cur.setdefault("msgstr", {})
                cur["msgstr"][int(idx)] = value  # type: ignore[index]
                key = f"msgstr[{idx}]"
            elif word == "msgstr":
                cur["msgstr"] = [value]
                key = "msgstr"
            else:
                cur[word] = value
                key = word
        elif line.startswith('"') and key:
            value = ast.literal_eval(line)
            if key.startswith("msgstr["):
                i = int(key[7:-1])
                cur["msgstr"][i] += value  # type: ignore[index]
            elif key == "msgstr":
                cur["msgstr"][0] += value  # type: ignore[index]
            else:
                cur[key] += value  # type: ignore[operator]
    flush()
    return entries


def compile_mo(entries: dict[tuple[str, str | None], list[str]]) -> bytes:
    """GNU .mo bytes (what msgfmt writes; untranslated entries are left out)."""
    pairs: list[tuple[bytes, bytes]] = []
    for (msgid, plural), strs in entries.items():
        if msgid and not any(strs):
            continue
        k = msgid if plural is None else msgid + "\0" + plural
        pairs.append((k.encode(), "\0".join(strs).encode()))
    pairs.sort()
    n = len(pairs)
    ids = b"".join(k + b"\0" for k, _ in pairs)
    strs = b"".join(v + b"\0" for _, v in pairs)
    koffsets, voffsets, off = [], [], 0
    for k, _ in pairs:
        koffsets += [len(k), off]
        off += len(k) + 1
    off = 0
    for _, v in pairs:
        voffsets += [len(v), off]
        off += len(v) + 1
    start_ids = 7 * 4 + 16 * n
    start_strs = start_ids + len(ids)
    koffsets = [x + start_ids if i % 2 else x for i, x in enumerate(koffsets)]
    voffsets = [x + start_strs if i % 2 else x for i, x in enumerate(voffsets)]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    return header + struct.pack(f"{2 * n}i", *koffsets) + struct.pack(f"{2 * n}i", *voffsets) + ids + strs


_CALL = re.compile(r"""\b(tr|ntr|N_)\(\s*(['"])((?:\\.|(?!\2).)*)\2(?:\s*,\s*(['"])((?:\\.|(?!\4).)*)\4)?""")


def used_msgids(root: Path | None = None) -> set[tuple[str, str | None]]:
    """Message ids the screens use: tr("…"), ntr("…", "…") and N_("…") in ui/**/*.py and ui/**/*.kv."""
    root = root or Path(__file__).resolve().parent
    found: set[tuple[str, str | None]] = set()
    for path in sorted(list(root.rglob("*.py")) + list(root.rglob("*.kv"))):
        if path.name == "i18n.py":
            continue
        for m in _CALL.finditer(path.read_text(encoding="utf-8")):
            kind, q, text, q2, text2 = m.groups()
            text = ast.literal_eval(q + text + q)
            plural = ast.literal_eval(q2 + text2 + q2) if kind == "ntr" and text2 is not None else None
            found.add((text, plural))
    return found


def po_path(lang: str) -> Path:
    return LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def main() -> int:
    missing = 0
    used = used_msgids()
    for lang in LOCALES:
        po = po_path(lang)
        entries = parse_po(po)
        po.with_suffix(".mo").write_bytes(compile_mo(entries))
        lacking = sorted(k for k in used if k not in entries or not any(entries[k]))
        for msgid, plural in lacking:
            print(f"{po}: no translation for {msgid!r}" + (f" / {plural!r}" if plural else ""))
        missing += len(lacking)
        print(f"{po.with_suffix('.mo')}: {len(entries) - 1} messages")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
