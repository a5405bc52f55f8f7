"""Search stage: a data-only binary encoding of nested plain values (what checkpoints are made of).

Encodes None, bool, int (any size), float, str, bytes, list, tuple, dict (any encodable keys), NumPy
arrays of bool/int/uint/float dtypes and `Record`s (a type name and a dict of fields: the caller decides
what, if anything, the name maps to). Decoding builds only those values: no code is named or run by the
data, unlike pickle. Every length is checked against the bytes left, nesting is bounded, and any
malformation raises `DecodeError` (never IndexError, MemoryError or a hang).

Layout: one tag byte per value, then its body. Counts and lengths are unsigned 64-bit little-endian.
"""

from __future__ import annotations

import struct

import numpy as np

MAX_DEPTH = 200
_DTYPES = ("|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f4", "<f8")
_U64, _I64, _F64 = struct.Struct("<Q"), struct.Struct("<q"), struct.Struct("<d")


class DecodeError(ValueError):
    """The bytes are not a well-formed encoding."""


class Record:
    """A named bundle of fields: how objects travel as data (see checkpoint.py for the names it knows)."""

    __slots__ = ("fields", "name")

    def __init__(self, name: str, fields: dict):
        self.name, self.fields = name, fields

    def __eq__(self, other) -> bool:
        return isinstance(other, Record) and (self.name, self.fields) == (other.name, other.fields)

    def __repr__(self) -> str:
        return f"Record({self.name!r}, {self.fields!r})"


def encode(value) -> bytes:
    return b"".join(encode_parts(value))


def encode_parts(value) -> list[bytes]:
    """`encode(value)` as the pieces it joins, in order: a writer can hash and write them one by one, without a
    joined copy of the whole (a large bytes value or array is a piece of its own, not copied once more)."""
    out: list[bytes] = []
    _encode(value, out, 0)
    return out


def _encode(x, out: list[bytes], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"data nested deeper than {MAX_DEPTH} levels")
    if x is None:
        out.append(b"N")
    elif x is True or x is False:
        out.append(b"T" if x else b"F")
    elif isinstance(x, int | np.integer):
        x = int(x)
        if -(2**63) <= x < 2**63:
            out.append(b"i" + _I64.pack(x))
        else:  # RNG states and 64-bit keys need the full unsigned range and more
            raw = x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
            out.append(b"I" + _U64.pack(len(raw)) + raw)
    elif isinstance(x, float | np.floating):
        out.append(b"f" + _F64.pack(float(x)))
    elif isinstance(x, str):
        raw = x.encode("utf-8", "surrogatepass")
        out.append(b"s" + _U64.pack(len(raw)) + raw)
    elif isinstance(x, bytes | bytearray):
        out.append(b"b" + _U64.pack(len(x)))
        out.append(bytes(x))  # a bytes value itself (no copy), a bytearray's copy
    elif isinstance(x, np.ndarray):
        _encode_array(x, out)
    elif isinstance(x, list | tuple):
        out.append((b"l" if isinstance(x, list) else b"t") + _U64.pack(len(x)))
        for item in x:
            _encode(item, out, depth + 1)
    elif isinstance(x, Record):
        out.append(b"o")
        _encode(x.name, out, depth + 1)
        _encode(x.fields, out, depth + 1)
    elif isinstance(x, dict):
        out.append(b"d" + _U64.pack(len(x)))
        for k, v in x.items():
            _encode(k, out, depth + 1)
            _encode(v, out, depth + 1)
    else:
        raise TypeError(f"cannot encode a {type(x).__name__} as data")


def _encode_array(a: np.ndarray, out: list[bytes]) -> None:
    dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
    if dtype.str not in _DTYPES:
        raise TypeError(f"cannot encode an array of dtype {a.dtype} as data")
    raw = np.ascontiguousarray(a, dtype=dtype).tobytes()
    name = dtype.str.encode()
    out.append(b"a" + bytes([len(name)]) + name + bytes([a.ndim]))
    out.extend(_U64.pack(n) for n in a.shape)
    out.append(_U64.pack(len(raw)))
    out.append(raw)


def decode(data: bytes):
    """The value encoded in `data`; DecodeError if it is malformed or has trailing bytes."""
    reader = _Reader(memoryview(data))
    value = reader.value(0)
    if reader.pos != len(data):
        raise DecodeError(f"{len(data) - reader.pos} stray bytes after the data")
    return value


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, n: int) -> memoryview:
        if n < 0 or n > len(self.data) - self.pos:
            raise DecodeError(f"truncated: {n} bytes wanted at offset {self.pos}, {len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def count(self) -> int:
        n = _U64.unpack(self.take(8))[0]
        if n > len(self.data) - self.pos:  # every item takes at least one byte
            raise DecodeError(f"count {n} at offset {self.pos - 8} exceeds the data")
        return n

    def value(self, depth: int):
        if depth > MAX_DEPTH:
            raise DecodeError(f"nested deeper than {MAX_DEPTH} levels")
        tag = bytes(self.take(1))
        if tag == b"N":
            return None
        if tag in (b"T", b"F"):
            return tag == b"T"
        if tag == b"i":
            return _I64.unpack(self.take(8))[0]
        if tag == b"I":
            return int.from_bytes(self.take(self.count()), "little", signed=True)
        if tag == b"f":
            return _F64.unpack(self.take(8))[0]
        if tag == b"s":
            try:
                return str(self.take(self.count()), "utf-8", "surrogatepass")
            except UnicodeDecodeError as e:
                raise DecodeError(f"bad text: {e}") from None
        if tag == b"b":
            return bytes(self.take(self.count()))
        if tag in (b"l", b"t"):
            items = [self.value(depth + 1) for _ in range(self.count())]
            return items if tag == b"l" else tuple(items)
        if tag == b"d":
            return self._dict(depth)
        if tag == b"a":
            return self._array()
        if tag == b"o":
            name, fields = self.value(depth + 1), self.value(depth + 1)
            if not isinstance(name, str) or not isinstance(fields, dict):
                raise DecodeError("a record needs a name and a dict of fields")
            return Record(name, fields)
        raise DecodeError(f"unknown tag {tag!r} at offset {self.pos - 1}")

    def _dict(self, depth: int) -> dict:
        out = {}
        for _ in range(self.count()):
            key = self.value(depth + 1)
            try:
                out[key] = self.value(depth + 1)
            except TypeError:
                raise DecodeError(f"unhashable dictionary key of type {type(key).__name__}") from None
        return out

    def _array(self) -> np.ndarray:
        name = str(self.take(self.take(1)[0]), "ascii", "replace")
        if name not in _DTYPES:
            raise DecodeError(f"array dtype {name!r} is not allowed")
        shape = tuple(_U64.unpack(self.take(8))[0] for _ in range(self.take(1)[0]))
        dtype = np.dtype(name)
        raw = self.take(self.count())
        if len(raw) != dtype.itemsize * int(np.prod(shape, dtype=object)):
            raise DecodeError(f"array of shape {shape} and dtype {name} does not match its {len(raw)} bytes")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
