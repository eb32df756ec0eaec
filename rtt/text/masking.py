"""PII masking (e-mails, also as speech recognition writes them, phones, card numbers, IBANs)
and profanity masking.

PII is masked in the *source* so that it never reaches an engine (or a log); the masks are
then protected like glossary terms and come out of translation unchanged.  Profanity is masked
in the *target*, with the target language's list, so the engine still sees and translates the
real words.  Card numbers must pass the Luhn check and IBANs the ISO 13616 mod-97 check, so an
order number or a date is not mistaken for one.
"""

from __future__ import annotations

import re

from rtt.text.formatting import digit_groups_like
from rtt.text.spans import Span, apply_spans, select_spans

EMAIL_MASK = "[EMAIL]"
PHONE_MASK = "[PHONE]"
CARD_MASK = "[CARD]"
IBAN_MASK = "[IBAN]"
NUMBER_MASK = "[NUMBER]"
MASK_TOKENS: tuple[str, ...] = (EMAIL_MASK, PHONE_MASK, CARD_MASK, IBAN_MASK, NUMBER_MASK)
MASK_RE = re.compile("|".join(re.escape(m) for m in MASK_TOKENS))

_EMAIL_RE = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
# An address as speech recognition writes it: "john at example.com", "ana punto lopez arroba
# gmail punto com". Needs a known top-level domain, so "look at the house" is left alone.
_SEP = r"(?:\.|\s*\b(?:dot|punto|point|punkt)\b\s*)"
_AT_WORDS = ("at", "arroba", "arobase", "ät", "chez")
_TLDS = "com|org|net|edu|gov|io|info|eu|de|es|fr|uk|co|it|nl|mx|ar"
# The words an address is spoken with: never themselves private.
ADDRESS_WORDS = frozenset((*_AT_WORDS, "dot", "punto", "point", "punkt", *_TLDS.split("|")))
_SPOKEN_EMAIL_RE = re.compile(
    r"(?<![\w@.])[\w+-]+(?:" + _SEP + r"[\w+-]+)*\s+(?:" + "|".join(_AT_WORDS) + r")\s+[\w-]+(?:" + _SEP
    + r"[\w-]+)*?" + _SEP + r"(?:" + _TLDS + r")(?![\w@])",
    re.IGNORECASE,
)
# The same address run together, as recognition sometimes writes it ("johnatexample.com",
# "johnetexample.com"): with PII masking any host name with a known TLD is masked, so a site
# like "example.com" is masked too: a masked domain costs less than a leaked address.
_GLUED_EMAIL_RE = re.compile(
    # The TLD in lower case, as recognizers write hosts: "no.It was" is a missing space, not a host.
    r"(?<![\w@.])[A-Za-z0-9][A-Za-z0-9_%+-]*(?:\.[A-Za-z0-9-]+)*\.(?-i:" + _TLDS + r")(?![\w@]|\.\w)",
    re.IGNORECASE,
)
# Country code, check digits, then 11-30 alphanumerics, printed compact or in groups of four.
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_CARD_RE = re.compile(r"(?<![\d.,])\d(?:[ -]?\d){12,18}(?![\d])")
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d ().-]{5,20}\d(?![\w])")
_LONG_DIGITS = re.compile(r"(?<!\d)\d{6,}(?!\d)")


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    compact = iban.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34) or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    if not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_pii(text: str) -> list[Span]:
    """E-mails, IBANs, card numbers and phone numbers, non-overlapping, in text order."""
    candidates: list[Span] = []
    for m in _EMAIL_RE.finditer(text):
        candidates.append(Span(m.start(), m.end(), "mask", m.group(0), EMAIL_MASK))
    for m in _SPOKEN_EMAIL_RE.finditer(text):
        candidates.append(Span(m.start(), m.end(), "mask", m.group(0), EMAIL_MASK))
    for m in _GLUED_EMAIL_RE.finditer(text):
        candidates.append(Span(m.start(), m.end(), "mask", m.group(0), EMAIL_MASK))
    for m in _IBAN_RE.finditer(text):
        end = _longest_valid_iban(text, m.start(), m.end())
        if end is not None:
            candidates.append(Span(m.start(), end, "mask", text[m.start() : end], IBAN_MASK))
    for m in _CARD_RE.finditer(text):
        digits = re.sub(r"[ -]", "", m.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            candidates.append(Span(m.start(), m.end(), "mask", m.group(0), CARD_MASK))
    taken = select_spans(candidates)
    for m in _PHONE_RE.finditer(text):
        span = Span(m.start(), m.end(), "mask", m.group(0), PHONE_MASK)
        if digit_groups_like(m.group(0)) and not any(span.overlaps(t) for t in taken):
            candidates.append(span)
    return select_spans(candidates)


# The end of a partial where an address is being spoken and its domain is not heard yet
# ("... john at example."): a partial may show [EMAIL] there until the final says what it was.
SPOKEN_ADDRESS_TAIL_RE = re.compile(
    r"(?<!\S)[\w.+-]+\s+(?:" + "|".join(_AT_WORDS) + r")\s+[\w-]+\.?\s*$", re.IGNORECASE)


def mask_pii(text: str) -> str:
    return apply_spans(text, find_pii(text))


def redact_for_logs(text: str, max_chars: int | None = 200) -> str:
    """What the service may write to a log: PII masked, other long digit runs (account or order
    numbers that no checksum recognises) masked, and the text cut to ``max_chars``."""
    redacted = _LONG_DIGITS.sub(NUMBER_MASK, mask_pii(text))
    if max_chars is not None and len(redacted) > max_chars:
        redacted = f"{redacted[:max_chars]}…(+{len(redacted) - max_chars} chars)"
    return redacted


def _longest_valid_iban(text: str, start: int, end: int) -> int | None:
    """The regex is greedy and may swallow a following code ("… 0130 00 EUR"): back off one
    character at a time to the longest prefix that passes mod-97."""
    for stop in range(end, start + 14, -1):
        if text[stop - 1] == " " or (stop < len(text) and text[stop].isalnum()):
            continue
        if iban_valid(text[start:stop]):
            return stop
    return None


# -- profanity -------------------------------------------------------------------------------
# Deliberately small lists of common strong words; an entry ending in "*" matches any word that
# starts with it ("scheiß*" covers "Scheißkerl").  Lists are per language because a word that is
# profane in one language is harmless in another (French "con", Spanish "con").
PROFANITY: dict[str, tuple[str, ...]] = {
    "en": (
        "fuck*", "motherfucker*", "shit", "shits", "shitty", "shithead*", "bullshit", "bitch", "bitches",
        "bastard", "bastards", "asshole*", "arsehole*", "dickhead*", "cunt*", "crap", "crappy",
        "damn", "goddamn*", "piss", "pissed", "wanker*", "bollocks", "slut*", "whore*", "twat*",
    ),
    "es": (
        "mierda*", "joder", "jodido*", "jodida*", "jódete", "coño", "cabrón", "cabrones", "cabrona*",
        "puta", "putas", "puto", "putos", "putada", "gilipollas", "pendejo*", "pendeja*", "hostia*",
        "carajo", "chingar*", "chingada*", "culero*", "mamón", "capullo*", "follar", "hijoputa*",
    ),
    "de": (
        "scheiße", "scheisse", "scheiß*", "scheiss*", "arsch", "arschloch*", "ficken", "fick*",
        "verfickt*", "verdammt*", "hure", "huren*", "hurensohn*", "wichser*", "miststück*", "fotze*",
        "schlampe*", "mistkerl*", "drecksau*",
    ),
    "fr": (
        "merde*", "putain*", "connard*", "connasse*", "salope*", "salaud*", "enculé*", "encule*",
        "bordel", "chier", "fais chier", "foutre", "nique*", "niquer", "pute*", "bâtard*", "batard*",
        "couille*", "emmerde*",
    ),
}  # fmt: skip


def profanity_pattern(lang: str) -> re.Pattern[str] | None:
    words = PROFANITY.get(lang)
    if not words:
        return None
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        body = r"\s+".join(re.escape(w) for w in word.rstrip("*").split())
        alternatives.append(body + (r"\w*" if word.endswith("*") else ""))
    return re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE)


def mask_profanity(text: str, lang: str) -> str:
    """Mask each profane word as its first letter followed by asterisks ("shit" -> "s***")."""
    pattern = profanity_pattern(lang)
    if pattern is None:
        return text
    return pattern.sub(star_match, text)


def star_match(m: re.Match[str]) -> str:
    """A profane match as its words' first letters followed by asterisks."""
    return re.sub(r"\S+", lambda w: w.group(0)[0] + "*" * (len(w.group(0)) - 1), m.group(0))
