"""Read and write GGUF files (llama.cpp's model format): metadata, tensor table and raw data.

Only what the model store needs to derive one packaged model from another (e.g. a smaller
vocabulary, :mod:`rtt.models.vocab_prune`): values keep their GGUF types so an untouched file
writes back byte for byte, and tensor data stays opaque bytes (rows can be selected without
decoding a quantization format, since every row of a GGUF tensor is whole blocks).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types.
T_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32, T_FLOAT32, T_BOOL = range(8)
T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64 = 8, 9, 10, 11, 12
_SCALAR = {T_UINT8: "B", T_INT8: "b", T_UINT16: "H", T_INT16: "h", T_UINT32: "I", T_INT32: "i",
           T_FLOAT32: "f", T_BOOL: "?", T_UINT64: "Q", T_INT64: "q", T_FLOAT64: "d"}

# ggml tensor type -> (elements per block, bytes per block), for the types GGUF models use.
BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 30: (1, 2),  # F32, F16, BF16
    2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),  # Q4_0 Q4_1 Q5_0 Q5_1 Q8_0
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),  # Q2_K..Q6_K
}


class GgufError(ValueError):
    pass


@dataclass
class Value:
    type: int
    value: Any
    item_type: int | None = None  # element type of an array


@dataclass
class Tensor:
    name: str
    dims: tuple[int, ...]  # ggml order: dims[0] is the row length
    type: int
    data: bytes

    @property
    def row_bytes(self) -> int:
        if self.type not in BLOCKS:
            raise GgufError(f"tensor {self.name}: unsupported ggml type {self.type}")
        per_block, nbytes = BLOCKS[self.type]
        return self.dims[0] // per_block * nbytes

    def select_rows(self, rows: list[int]) -> Tensor:
        """The tensor with only ``rows`` of its last dimension (e.g. the vocabulary), in that order."""
        if len(self.dims) != 2:
            raise GgufError(f"tensor {self.name} is not a matrix")
        size = self.row_bytes
        data = b"".join(self.data[r * size:(r + 1) * size] for r in rows)
        return Tensor(self.name, (self.dims[0], len(rows)), self.type, data)


@dataclass
class GgufFile:
    version: int
    metadata: dict[str, Value] = field(default_factory=dict)
    tensors: list[Tensor] = field(default_factory=list)

    @property
    def alignment(self) -> int:
        v = self.metadata.get("general.alignment")
        return int(v.value) if v is not None else DEFAULT_ALIGNMENT

    def tensor(self, name: str) -> Tensor | None:
        return next((t for t in self.tensors if t.name == name), None)


class _Reader:
    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> Any:
        fmt = "<" + fmt
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        n = self.unpack("Q")
        raw = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="surrogateescape")

    def value(self, vtype: int) -> Value:
        if vtype in _SCALAR:
            return Value(vtype, self.unpack(_SCALAR[vtype]))
        if vtype == T_STRING:
            return Value(vtype, self.string())
        if vtype == T_ARRAY:
            item_type = self.unpack("I")
            n = self.unpack("Q")
            if item_type in _SCALAR:
                fmt = "<" + _SCALAR[item_type] * n
                items = list(struct.unpack_from(fmt, self.data, self.pos))
                self.pos += struct.calcsize(fmt)
            else:
                items = [self.value(item_type).value for _ in range(n)]
            return Value(vtype, items, item_type)
        raise GgufError(f"unknown GGUF value type {vtype}")


def read_gguf(path: str | Path) -> GgufFile:
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != MAGIC:
        raise GgufError(f"{path} is not a GGUF file")
    r = _Reader(data)
    r.pos = 4
    version = r.unpack("I")
    n_tensors = r.unpack("Q")
    n_kv = r.unpack("Q")
    out = GgufFile(version)
    for _ in range(n_kv):
        key = r.string()
        out.metadata[key] = r.value(r.unpack("I"))
    table = []
    for _ in range(n_tensors):
        name = r.string()
        dims = tuple(r.unpack("Q") for _ in range(r.unpack("I")))
        table.append((name, dims, r.unpack("I"), r.unpack("Q")))
    align = out.alignment
    start = (r.pos + align - 1) // align * align
    for name, dims, ttype, offset in table:
        probe = Tensor(name, dims, ttype, b"")
        n_rows = 1
        for d in dims[1:]:
            n_rows *= d
        nbytes = probe.row_bytes * n_rows
        out.tensors.append(Tensor(name, dims, ttype, bytes(data[start + offset:start + offset + nbytes])))
    return out


def _pack_value(v: Value) -> bytes:
    if v.type in _SCALAR:
        return struct.pack("<" + _SCALAR[v.type], v.value)
    if v.type == T_STRING:
        raw = str(v.value).encode("utf-8", errors="surrogateescape")
        return struct.pack("<Q", len(raw)) + raw
    if v.type == T_ARRAY:
        assert v.item_type is not None
        head = struct.pack("<IQ", v.item_type, len(v.value))
        if v.item_type in _SCALAR:
            return head + struct.pack("<" + _SCALAR[v.item_type] * len(v.value), *v.value)
        return head + b"".join(_pack_value(Value(v.item_type, item)) for item in v.value)
    raise GgufError(f"unknown GGUF value type {v.type}")


def write_gguf(gguf: GgufFile, path: str | Path) -> None:
    align = gguf.alignment
    parts = [MAGIC, struct.pack("<IQQ", gguf.version, len(gguf.tensors), len(gguf.metadata))]
    for key, value in gguf.metadata.items():
        parts += [_pack_value(Value(T_STRING, key)), struct.pack("<I", value.type), _pack_value(value)]
    offset = 0
    for t in gguf.tensors:
        parts += [_pack_value(Value(T_STRING, t.name)), struct.pack("<I", len(t.dims)),
                  struct.pack("<" + "Q" * len(t.dims), *t.dims), struct.pack("<IQ", t.type, offset)]
        offset += (len(t.data) + align - 1) // align * align
    header = b"".join(parts)
    with open(path, "wb") as f:
        f.write(header)
        f.write(b"\0" * ((-len(header)) % align))
        for t in gguf.tensors:
            f.write(t.data)
            f.write(b"\0" * ((-len(t.data)) % align))
