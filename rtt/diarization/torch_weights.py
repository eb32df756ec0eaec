"""Read a PyTorch checkpoint's tensors as numpy arrays without PyTorch.

Resemblyzer's ``pretrained.pt`` is in torch's legacy (pre-1.6, non-zip) format: four pickles
(magic number, protocol version, system info, the object with tensors as persistent ids),
then the list of storage keys, then each storage as an int64 element count and its raw
bytes.  The unpickler here only builds dicts, numbers and tensors: any other class named in
the file is refused, so a checkpoint cannot run code (``torch.load`` without
``weights_only`` would).
"""

from __future__ import annotations

import collections
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from rtt.errors import RttError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
           "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
           "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


@dataclass
class _Storage:
    dtype: type
    data: np.ndarray | None = None


@dataclass
class _Tensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        base = self.storage.data[self.offset:]
        item = base.itemsize
        return np.lib.stride_tricks.as_strided(base, self.size, tuple(s * item for s in self.stride)).copy()


@dataclass(frozen=True)
class _StorageType:
    dtype: type


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...],
                    *_: Any) -> _Tensor:
    return _Tensor(storage, offset, tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(fh)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return _StorageType(_DTYPES[name])
        raise pickle.UnpicklingError(f"checkpoint names {module}.{name}, which is not a tensor or a container")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.60}")
        storage_type, key = pid[1], str(pid[2])
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError("storage of an unknown type")
        return self.storages.setdefault(key, _Storage(storage_type.dtype))


def _materialize(obj: Any) -> Any:
    if isinstance(obj, _Tensor):
        return obj.array()
    if isinstance(obj, dict):
        return {k: _materialize(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_materialize(v) for v in obj)
    return obj


def load_legacy_checkpoint(path: Path | str) -> Any:
    """The checkpoint's object with every tensor as a numpy array."""
    storages: dict[str, _Storage] = {}
    with Path(path).open("rb") as fh:
        try:
            def load() -> Any:
                return _Unpickler(fh, storages).load()

            if load() != LEGACY_MAGIC:
                raise RttError(f"{path} is not a legacy PyTorch checkpoint", "INVALID_CONFIG")
            load()  # protocol version
            load()  # system info
            obj = load()
            keys = load()
            for key in keys:
                storage = storages[str(key)]
                (count,) = struct.unpack("<q", fh.read(8))
                raw = fh.read(count * np.dtype(storage.dtype).itemsize)
                storage.data = np.frombuffer(raw, dtype=storage.dtype)
        except (pickle.UnpicklingError, EOFError, struct.error, KeyError, ValueError) as exc:
            raise RttError(f"cannot read checkpoint {path}: {exc}", "INVALID_CONFIG") from None
    return _materialize(obj)
