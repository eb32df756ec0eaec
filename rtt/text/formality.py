"""Formal / informal address: the instruction for LLM engines and a rule-based check of the output.

The check looks for second-person cues: pronouns, possessives and the commonest verb forms that
only one register uses (Spanish ``tienes``/``usted``, German ``du``/``Sie``, French ``tu``/``vous``).
It is a light check for the formality golden set, not a classifier: a sentence that addresses
nobody has no cue and gets ``register == "unknown"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rtt.mt.base import Formality

Register = Literal["formal", "informal", "mixed", "unknown"]

FORMALITY_HINTS: dict[str, dict[str, str]] = {
    "es": {
        "formal": "Address the reader formally, with usted and its verb forms.",
        "informal": "Address the reader informally, with tú and its verb forms.",
    },
    "de": {
        "formal": "Address the reader formally, with Sie and Ihr/Ihnen.",
        "informal": "Address the reader informally, with du and dein/dir.",
    },
    "fr": {
        "formal": "Address the reader formally, with vous and votre.",
        "informal": "Address the reader informally, with tu and ton/ta.",
    },
    "it": {"formal": "Address the reader formally (Lei).", "informal": "Address the reader informally (tu)."},
    "pt": {
        "formal": "Address the reader formally (o senhor/a senhora).",
        "informal": "Address the reader informally (tu/você).",
    },
}


def formality_hint(target_lang: str, formality: Formality) -> str | None:
    """The instruction to add to an LLM prompt, or None when the language or request has none."""
    if formality == "default":
        return None
    return FORMALITY_HINTS.get(target_lang, {}).get(formality)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Lower-case cue words.  Ambiguous words are left out: Spanish "su" (his/her/your formal), German
# lower-case "ihr" (her / you-plural), French "vous" stays because it is the usual formal cue
# even though it is also the informal plural.
_CUES: dict[str, dict[str, frozenset[str]]] = {
    "es": {
        "formal": _words("usted ustedes ud uds vd vds"),
        "informal": _words(
            "tú te ti contigo tu tus tuyo tuya tuyos tuyas eres estás tienes puedes quieres necesitas sabes"
            " has vas vienes haces dices podrías deberías quieras puedas tengas seas estés hayas vosotros"
            " vosotras os vuestro vuestra vuestros vuestras"
        ),
    },
    "de": {
        "formal": _words("Sie Ihnen Ihr Ihre Ihren Ihrem Ihrer Ihres"),
        "informal": _words(
            "du dich dir dein deine deinen deinem deiner deines euch euer eure euren eurem eurer bist hast"
            " kannst willst musst sollst darfst wirst weißt möchtest könntest würdest solltest"
        ),
    },
    "fr": {
        "formal": _words("vous votre vos vôtre vôtres"),
        "informal": _words("tu te t toi ton ta tes tien tienne tiennes"),
    },
}
_CASE_SENSITIVE = {"de"}  # German "Sie" (you) vs "sie" (she/they)
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# Hyphenated words are split so that imperatives keep their pronoun ("asseyez-vous" is formal),
# except nouns where the pronoun is frozen in and says nothing about the register.
_LEXICALIZED = frozenset({"rendez-vous", "garde-à-vous", "tête-à-tête", "va-et-vient", "m'as-tu-vu"})


@dataclass(frozen=True)
class RegisterCheck:
    register: Register
    formal_cues: tuple[str, ...]
    informal_cues: tuple[str, ...]

    def matches(self, requested: Formality) -> bool | None:
        """True/False when the output shows a register; None when it shows none (or mixes both)."""
        if requested == "default":
            return True
        if self.register in ("unknown", "mixed"):
            return None if self.register == "unknown" else False
        return self.register == requested


def check_register(text: str, lang: str) -> RegisterCheck:
    cues = _CUES.get(lang)
    if cues is None:
        return RegisterCheck("unknown", (), ())
    formal: list[str] = []
    informal: list[str] = []
    for sentence_start, token in _tokens(text):
        key = token if lang in _CASE_SENSITIVE else token.lower()
        if lang == "de" and sentence_start and token in ("Sie", "Ihr"):
            # Sentence-initial "Sie" may be "she/they" and "Ihr" may be "you (plural)": count
            # them only when nothing else decides.
            formal.append(token + "?")
            continue
        if key in cues["formal"]:
            formal.append(token)
        elif key in cues["informal"]:
            informal.append(token)
    strong_formal = [c for c in formal if not c.endswith("?")]
    if informal and strong_formal:
        register: Register = "mixed"
    elif informal:
        register = "informal"
    elif formal:
        register = "formal"
    else:
        register = "unknown"
    return RegisterCheck(register, tuple(formal), tuple(informal))


def _tokens(text: str) -> list[tuple[bool, str]]:
    tokens = []
    for m in _TOKEN_RE.finditer(text):
        if m.group(0).lower() in _LEXICALIZED:
            continue
        before = text[: m.start()].rstrip(" \"'“«¿¡(")
        start = not before or before[-1] in ".!?:"
        for i, part in enumerate(m.group(0).split("-")):
            tokens.append((start and i == 0, part))
    return tokens
