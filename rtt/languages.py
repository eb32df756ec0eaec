"""Language codes the product knows, and the names used in prompts and data files."""

from __future__ import annotations

from dataclasses import dataclass

from rtt.errors import InvalidInput, UnsupportedLanguage

LATIN = frozenset({"LATIN"})


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, the code used on every API surface
    name: str  # English name, used in LLM prompts
    flores: str  # suffix of the FLORES/Tatoeba files in ../shared/data
    marks_formality: bool = False
    # Unicode script names of its letters (rtt.asr.guards: a committed word must be in them)
    scripts: frozenset[str] = LATIN


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English", "eng"),
        Language("es", "Spanish", "spa", marks_formality=True),
        Language("de", "German", "deu", marks_formality=True),
        Language("fr", "French", "fra", marks_formality=True),
        Language("it", "Italian", "ita", marks_formality=True),
        Language("pt", "Portuguese", "por", marks_formality=True),
        Language("nl", "Dutch", "nld", marks_formality=True),
        Language("ca", "Catalan", "cat"),
        Language("pl", "Polish", "pol"),
        Language("ru", "Russian", "rus", marks_formality=True, scripts=frozenset({"CYRILLIC"})),
        Language("zh", "Chinese", "zho", scripts=frozenset({"CJK"})),
        Language("ja", "Japanese", "jpn", marks_formality=True,
                 scripts=frozenset({"CJK", "HIRAGANA", "KATAKANA"})),
    )
}

# Directions measured in reports/ and served by the default config.
CORE_LANGUAGES: tuple[str, ...] = ("en", "es", "de", "fr")

AUTO = "auto"


def get_language(code: str) -> Language:
    if not isinstance(code, str) or not code.strip():
        raise InvalidInput("language code must be a non-empty string", field="lang")
    key = code.strip().lower()
    if key not in LANGUAGES:
        raise UnsupportedLanguage(
            f"unknown language {code!r}; supported: {', '.join(sorted(LANGUAGES))}", lang=code
        )
    return LANGUAGES[key]


def check_pair(source: str, target: str, allow_auto: bool = True) -> None:
    """Raise a structured error when a pair can't be served."""
    if not (allow_auto and source == AUTO):
        get_language(source)
    get_language(target)
    if source == target:
        raise UnsupportedLanguage(f"source and target are both {source!r}", source=source, target=target)
