"""Prompt formats that turn an :class:`MtRequest` into text for a causal LLM.

The committed target prefix is placed *inside the assistant turn*, so the model can only
continue it.  Everything that stays fixed while a sentence streams in (instructions, examples)
comes first and the growing source comes last in the user turn, which lets llama.cpp reuse the
KV cache for the longest common token prefix between consecutive calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rtt.languages import get_language
from rtt.mt.base import MtRequest
from rtt.text.formality import formality_hint

# A handful of FLORES-independent sentence pairs for few-shot prompting of base models.  (A
# fourth, long multi-clause pair was tried against Gemma's habit of ending long sentences early:
# chrF moved by -1.6..+1.1 on 20 FLORES lines, so it was not kept.)
FEWSHOT: dict[str, list[str]] = {
    "en": ["The meeting starts at nine tomorrow.", "Please send me the report by Friday.", "It was raining, so we stayed home."],
    "es": ["La reunión empieza mañana a las nueve.", "Por favor, envíame el informe antes del viernes.", "Estaba lloviendo, así que nos quedamos en casa."],
    "de": ["Das Treffen beginnt morgen um neun.", "Bitte schick mir den Bericht bis Freitag.", "Es regnete, also blieben wir zu Hause."],
    "fr": ["La réunion commence demain à neuf heures.", "Merci de m'envoyer le rapport d'ici vendredi.", "Il pleuvait, alors nous sommes restés à la maison."],
}

# The second example addresses the reader. A base model has no instructions to follow, so the
# register it should use is shown instead: these replace that example in the target language.
FEWSHOT_REGISTER: dict[str, dict[str, str]] = {
    "es": {"formal": "¿Puede usted enviarme el informe antes del viernes?",
           "informal": "¿Puedes enviarme el informe antes del viernes?"},
    "de": {"formal": "Können Sie mir den Bericht bis Freitag schicken?",
           "informal": "Kannst du mir den Bericht bis Freitag schicken?"},
    "fr": {"formal": "Pourriez-vous m'envoyer le rapport d'ici vendredi ?",
           "informal": "Peux-tu m'envoyer le rapport d'ici vendredi ?"},
}


def fewshot_examples(lang: str, formality: str = "default") -> list[str]:
    examples = list(FEWSHOT.get(lang, []))
    register = FEWSHOT_REGISTER.get(lang, {}).get(formality)
    if examples and register:
        examples[1] = register
    return examples


@dataclass(frozen=True)
class PromptParts:
    """A rendered prompt cut where it grows: ``head`` (fixed while a sentence streams in), the
    ``source`` text, the ``sep`` between source and target, and the forced ``target`` prefix.
    Their concatenation is the prompt; the cut lets an engine insert new source tokens into a
    cache instead of re-evaluating everything after them (see :mod:`rtt.mt.llama_kv`)."""

    head: str
    source: str
    sep: str
    target: str

    @property
    def text(self) -> str:
        return self.head + self.source + self.sep + self.target


class PromptFormat(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def stop(self) -> tuple[str, ...]: ...

    def parts(self, request: MtRequest) -> PromptParts: ...

    def render(self, request: MtRequest) -> str: ...


def _instructions(request: MtRequest) -> str:
    src = get_language(request.source_lang).name
    tgt = get_language(request.target_lang).name
    parts = [f"Translate the {src} text into {tgt}. Output only the translation."]
    register = formality_hint(request.target_lang, request.formality)
    if register:
        parts.append(register)
    if not request.source_complete:
        parts.append("The text may be the beginning of a sentence; translate only what is there.")
    # Glossary and placeholder instructions come from rtt.text as hints.
    parts.extend(request.hints)
    return " ".join(parts)


class _Rendered:
    """``render`` for formats that define ``parts``: the prompt is always their concatenation."""

    def parts(self, request: MtRequest) -> PromptParts:  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self, request: MtRequest) -> str:
        return self.parts(request).text


@dataclass(frozen=True)
class TurnPrompt(_Rendered):
    """An instruction-tuned chat template: a user turn with the instructions and the source,
    then the model's turn holding the forced target prefix."""

    name: str
    stop: tuple[str, ...]
    user_open: str  # everything before the instructions
    sep: str  # closes the user turn and opens the model's

    def parts(self, request: MtRequest) -> PromptParts:
        return PromptParts(f"{self.user_open}{_instructions(request)}\n\n", request.text, self.sep,
                           request.target_prefix)


# Qwen-style ChatML.
CHATML = TurnPrompt(
    "chatml", ("<|im_end|>", "<|endoftext|>", "\n"),
    "<|im_start|>system\nYou are a professional translator.<|im_end|>\n<|im_start|>user\n",
    "<|im_end|>\n<|im_start|>assistant\n",
)
# Gemma instruction-tuned turns.
GEMMA = TurnPrompt("gemma", ("<end_of_turn>", "<eos>", "\n"), "<start_of_turn>user\n",
                   "<end_of_turn>\n<start_of_turn>model\n")


@dataclass(frozen=True)
class FewShotPrompt(_Rendered):
    """Plain completion with three example pairs, for base (non-instruction) models."""

    name: str = "fewshot"
    stop: tuple[str, ...] = ("\n",)

    def parts(self, request: MtRequest) -> PromptParts:
        src = get_language(request.source_lang)
        tgt = get_language(request.target_lang)
        head = ""
        src_ex = FEWSHOT.get(src.code)
        tgt_ex = fewshot_examples(tgt.code, request.formality or "default")
        if src_ex and tgt_ex:
            for s, t in zip(src_ex, tgt_ex, strict=True):
                head += f"{src.name}: {s}\n{tgt.name}: {t}\n\n"
        prefix = f" {request.target_prefix}" if request.target_prefix else ""
        return PromptParts(f"{head}{src.name}: ", request.text, f"\n{tgt.name}:", prefix)


_FORMATS: tuple[PromptFormat, ...] = (CHATML, GEMMA, FewShotPrompt())
PROMPTS: dict[str, PromptFormat] = {p.name: p for p in _FORMATS}


def detect_prompt(metadata: dict[str, str]) -> PromptFormat:
    """Pick a format from GGUF metadata when the config says ``auto``."""
    template = metadata.get("tokenizer.chat_template", "")
    if "<|im_start|>" in template:
        return PROMPTS["chatml"]
    if "<start_of_turn>" in template:
        return PROMPTS["gemma"]
    return PROMPTS["fewshot"]
