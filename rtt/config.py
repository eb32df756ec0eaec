"""The served configuration: a versioned pydantic model loaded from YAML.

One file names the engines, which engine serves each tier and direction, the default policy,
and the speech stages.  ``serve`` exposes exactly one such file, and experiments are variations
of it, so what was measured is what gets served.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rtt.errors import ConfigError
from rtt.versioning import require_version

CONFIG_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EngineConfig(_Strict):
    backend: Literal["llama", "ctranslate2", "apertium"]
    # A packaged model name from `rtt models list`, or a path to the user's own model file/dir.
    model: str = ""
    threads: int | None = None
    n_ctx: int = 2048
    prompt: Literal["auto", "chatml", "gemma", "fewshot"] = "auto"
    repeat_penalty: float = 1.1
    beam_size: int = 1
    compute_type: str = "int8"
    # Directions this engine serves ("es-en"); empty = every direction it supports.
    directions: list[str] = Field(default_factory=list)
    # llama only: serve only pairs of these languages (a model whose vocabulary was cut to
    # their script, e.g. gemma3-270m-q4km-latin); empty = no restriction.
    languages: list[str] = Field(default_factory=list)
    # llama only: insert new source words into the KV cache in front of the committed target
    # instead of re-evaluating the target every simultaneous step (rtt/mt/llama_kv.py).
    source_insert: bool = False
    # Whole sentences are written in chunks of this many source words, the target lagging
    # `chunk_lag` words behind (rtt/mt/chunked.py); 0 = one pass.  Small LLMs drop clauses of
    # long sentences in one pass.
    chunk_words: int = Field(default=0, ge=0)
    chunk_lag: int = Field(default=3, ge=1)
    # llama only: live steps of all sessions decoded together (rtt/mt/llama_batch.py); None =
    # mt.batching.  Batched steps use plain prompts, so source_insert then applies only to the
    # unbatched path.
    batching: bool | None = None


class MtConfig(_Strict):
    engines: dict[str, EngineConfig]
    # tier -> direction ("es-en" or "*") -> ordered engine names (first available wins)
    tiers: dict[str, dict[str, list[str]]]
    default_tier: str = "fast"
    # Tier used to re-translate a finished sentence when `final_tier` differs from the live tier.
    final_tier: str | None = None
    # Tier that re-translates each finished sentence *after* its fast final was delivered, as
    # background work that yields to live work (a `revised_translation` event follows the
    # final).  None: no refinement.  Ignored when `final_tier` is set.
    refine_tier: str | None = None
    # Finished sentences waiting for refinement per session; when more arrive, the oldest
    # waiting one is skipped (its fast final stands), so a backlog never grows under load.
    refine_queue: int = Field(default=4, ge=1)
    # A draining session waits this long for its last revisions, then skips the rest: under
    # load the background work may get no CPU at all, and a session's end must not hang on it.
    refine_drain_s: float = Field(default=15.0, ge=0)
    # One scheduler per llama.cpp model puts every session's pending step into one decode
    # (rtt/mt/llama_batch.py); false: one request at a time behind the engine lock.
    batching: bool = False
    # After an idle spell, how long the first step waits for other sessions' steps to join.
    batch_window_ms: float = Field(default=10.0, ge=0, le=100)
    # KV sequences per model (concurrent steps in one decode) and tokens each may hold.
    batch_slots: int = Field(default=16, ge=1, le=256)
    batch_slot_ctx: int = Field(default=1024, ge=256)
    # Tokens one decode evaluates at most: running requests' next tokens first, then new
    # prompts in chunks, so a running translation's next word never waits behind every new
    # prompt (prefill is ~2 ms a token for Gemma 270M on 2 cores, a decode row ~5 ms).
    batch_step_tokens: int = Field(default=512, ge=1, le=512)
    # Listener languages one session may ask for (``target_langs``): each is a live MT stream
    # (and refinement, TTS) on the same cores; at most rtt.pipeline.options.MAX_TARGETS.
    max_targets: int = Field(default=3, ge=1, le=8)

    @field_validator("tiers")
    @classmethod
    def _names_exist(cls, v: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
        if not v:
            raise ValueError("at least one tier is needed")
        return v

    @model_validator(mode="after")
    def _tiers_named_exist(self) -> MtConfig:
        for key in ("default_tier", "final_tier", "refine_tier"):
            name = getattr(self, key)
            if name is not None and name not in self.tiers:
                raise ValueError(f"mt.{key} {name!r} is not a configured tier ({', '.join(self.tiers)})")
        return self


class PolicyConfig(_Strict):
    name: str = "wait-k"
    stabilization: Literal["fast", "balanced", "aggressive"] = "balanced"


class TextConfig(_Strict):
    max_chars: int = 5000
    max_batch: int = 64
    formality: Literal["default", "formal", "informal"] = "default"
    punctuation: bool = True
    mask_profanity: bool = False
    mask_pii: bool = False


class VadConfig(_Strict):
    backend: Literal["silero", "webrtc", "energy"] = "silero"
    model: str = "silero-vad"
    threshold: float = 0.5
    min_silence_ms: int = 500  # silence that closes an utterance (endpointing)
    speech_pad_ms: int = 100
    max_utterance_s: float = 15.0
    silence_timeout_s: float = 60.0
    webrtc_aggressiveness: int = 2


class AsrConfig(_Strict):
    backend: Literal["faster-whisper"] = "faster-whisper"
    model: str = "whisper-base-ct2"
    compute_type: str = "int8"
    threads: int | None = None
    beam_size_partial: int = 1
    beam_size_final: int = 1
    # The refinement pass decodes each final's audio again (beam search, context, no forced
    # prefix) and re-translates what it hears (`revised_asr`, rtt/asr/redecode.py); it runs
    # only where the MT refinement pass does (mt.refine_tier, features.refinement).
    refine_transcripts: bool = True
    beam_size_refine: int = Field(default=5, ge=1, le=10)
    partial_interval_ms: int = 500
    max_window_s: float = 15.0
    agreement_n: int = 2
    # While a pause is decoded as a possible endpoint, start no new non-final MT step (the two
    # would share the cores; rtt/pipeline/mt_stage.py).
    mt_yields_to_prefinal: bool = True
    # ... and while the final itself is decoded (when the pre-final hypothesis cannot be reused).
    mt_yields_to_final: bool = True
    # Silence after which the pending audio is decoded as a possible endpoint (the "pre-final").
    prefinal_silence_ms: int = Field(default=200, ge=1)
    # A partial that falls due in a pause shorter than that waits to see whether it lasts: begun
    # then, it could not serve as the final but would keep Whisper busy past the endpoint.
    partials_wait_in_pauses: bool = True
    # What a partial may commit (rtt/asr/guards.py: script, loops, language of the first commit,
    # confidence) and whether a final may drop committed words for a clean decode without them.
    commit_guards: bool = True


class TtsConfig(_Strict):
    enabled: bool = True
    chunk_ms: int = 80
    piper_model: str = "piper-en-us-joe-medium"
    # target language -> "piper" | "espeak"
    voices: dict[str, str] = Field(default_factory=lambda: {"en": "piper"})


LoadStep = Literal["refinement", "tentative", "tier", "partials"]
LOAD_STEPS: tuple[LoadStep, ...] = ("refinement", "tentative", "tier", "partials")


class DiarizationConfig(_Strict):
    """Speaker labels for sessions that ask for them (``features.diarization``)."""

    encoder: str = "resemblyzer-encoder"
    segmentation: str = "pyannote-segmentation-3.0"
    # Speakers one session tells apart; a voice beyond them joins the closest one.
    max_speakers: int = Field(default=4, ge=1, le=16)
    # Cosine similarity to a speaker's mean voice that still counts as that speaker.  FLEURS
    # clips: two halves of one speaker's clip >= 0.80 for 90 %, two speakers <= 0.73 for 90 %.
    threshold: float = Field(default=0.68, gt=0, lt=1)
    # End an utterance where the segmentation model hears another voice take over (a turn
    # without a pause long enough for the VAD).
    split_on_change: bool = True


class LoadConfig(_Strict):
    """The latency budget and what gives way when it is at risk (rtt/pipeline/load.py)."""

    enabled: bool = True
    # The budget: p95 of final latency (text input -> final, speech endpoint -> final) over the
    # last `window_s`, across the process's sessions.
    final_p95_ms: float = Field(default=1500.0, gt=0)
    window_s: float = Field(default=10.0, gt=0)
    min_samples: int = Field(default=8, ge=1)
    # What gives way, in this order, one step each time the budget is still missed `step_s` after
    # the last change: refinement (skipped, reason "load"), tentative (partials show committed
    # words only, and steps that would decode only tentative words are not run), tier (a
    # session's next utterance moves to the next cheaper tier of `tier_order` that has another
    # engine for its direction), partials (live translation only when a sentence ends: one
    # step a sentence instead of one per word or two).
    steps: list[LoadStep] = Field(default_factory=lambda: list(LOAD_STEPS))
    step_s: float = Field(default=1.0, ge=0)
    # A step is taken back when p95 is under `recover_ratio` x the budget (or no finals were
    # seen in the window) for `recover_s`.
    recover_ratio: float = Field(default=0.5, gt=0, lt=1)
    recover_s: float = Field(default=5.0, ge=0)
    # Most expensive first; a tier not listed is never stepped down from.
    tier_order: list[str] = Field(default_factory=lambda: ["accurate", "standard", "fast", "rule"])


class RttConfig(_Strict):
    version: int = CONFIG_VERSION
    name: str = "default"
    mt: MtConfig
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    text: TextConfig = Field(default_factory=TextConfig)
    vad: VadConfig = Field(default_factory=VadConfig)
    asr: AsrConfig = Field(default_factory=AsrConfig)
    tts: TtsConfig = Field(default_factory=TtsConfig)
    load: LoadConfig = Field(default_factory=LoadConfig)
    diarization: DiarizationConfig = Field(default_factory=DiarizationConfig)
    # Free-form section for the service (serve/ validates it with its own model).
    serve: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        return require_version("config", v, CONFIG_VERSION)


DEFAULT_CONFIG_PATH = Path(__file__).parent / "data" / "default.yaml"


def load_config(path: str | Path | None = None) -> RttConfig:
    """Load a config file; one that says ``extends: FILE`` is an overlay on FILE.

    ``FILE`` is ``default`` (the packaged default) or a path relative to the overlay.  Mappings
    merge key by key (so an overlay can change one engine setting or add an engine); any other
    value, lists included, replaces the base's.  An A/B arm is then the few lines it changes.
    """
    src = Path(path) if path else DEFAULT_CONFIG_PATH
    return parse_config(read_config_mapping(src), str(src))


def read_config_mapping(src: Path) -> Any:
    """The raw mapping of a config file with its ``extends`` chain resolved (not validated)."""
    return _read_layered(src, ())


def _read_yaml(src: Path) -> Any:
    try:
        return yaml.safe_load(src.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {src} does not exist", path=str(src)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {src} is not valid YAML: {exc}", path=str(src)) from exc


def _read_layered(src: Path, chain: tuple[Path, ...]) -> Any:
    if src.resolve() in chain:
        raise ConfigError(f"config {src} extends itself (through {' -> '.join(map(str, chain))})", path=str(src))
    raw = _read_yaml(src)
    if not isinstance(raw, dict) or "extends" not in raw:
        return raw
    overlay = dict(raw)
    base_ref = overlay.pop("extends")
    if not isinstance(base_ref, str) or not base_ref:
        raise ConfigError(f"config {src}: extends must name a file or 'default'", path=str(src))
    base_path = DEFAULT_CONFIG_PATH if base_ref == "default" else src.parent / base_ref
    base = _read_layered(base_path, (*chain, src.resolve()))
    if not isinstance(base, dict):
        raise ConfigError(f"config {base_path} (extended by {src}) must be a mapping", path=str(base_path))
    return deep_merge(base, overlay)


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` on top of ``base``: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_config(raw: Any, origin: str = "<dict>") -> RttConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"config {origin} must be a mapping", path=origin)
    try:
        return RttConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"config {origin}: {where}: {first['msg']}", path=origin) from exc
