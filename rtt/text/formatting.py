"""Numbers, dates, times, amounts, units, URLs and e-mail addresses.

They are detected in the source and protected with placeholders, so that no engine rewrites
``1,234.50 €`` or a URL.  Only numeric dates and times are protected: "12 March" is language
and must be translated.  With ``localize_numbers`` the numeric part of numbers, amounts and
units is rewritten for the target language (``1,234.5`` in English is ``1.234,5`` in Spanish).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rtt.text.spans import NUMERIC_KINDS, Span, SpanKind, select_spans

# A number as written in any of the product languages: grouped (1,234 / 1.234 / 1 234 with a
# no-break or narrow no-break space) or plain, with an optional decimal part.
_NUM = (
    r"\d{1,3}(?:(?:,\d{3})+|(?:\.\d{3})+|(?:[\u00a0\u202f]\d{3})+)(?:[.,]\d+)?(?![\d])"
    r"|\d+(?:[.,]\d+)?"
)
_NUM_RE = re.compile(_NUM)
_LEFT = r"(?<![\w.,])(?<![A-Za-z]-)"  # not glued to a word ("COVID-19") or another number
_RIGHT = r"(?!\w)(?![.,]\d)"

CURRENCY_SYMBOLS: tuple[str, ...] = ("US$", "C$", "A$", "R$", "$", "€", "£", "¥", "₹", "₽")
CURRENCY_CODES: tuple[str, ...] = tuple(
    "USD EUR GBP JPY CHF CAD AUD MXN INR CNY BRL RUB PLN SEK NOK DKK".split()
)
_SYMBOLS = "(?:" + "|".join(re.escape(s) for s in CURRENCY_SYMBOLS) + ")"
_CODES = "(?:" + "|".join(CURRENCY_CODES) + ")"
_MULT = r"(?:[kKM](?!\w))?"
_UNITS = sorted(
    (
        "km/h m/s km² m² m³ cm² km cm mm nm µm m kg mg g ml cl dl mL l L °C °F ºC ºF mph kph kWh MWh kW MW"
        " W V mAh MB GB TB KB kB Mbps Gbps GHz MHz kHz Hz ft lb lbs oz mi yd px dB ms"
    ).split(),
    key=len,
    reverse=True,
)
_TLDS = r"(?i:com|org|net|io|dev|ai|app|es|de|fr|eu|uk|info|co)"

_PATTERNS: tuple[tuple[SpanKind, re.Pattern[str]], ...] = (
    ("url", re.compile(r"(?<![\w@])(?:https?://|ftp://|www\.)[^\s<>\"'«»“”]+", re.IGNORECASE)),
    (
        "url",
        re.compile(
            r"(?<![\w@.\-/])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
            + _TLDS
            + r"(?:/[^\s<>\"']*)?(?![\w@-])"
        ),
    ),
    (
        "email",
        re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"),
    ),
    (
        "currency",
        re.compile(
            rf"(?<![\w$€£¥₹₽]){_SYMBOLS}\s?(?:{_NUM}){_MULT}{_RIGHT}"
            rf"|{_LEFT}(?:{_NUM}){_MULT}\s?{_SYMBOLS}"
            rf"|(?<!\w){_CODES}\s?(?:{_NUM}){_MULT}{_RIGHT}"
            rf"|{_LEFT}(?:{_NUM}){_MULT}\s?{_CODES}(?!\w)"
        ),
    ),
    (
        "date",
        re.compile(rf"{_LEFT}(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}([/.\-])\d{{1,2}}\1\d{{2,4}}){_RIGHT}"),
    ),
    (
        "time",
        re.compile(
            rf"{_LEFT}(?:(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?(?:\s?[aApP]\.?\s?[mM]\b\.?)?"
            rf"|(?:[01]?\d|2[0-3])h[0-5]\d"
            rf"|(?:1[0-2]|0?[1-9])\s?[aApP]\.?[mM]\b\.?)(?![\w])"
        ),
    ),
    ("digits", re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,24}\d(?!\w)")),
    ("percent", re.compile(rf"{_LEFT}(?:{_NUM})\s?%")),
    ("unit", re.compile(rf"{_LEFT}(?:{_NUM})\s?(?:{'|'.join(re.escape(u) for u in _UNITS)})(?![\w²³])")),
    ("number", re.compile(rf"{_LEFT}(?:{_NUM}){_RIGHT}")),
)

_URL_TRAILING = ".,;:!?'\"”’»"


def find_formatting(text: str) -> list[Span]:
    """Protected formatting spans in ``text``, non-overlapping, in text order."""
    candidates = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.start(), m.end()
            if kind == "url":
                end = start + len(_trim_url(m.group(0)))
            elif kind == "digits" and not digit_groups_like(m.group(0), max_digits=19):
                continue
            candidates.append(Span(start, end, kind, text[start:end], text[start:end]))
    return select_spans(candidates)


_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}([/.\-])\d{1,2}\1\d{2,4}")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?")
_US_LOCAL = re.compile(r"\d{3}-\d{4}")


def digit_groups_like(candidate: str, max_digits: int = 15) -> bool:
    """A phone number (up to 15 digits, E.164) or, with ``max_digits=19``, a card-like number.

    Without an international prefix or a bracketed area code it needs at least 9 digits in
    groups of two or more ("612 345 678", "030 1234567") or the US "555-1234" shape, so that
    "2023 120" (a year and a count), dates and grouped numbers are not taken.
    """
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= max_digits:
        return False
    stripped = candidate.strip()
    if _DATE_LIKE.fullmatch(stripped) or _GROUPED_NUMBER.fullmatch(stripped):
        return False
    if stripped.startswith(("+", "00", "(")):
        return True
    groups = re.split(r"[ .()-]+", stripped)
    if len(digits) >= 9 and all(len(g) >= 2 for g in groups if g):
        return True
    return _US_LOCAL.fullmatch(stripped) is not None


def _trim_url(url: str) -> str:
    """Sentence punctuation right after a URL is not part of it; a ")" is when "(" is inside."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


# -- localisation ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NumberStyle:
    decimal: str
    group: str  # the separator written for thousands
    groups_read: str  # separators accepted as thousands when parsing


_NBSP, _NNBSP = "\u00a0", "\u202f"
_POINT = NumberStyle(".", ",", "," + _NBSP + _NNBSP)
_COMMA_DOT = NumberStyle(",", ".", "." + _NBSP + _NNBSP)
_COMMA_SPACE = NumberStyle(",", _NNBSP, _NBSP + _NNBSP + ".")

NUMBER_STYLES: dict[str, NumberStyle] = {
    "en": _POINT, "zh": _POINT, "ja": _POINT,
    "es": _COMMA_DOT, "de": _COMMA_DOT, "it": _COMMA_DOT, "pt": _COMMA_DOT, "nl": _COMMA_DOT,
    "ca": _COMMA_DOT, "fr": _COMMA_SPACE, "pl": _COMMA_SPACE, "ru": _COMMA_SPACE,
}  # fmt: skip


def localize_number(token: str, source_lang: str, target_lang: str) -> str:
    """Rewrite a bare number from the source's conventions to the target's.

    A token that does not read as a number under the source conventions is returned unchanged:
    guessing would turn a wrong reading into a wrong number.
    """
    src, tgt = NUMBER_STYLES.get(source_lang), NUMBER_STYLES.get(target_lang)
    if src is None or tgt is None or src == tgt:
        return token
    parsed = _parse(token, src)
    if parsed is None:
        return token
    groups, fraction = parsed
    integer = tgt.group.join(groups)
    return integer + (tgt.decimal + fraction if fraction is not None else "")


def localize_span(text: str, kind: str, source_lang: str, target_lang: str) -> str:
    """Localise the numeric part of a number, amount, unit or percentage span."""
    if kind not in NUMERIC_KINDS:
        return text
    m = _NUM_RE.search(text)
    if m is None:
        return text
    return text[: m.start()] + localize_number(m.group(0), source_lang, target_lang) + text[m.end() :]


def _parse(token: str, style: NumberStyle) -> tuple[list[str], str | None] | None:
    """Integer digit groups (as written) and the fraction digits, or None when not a number."""
    fraction: str | None = None
    integer = token
    if style.decimal in token:
        integer, fraction = token.rsplit(style.decimal, 1)
        if not fraction.isdigit():
            return None
    separators = [c for c in integer if not c.isdigit()]
    if not separators:
        return ([integer], fraction) if integer.isdigit() else None
    if any(c not in style.groups_read for c in separators) or len(set(separators)) > 1:
        return None
    groups = integer.split(separators[0])
    if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 and g.isdigit() for g in groups[1:])):
        return None
    return groups, fraction
