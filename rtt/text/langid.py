"""Text language identification for ``source_lang=auto``.

py3langid (a naive-Bayes byte n-gram model shipped inside the package) restricted to the
product's languages, with normalised probabilities so that the confidence is comparable across
texts.  Accuracy on FLORES-200 devtest lines 1-200 (en/es/de/fr): see docs/text-features.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from rtt.errors import InvalidInput
from rtt.languages import LANGUAGES


class TextLanguageIdentifier:
    """Loading the model takes about a second, so build one and share it; ``identify`` is thread-safe
    (the model is only read after construction)."""

    def __init__(self, languages: Iterable[str] | None = None) -> None:
        wanted = list(languages) if languages is not None else list(LANGUAGES)
        unknown = [code for code in wanted if code not in LANGUAGES]
        if unknown or not wanted:
            raise InvalidInput(
                f"language identification needs product languages, got {unknown or 'none'}", field="languages"
            )
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        # py3langid 0.2 (numpy 1.x, which unbabel-comet needs) names the loader
        # from_pickled_model; 0.3+ renamed it from_model_file.
        load = getattr(LanguageIdentifier, "from_model_file", None) or LanguageIdentifier.from_pickled_model
        self._model = load(MODEL_FILE, norm_probs=True)
        self.languages: tuple[str, ...] = tuple(wanted)
        self._model.set_languages(list(self.languages))

    def identify(self, text: str) -> tuple[str, float]:
        """The most likely language code and its probability (0..1) among ``languages``."""
        _check_text(text)
        code, confidence = self._model.classify(text)
        return str(code), float(confidence)

    def rank(self, text: str) -> list[tuple[str, float]]:
        _check_text(text)
        return [(str(code), float(p)) for code, p in self._model.rank(text)]


@lru_cache(maxsize=1)
def default_identifier() -> TextLanguageIdentifier:
    """The identifier over all product languages, built once per process (read-only)."""
    return TextLanguageIdentifier()


# Text language ID on fewer words is a guess; below this probability it is not sure.
OTHER_LANGUAGE_MIN_WORDS = 3
OTHER_LANGUAGE_MIN_PROB = 0.9


def reads_as_other_language(words: Sequence[str], language: str | None) -> bool:
    """The words confidently read as a language other than ``language`` (False when unsure, too
    short, without letters, or ``language`` is not one the identifier knows).  Used on ASR
    hypotheses (rtt/asr/guards.py) and on live MT output (rtt/metrics/online.py)."""
    if not language or len(words) < OTHER_LANGUAGE_MIN_WORDS:
        return False
    ident = default_identifier()
    if language not in ident.languages:
        return False
    try:
        code, prob = ident.identify(" ".join(words))
    except InvalidInput:  # no letters (numbers only): nothing to say
        return False
    return code != language and prob >= OTHER_LANGUAGE_MIN_PROB


def identify_language(text: str) -> tuple[str, float]:
    """(code, probability) with the shared identifier; ``InvalidInput`` for a text without letters."""
    return default_identifier().identify(text)


detect_language = identify_language


def _check_text(text: str) -> None:
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    if not text.strip():
        raise InvalidInput("cannot identify the language of an empty text", field="text")
    if not any(ch.isalpha() for ch in text):
        raise InvalidInput(
            "cannot identify the language of a text without letters", field="text", text=text[:40]
        )
