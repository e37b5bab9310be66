"""What a call sounds like, pure: the sentence per language and its tokens.

A token is what one recorded clip says; its ``id`` is the clip's file name in a voice pack
(``<pack>/<lang>/<id>.wav``) and its ``text`` is what espeak-ng says when the clip is missing.
Ticket numbers are read digit by digit ("A 零 二 三"), counter numbers as numbers ("十二").
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.jobs import CallInfo

_ZH_DIGITS = "零一二三四五六七八九"
_EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_EN_TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
             "seventeen", "eighteen", "nineteen"]
_EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


@dataclass(frozen=True)
class Token:
    id: str
    text: str


def zh_number(n: int) -> str:
    """0..999 in Chinese reading ("十二", "一百零五"); larger numbers digit by digit."""
    if not 0 <= n <= 999:
        return "".join(_ZH_DIGITS[int(d)] for d in str(abs(n)))
    if n < 10:
        return _ZH_DIGITS[n]
    if n < 20:
        return "十" + (_ZH_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _ZH_DIGITS[n // 10] + "十" + (_ZH_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    head = _ZH_DIGITS[n // 100] + "百"
    if rest == 0:
        return head
    return head + ("零" + _ZH_DIGITS[rest] if rest < 10 else
                   ("一" + zh_number(rest) if rest < 20 else zh_number(rest)))


def en_number(n: int) -> str:
    if not 0 <= n <= 999:
        return " ".join(_EN_DIGITS[int(d)] for d in str(abs(n)))
    if n < 10:
        return _EN_DIGITS[n]
    if n < 20:
        return _EN_TEENS[n - 10]
    if n < 100:
        return _EN_TENS[n // 10] + ("-" + _EN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    return _EN_DIGITS[n // 100] + " hundred" + (" and " + en_number(rest) if rest else "")


def _ticket_tokens(ticket: str, lang: str) -> list[Token]:
    out = []
    for ch in ticket:
        if ch.isdigit():
            text = _ZH_DIGITS[int(ch)] if lang == "zh" else _EN_DIGITS[int(ch)]
            out.append(Token(f"digit_{ch}", text))
        elif ch.isascii() and ch.isalpha():
            out.append(Token(f"letter_{ch.upper()}", ch.upper()))
    return out


def call_tokens(call: CallInfo, lang: str) -> list[Token]:
    """The tokens of the call in ``lang`` (Chinese for ``zh*``, English otherwise)."""
    n = call.counter
    if lang.startswith("zh"):
        return ([Token("please", "请")] + _ticket_tokens(call.ticket, "zh")
                + [Token("hao", "号"), Token("dao", "到"), Token(f"number_{n}", zh_number(n)),
                   Token("hao_chuangkou", "号窗口"), Token("banli", "办理")])
    return ([Token("ticket", "Ticket")] + _ticket_tokens(call.ticket, "en")
            + [Token("please_go_to_counter", "please go to counter"),
               Token(f"number_{n}", en_number(n))])


def call_sentence(call: CallInfo, lang: str) -> str:
    """What is said, as text ("请A023号到3号窗口办理", "Ticket A023, please go to counter 3")."""
    if lang.startswith("zh"):
        return f"请{call.ticket}号到{call.counter}号窗口办理"
    return f"Ticket {call.ticket}, please go to counter {call.counter}"
