"""The text translation facade: validation, language ID, text policies, tier routing.

``Translator`` is synchronous and thread-safe enough to be called from worker threads (each
engine serialises its own calls); the service and the speech pipeline call it off the event
loop.  ``simultaneous()`` returns a :class:`SimultaneousTranslator` that feeds words to a policy
and applies the same text policies (glossary, formatting, masking) to the streamed target.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rtt.config import RttConfig
from rtt.errors import BackendUnavailable, InvalidInput, ModelMissing, RttError, UnsupportedLanguage
from rtt.languages import AUTO, check_pair, get_language
from rtt.models.store import ModelStore, fingerprint
from rtt.mt.base import MtCost, MtEngine, MtRequest
from rtt.mt.priority import ForegroundGate
from rtt.mt.registry import EngineRegistry
from rtt.policies.base import EmittedWord, PolicyContext, PolicyStep
from rtt.policies.factory import make_policy
from rtt.text.formality import formality_hint
from rtt.text.glossary import Glossary
from rtt.text.langid import identify_language
from rtt.text.pipeline import PreparedText, TextOptions, finish_target, finish_target_prefix, prepare_source
from rtt.text.validation import check_unicode

log = logging.getLogger("rtt.translator")


@dataclass
class TranslationOutcome:
    text: str
    source_lang: str
    target_lang: str
    detected_lang: str | None
    engine: str
    tier: str
    cost: MtCost = field(default_factory=MtCost)


def validate_text(text: object, max_chars: int) -> str:
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    if not text.strip():
        raise InvalidInput("text is empty", code="EMPTY_TEXT", field="text")
    if len(text) > max_chars:
        raise InvalidInput(
            f"text has {len(text)} characters; the limit is {max_chars}", code="TEXT_TOO_LONG", limit=max_chars
        )
    return check_unicode(text)


class Translator:
    def __init__(
        self,
        config: RttConfig,
        store: ModelStore | None = None,
        engines: EngineRegistry | None = None,
        gate: ForegroundGate | None = None,
    ) -> None:
        self.config = config
        self.engines = engines or EngineRegistry(config.mt, store)
        # Live work (streaming steps, whole-sentence requests) holds the gate; the refinement
        # pass waits at it (rtt/mt/priority.py).  Shared with the ASR stage via Components.
        self.gate = gate or ForegroundGate()
        self.store = store or ModelStore()
        self._model_hashes: dict[str, str | None] = {}

    # -- helpers ------------------------------------------------------------------------------
    def resolve_source(self, text: str, source_lang: str) -> tuple[str, str | None]:
        if source_lang == AUTO:
            code, _conf = identify_language(text)
            return code, code
        return get_language(source_lang).code, None

    def options(
        self,
        source_lang: str,
        target_lang: str,
        glossary: Glossary | None = None,
        formality: str | None = None,
        punctuation: bool | None = None,
        mask_pii: bool | None = None,
        mask_profanity: bool | None = None,
    ) -> TextOptions:
        t = self.config.text
        return TextOptions(
            glossary=glossary,
            formality=(formality or t.formality),  # type: ignore[arg-type]
            punctuation=t.punctuation if punctuation is None else punctuation,
            mask_profanity=t.mask_profanity if mask_profanity is None else mask_profanity,
            mask_pii=t.mask_pii if mask_pii is None else mask_pii,
            source_lang=source_lang,
            target_lang=target_lang,
        )

    def engine_for(
        self, source_lang: str, target_lang: str, tier: str | None = None, formality: str | None = None
    ) -> MtEngine:
        register = formality or self.config.text.formality
        needs = register != "default" and formality_hint(target_lang, register) is not None  # type: ignore[arg-type]
        return self.engines.for_direction(source_lang, target_lang, tier, needs_formality=needs)

    # -- whole sentences ------------------------------------------------------------------------
    def translate(
        self,
        texts: Sequence[str],
        source_lang: str,
        target_lang: str,
        *,
        tier: str | None = None,
        glossary: Glossary | None = None,
        formality: str | None = None,
        punctuation: bool | None = None,
        mask_pii: bool | None = None,
        mask_profanity: bool | None = None,
    ) -> list[TranslationOutcome]:
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            raise InvalidInput("no text to translate", code="EMPTY_TEXT", field="text")
        if len(texts) > self.config.text.max_batch:
            raise InvalidInput(
                f"batch of {len(texts)} texts; the limit is {self.config.text.max_batch}", code="BATCH_TOO_LARGE"
            )
        clean = [validate_text(t, self.config.text.max_chars) for t in texts]
        check_pair(source_lang, target_lang)
        tier = tier or self.config.mt.default_tier
        resolved = [self.resolve_source(t, source_lang) for t in clean]
        outcomes: list[TranslationOutcome | None] = [None] * len(clean)
        groups: dict[str, list[int]] = {}
        for i, (src, _det) in enumerate(resolved):
            groups.setdefault(src, []).append(i)
        for src, idx in groups.items():
            if src == target_lang:  # auto-detected as the target language: nothing to do
                for i in idx:
                    outcomes[i] = TranslationOutcome(clean[i], src, target_lang, resolved[i][1], "identity", tier)
                continue
            engine = self.engine_for(src, target_lang, tier, formality)
            opts = self.options(src, target_lang, glossary, formality, punctuation, mask_pii, mask_profanity)
            prepared = [prepare_source(clean[i], opts) for i in idx]
            requests = [
                MtRequest(p.text_for_engine, src, target_lang, formality=opts.formality, hints=p.hints)  # type: ignore[arg-type]
                for p in prepared
            ]
            t0 = time.perf_counter()
            with self.gate.foreground():
                results = engine.translate_batch(requests)
            wall = (time.perf_counter() - t0) * 1000
            for i, p, r in zip(idx, prepared, results, strict=True):
                text = finish_target(r.text, p.state, opts)
                cost = r.cost if r.cost.wall_ms else MtCost(wall_ms=wall / len(idx))
                outcomes[i] = TranslationOutcome(text, src, target_lang, resolved[i][1], engine.name, tier, cost)
        return [o for o in outcomes if o is not None]

    # -- streaming ------------------------------------------------------------------------------
    def simultaneous(
        self,
        source_lang: str,
        target_lang: str,
        *,
        policy: str | None = None,
        stabilization: str | None = None,
        tier: str | None = None,
        glossary: Glossary | None = None,
        formality: str | None = None,
        punctuation: bool | None = None,
        final_tier: str | None = None,
        refine_tier: str | None = None,
        mask_pii: bool | None = None,
        mask_profanity: bool | None = None,
    ) -> SimultaneousTranslator:
        """``final_tier`` (default: the config's ``mt.final_tier``) re-translates each finished
        sentence with another tier before the final is delivered: live partials stay fast, the
        final waits for the better model.

        ``refine_tier`` instead delivers the fast final at once and lets
        :meth:`SimultaneousTranslator.revise` re-translate it afterwards as background work (live
        sessions pass the config's ``mt.refine_tier``).  An engine that is not installed, or the
        live engine itself, means no refinement (the fast final stands)."""
        check_pair(source_lang, target_lang, allow_auto=False)
        tier = tier or self.config.mt.default_tier
        engine = self.engine_for(source_lang, target_lang, tier, formality)
        final_tier = final_tier or self.config.mt.final_tier
        final_engine = None
        if final_tier and final_tier != tier:
            final_engine = self.engine_for(source_lang, target_lang, final_tier, formality)
        refine_engine = None
        if refine_tier and refine_tier not in (tier, final_tier) and final_engine is None:
            try:
                refine_engine = self.engine_for(source_lang, target_lang, refine_tier, formality)
            except (BackendUnavailable, ModelMissing, UnsupportedLanguage) as exc:
                log.warning("no refinement for %s->%s: %s", source_lang, target_lang, exc.message)
            if refine_engine is engine:
                refine_engine = None
        opts = self.options(source_lang, target_lang, glossary, formality, punctuation, mask_pii, mask_profanity)
        return SimultaneousTranslator(
            engine,
            opts,
            policy or self.config.policy.name,
            stabilization or self.config.policy.stabilization,
            final_engine=final_engine,
            refine_engine=refine_engine,
            gate=self.gate,
            tier=(final_tier if final_engine is not None else tier) or "",
            refine_tier=refine_tier or "",
            model_hash=self.model_hash(getattr(final_engine or engine, "name", "")),
        )

    def model_hash(self, engine_name: str) -> str | None:
        """The short sha256 of an engine's model in the store (traces, reports); None when the
        engine has no packaged model (Apertium, a fake)."""
        if engine_name not in self._model_hashes:
            cfg = self.config.mt.engines.get(engine_name)
            digest = None
            if cfg is not None and cfg.model:
                try:
                    digest = fingerprint(self.store.resolve(cfg.model))
                except RttError:
                    digest = None
            self._model_hashes[engine_name] = digest
        return self._model_hashes[engine_name]

    def close(self) -> None:
        self.gate.close()
        self.engines.close()


@dataclass
class StreamUpdate:
    """What one push produced, with text policies applied (the user-visible strings)."""

    committed: list[EmittedWord]
    committed_text: str  # all committed target so far, finished for display
    tentative: str
    finished: bool
    cost: MtCost
    # True when a final-tier re-translation replaced the committed partial words.
    revised: bool = False


@dataclass
class Revision:
    """What the refinement pass made of one finished sentence."""

    text: str
    changed: bool  # differs from the final that was delivered
    engine: str
    cost: MtCost


class SimultaneousTranslator:
    """Feeds source words of one sentence to a policy; ``reset()`` starts the next sentence."""

    def __init__(
        self,
        engine: MtEngine,
        options: TextOptions,
        policy: str,
        stabilization: str,
        final_engine: MtEngine | None = None,
        refine_engine: MtEngine | None = None,
        gate: ForegroundGate | None = None,
        tier: str = "",
        refine_tier: str = "",
        model_hash: str | None = None,
    ) -> None:
        self.engine = engine
        self.model_hash = model_hash  # of the engine that writes the final (traces)
        self.tier = tier  # the live tier's name (usage metering counts tokens per tier)
        self.refine_tier = refine_tier if refine_engine is not None else ""
        self.final_engine = final_engine
        self.refine_engine = refine_engine
        self.gate = gate or ForegroundGate()
        self._final_text: str | None = None
        self.options = options
        self.policy_name = policy
        self.stabilization = stabilization
        # Under load (rtt/pipeline/load.py): decode committed words only, no tentative tail;
        # and, a step further, read words without a step until the sentence ends.
        self.thin_tentative = False
        self.defer_steps = False
        self._new_policy()

    def _new_policy(self) -> None:
        ctx = PolicyContext(
            self.engine, self.options.source_lang, self.options.target_lang, formality=self.options.formality
        )
        self.policy = make_policy(self.policy_name, ctx, self.stabilization)
        self._raw_source = ""
        self._prepared = prepare_source("", self.options, streaming=True)

    def reset(self) -> None:
        self._new_policy()
        self._final_text = None

    def push(self, text: str, source_finished: bool = False) -> StreamUpdate:
        with self.gate.foreground():
            update = self._push(text, source_finished)
        if update.finished or source_finished:
            self._final_text = update.committed_text
        return update

    @property
    def refinable(self) -> bool:
        """A refinement engine is set and the sentence is finished with something to revise."""
        return self.refine_engine is not None and bool(self._final_text) and bool(self.policy.source)

    def revise(self, cancel: threading.Event | None = None, background: bool = True,
               source: str | None = None) -> Revision | None:
        """Re-translate the finished sentence with the refinement engine as background work:
        it waits while live work holds the gate and raises :class:`~rtt.mt.priority.Cancelled`
        when ``cancel`` is set.  ``None`` when there is nothing to refine.  ``background=False``
        decodes as live work does (all threads, no pauses): only for comparisons.  ``source``
        replaces the sentence (the refinement pass heard the speech better: rtt/asr/redecode.py)."""
        if not self.refinable:
            return None
        assert self.refine_engine is not None and self._final_text is not None
        prepared = self._prepared if source is None else prepare_source(source, self.options, streaming=False)
        request = self._sentence_request(self.gate.background_pause(cancel) if background else None, prepared)
        result = self.refine_engine.continue_prefix(request, None)
        text = finish_target(result.text, prepared.state, self.options)
        if not text.strip():  # an empty revision would erase a delivered final: keep that one
            text = self._final_text
        return Revision(text, text != self._final_text, self.refine_engine.name, result.cost)

    def _sentence_request(self, pause: Callable[[], None] | None = None,
                          prepared: PreparedText | None = None) -> MtRequest:
        """The whole prepared sentence as one request (final tier, refinement)."""
        prepared = prepared or self._prepared
        return MtRequest(
            prepared.text_for_engine,
            self.options.source_lang,
            self.options.target_lang,
            formality=self.options.formality,
            hints=prepared.hints,
            pause=pause,
        )

    def _push(self, text: str, source_finished: bool) -> StreamUpdate:
        # Text policies work on the whole source so far (a glossary term may span two pushes);
        # the policy gets the engine-side words it has not seen yet.
        self._raw_source = f"{self._raw_source} {text}".strip()
        self._prepared = prepare_source(self._raw_source, self.options, streaming=not source_finished)
        engine_words = self._prepared.text_for_engine.split()
        self.policy.ctx.hints = self._prepared.hints
        new_words = engine_words[len(self.policy.source):]
        if self.defer_steps and not source_finished:
            # The words wait in _raw_source; the sentence's last push hands them all to the
            # policy, whose finishing step writes the rest after what is committed.
            return StreamUpdate([], finish_target_prefix(self.policy.committed_text, self._prepared.state,
                                                         self.options), "", False, MtCost())
        if source_finished and self.final_engine is not None:
            return self._final_retranslation(new_words)
        step = self._policy_step(new_words, source_finished)
        if source_finished:
            committed_text = finish_target(self.policy.committed_text, self._prepared.state, self.options)
        else:
            committed_text = finish_target_prefix(self.policy.committed_text, self._prepared.state, self.options)
        tentative = ""
        if step.tentative:
            full = finish_target_prefix(
                f"{self.policy.committed_text} {step.tentative}", self._prepared.state, self.options
            )
            tentative = full[len(committed_text):].strip() if full.startswith(committed_text) else ""
        return StreamUpdate(step.committed, committed_text, tentative, step.finished, step.cost)

    def _policy_step(self, new_words: list[str], source_finished: bool) -> PolicyStep:
        if not self.thin_tentative:
            return self.policy.push(new_words, source_finished)
        # wait-k decodes its tentative words in the step: without them a step that would only
        # show tentative words is not run at all.  Other policies just show none.
        tentative = getattr(self.policy, "tentative_words", 0)
        if tentative:
            self.policy.tentative_words = 0  # type: ignore[attr-defined]
        try:
            step: PolicyStep = self.policy.push(new_words, source_finished)
        finally:
            if tentative:
                self.policy.tentative_words = tentative  # type: ignore[attr-defined]
        step.tentative = ""
        return step

    def _final_retranslation(self, new_words: list[str]) -> StreamUpdate:
        # The policy sees the last words (so its partial state is complete), then the final
        # engine translates the whole sentence; the result replaces the committed partials.
        assert self.final_engine is not None
        self.policy.push(new_words, source_finished=False)
        result = self.final_engine.translate_batch([self._sentence_request()])[0]
        text = finish_target(result.text, self._prepared.state, self.options)
        self.policy.finished = True
        return StreamUpdate([], text, "", True, result.cost, revised=text != self.policy.committed_text)

    @property
    def source_words_read(self) -> int:
        return len(self.policy.source)
