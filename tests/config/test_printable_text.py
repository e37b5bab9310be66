"""No control character in a configured text that reaches a printer, a display or a screen: an
ESC/POS byte in a service name would be sent to the printer as a command. The error names the
key, its line, the character and its position."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from kiosk.config.settings import DEFAULT_CONFIG, parse_settings
from kiosk.config.text import PrintableText, control_character
from kiosk.domain.errors import ConfigError

SAMPLE = DEFAULT_CONFIG.read_text(encoding="utf-8")

# (what was written in the sample, the key it is, the text with a control character at position 4)
TEXTS = [
    ('name = { zh = "示范营业厅", en = "Demo Service Hall" }', "branch.name.en",
     'name = { zh = "示范营业厅", en = "Dem{c}o Service Hall" }'),
    ('name = { zh = "缴费", en = "Payments" }', "services[0].name.en",
     'name = { zh = "缴费", en = "Pay{c}ments" }'),
    ('name = { zh = "综合业务", en = "General business" }', "services[1].name.zh",
     'name = { zh = "综合业{c}务", en = "General business" }'),
    ('name = { zh = "1号窗口", en = "Counter 1" }', "counters[0].name.en",
     'name = { zh = "1号窗口", en = "Cou{c}nter 1" }'),
    ('name = { zh = "钻石", en = "Diamond" }', "tiers[0].name.en",
     'name = { zh = "钻石", en = "Dia{c}mond" }'),
    ('self_service = { zh = "缴费也可', "services[0].self_service.zh",
     'self_service = { zh = "缴费也{c}可'),
]
CONTROLS = ["\x1b", "\x1d", "\x00", "\r", "\n", "\t", "\x7f", "\x85", "\x9b"]


def _toml_escape(char: str) -> str:
    return f"\\u{ord(char):04X}"


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_settings(text, source="kiosk.toml")
    return str(exc.value)


def _line(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(start))


@pytest.mark.parametrize("written, key, bad", TEXTS, ids=[t[1] for t in TEXTS])
@pytest.mark.parametrize("char", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_a_control_character_in_a_hall_text_is_refused(written, key, bad, char):
    assert written in SAMPLE
    written_bad = bad.replace("{c}", _toml_escape(char))
    text = SAMPLE.replace(written, written_bad, 1)
    msg = _error(text)
    line = _line(text, written_bad)
    assert (f"kiosk.toml:{line}: {key}: contains a control character U+{ord(char):04X} at position 4"
            in msg)


HARDWARE = """
[hardware.printer]
qr_url = "https://q.example/{{ticket}}"
footer = {footer}

[[hardware.displays]]
name = "hall"

[[hardware.displays]]
name = "vfd"
idle_message = "{idle}"
"""


@pytest.mark.parametrize("footer, idle, key, expected", [
    ('"Thank\\u001Byou"', "Welcome", "hardware.printer.footer", "contains a control character U+001B at position 6"),
    ('{ zh = "谢谢", en = "Th\\u001Dnks" }', "Welcome", "hardware.printer.footer",
     "the 'en' text contains a control character U+001D at position 3"),
    ('"Thank you"', "Wel\\rcome", "hardware.displays[1].idle_message",
     "contains a control character U+000D at position 4"),
])
def test_a_control_character_in_a_device_text_is_refused(footer, idle, key, expected):
    text = SAMPLE + HARDWARE.format(footer=footer, idle=idle)
    msg = _error(text)
    written = "footer" if key.endswith("footer") else "idle_message"
    assert f"kiosk.toml:{_line(text, written)}: {key}: {expected}" in msg


def test_a_control_character_in_the_qr_url_and_the_broker_url_is_refused():
    text = SAMPLE + HARDWARE.format(footer='""', idle="Hi").replace(
        '"https://q.example/{ticket}"', '"https://q.example/\\u0000{ticket}"')
    assert "hardware.printer.qr_url: contains a control character U+0000 at position 19" in _error(text)
    text = SAMPLE.replace('url = "mqtt://127.0.0.1:1883"', 'url = "mqtt://127.0.0.1:1883\\n"')
    assert "mqtt.url: contains a control character U+000A at position 22" in _error(text)


def test_ordinary_texts_load():
    """Chinese, accents, spaces and punctuation are no control characters; the sample hall loads."""
    text = SAMPLE + HARDWARE.format(footer='{ zh = "谢谢光临！", en = "Merci — à bientôt" }', idle="Welcome 欢迎")
    s = parse_settings(text)
    assert s.hardware.printer.footer == {"zh": "谢谢光临！", "en": "Merci — à bientôt"}
    assert s.hardware.displays[1].idle_message == "Welcome 欢迎"
    assert s.service("A").name.get("zh") == "缴费"


def test_printable_text_is_reusable_at_other_boundaries():
    adapter = TypeAdapter(PrintableText)
    assert adapter.validate_python("A001 请到3号窗口") == "A001 请到3号窗口"
    with pytest.raises(ValidationError, match=r"control character U\+001B at position 1"):
        adapter.validate_python("\x1b@")
    assert control_character("ok\x9bx") == (3, "\x9b")
    assert control_character("ok") is None
