"""Search stage: checkpoints: the run state as data only (no pickle), checksummed, versioned, written atomically.

File layout: the line `AZLANG-CHECKPOINT`, one JSON header line {"format", "length", "sha256"}, then
`length` bytes of datacodec payload whose SHA-256 is `sha256`. Objects travel as `Record`s naming one of
the registered classes below; loading builds those by setting their fields, never by running code named
in the file. A checkpoint holds the experiment Rng, every island's population, FEC cache, hurdle and
counters, the best candidate so far and the finished experiments: resuming continues exactly as the
uninterrupted run would have (single island).

Other modules may add state: a dataclass (or __slots__ class) registered with `register` travels as a
Record; fields missing from an older checkpoint take their dataclass defaults.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from azlang.errors import AzError
from azlang.ir.bytecode import Bytecode
from azlang.rng import Rng
from azlang.search import datacodec
from azlang.search.datacodec import Record
from azlang.search.engine import Counters
from azlang.search.evolution import IslandState
from azlang.search.fec import FecCache
from azlang.search.generate import freeze
from azlang.search.hurdles import Hurdle
from azlang.search.results import ExperimentRecord, RunState
from azlang.search.watch import Watch
from azlang.tasks.spec import TaskSpec

FORMAT = 2  # 1 was a pickle (never loaded: a pickle can run arbitrary code)
MAGIC = b"AZLANG-CHECKPOINT\n"
_HEADER_MAX = 4096
_TYPES: dict[str, type] = {}
_HINT = "the run directory's checkpoint is damaged or not azlang's; start the run again (or restore the file)"


def register(cls: type, name: str | None = None) -> type:
    """Let instances of `cls` (a dataclass or a class with __slots__) travel in checkpoints."""
    _TYPES[name or cls.__name__] = cls
    return cls


for _cls in (RunState, ExperimentRecord, IslandState, Counters, Hurdle, Rng, TaskSpec, Bytecode, Watch):
    register(_cls)


# --- objects <-> data ---------------------------------------------------------------------------------------


def to_data(x):
    """Plain data (datacodec values and Records) for a run state."""
    if x is None or isinstance(x, bool | int | float | str | bytes | np.ndarray | np.generic):
        return x
    if isinstance(x, FecCache):  # the native loop's cache too: exported to arrays
        keys, fits, uses = x.export()
        names = ("capacity", "forget_every", "hits", "misses")
        return Record("FecCache", {**{k: int(getattr(x, k)) for k in names}, "keys": keys, "fits": fits, "uses": uses})
    if hasattr(x, "packed") and len(x) > 1:  # the native loop's population: its arrays, not P programs
        return _programs_record(*x.packed())
    if isinstance(x, list) or isinstance(x, Sequence) and not isinstance(x, tuple):
        items = list(x)
        if len(items) > 1 and all(isinstance(v, Bytecode) for v in items):
            return _programs(items)
        return [to_data(v) for v in items]
    if isinstance(x, tuple):
        return tuple(to_data(v) for v in x)
    if isinstance(x, dict):
        return {to_data(k): to_data(v) for k, v in x.items()}
    name = type(x).__name__
    if _TYPES.get(name) is not type(x):
        raise TypeError(f"{name} is not registered for checkpoints (checkpoint.register)")
    return Record(name, {k: to_data(getattr(x, k)) for k in _field_names(type(x))})


def _programs(bcs: list[Bytecode]) -> Record:
    """A population as three arrays (sizes, every code row, every data row) rather than a record and two arrays
    per program: a checkpoint of the demo's 1000 programs encodes and decodes several times faster."""
    return _programs_record(np.array([bc.sizes for bc in bcs], dtype=np.int64),
                            np.concatenate([bc.code for bc in bcs]).astype(np.int32, copy=False),
                            np.concatenate([bc.data for bc in bcs]).astype(np.float64, copy=False))


def _programs_record(sizes: np.ndarray, code: np.ndarray, data: np.ndarray) -> Record:
    """Programs as (sizes, every code row, every data row), each program's rows one after another."""
    return Record("Programs", {"sizes": sizes, "code": code, "data": data})


def _unpack_programs(fields: dict) -> list[Bytecode]:
    return programs_of(*(fields[k] for k in ("sizes", "code", "data")))


def programs_of(sizes, code, data) -> list[Bytecode]:
    """The programs of (sizes, every code row, every data row) packed one after another (a checkpoint's
    population, or one that travelled from a worker process)."""
    sizes, code, data = np.asarray(sizes), np.asarray(code), np.asarray(data)
    rows = sizes.sum(axis=1) if sizes.size else np.zeros(0, dtype=np.int64)
    if sizes.ndim != 2 or sizes.shape[1] != 3 or (sizes < 0).any() or code.shape != (int(rows.sum()), 4) \
            or data.shape != (len(code), 3):
        raise ValueError("inconsistent packed programs")
    ends = np.cumsum(rows).tolist()
    starts = [0] + ends[:-1]
    return [freeze(Bytecode(code[a:b].copy(), data[a:b].copy(), tuple(sz))) for a, b, sz in zip(starts, ends, sizes.tolist())]


def _field_names(cls: type) -> list[str]:
    if dataclasses.is_dataclass(cls):
        return [f.name for f in dataclasses.fields(cls)]
    return [s for c in cls.__mro__ for s in getattr(c, "__slots__", ())]


def from_data(x):
    """The objects back from `to_data`'s output; unknown record names are an error."""
    if isinstance(x, Record):
        return _build(x.name, {k: from_data(v) for k, v in x.fields.items()})
    if isinstance(x, list | tuple):
        return type(x)(from_data(v) for v in x)
    if isinstance(x, dict):
        return {k: from_data(v) for k, v in x.items()}
    return x


def _build(name: str, fields: dict):
    if name == "Programs":
        return _unpack_programs(fields)
    if name == "FecCache":
        return FecCache.from_arrays(
            fields["capacity"], fields["forget_every"], fields["keys"], fields["fits"], fields["uses"],
            fields["hits"], fields["misses"],
        )
    cls = _TYPES.get(name)
    if cls is None:
        raise ValueError(f"unknown record type {name!r}")
    obj = object.__new__(cls)  # no __init__: the fields are the whole object
    defaults = _defaults(cls)
    for key in _field_names(cls):
        if key in fields:
            value = fields[key]
        elif key in defaults:
            value = defaults[key]()
        else:
            raise ValueError(f"{name} lacks field {key!r}")
        object.__setattr__(obj, key, value)
    if isinstance(obj, Bytecode):
        object.__setattr__(obj, "sizes", tuple(obj.sizes))
        freeze(obj)
    return obj


def _defaults(cls: type) -> dict:
    if not dataclasses.is_dataclass(cls):
        return {}
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = lambda v=f.default: v
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory
    return out


# --- files ----------------------------------------------------------------------------------------------------


def encode_state(state) -> bytes:
    """The checkpoint payload of a run state (no header: the caller keeps it inside a checksummed file)."""
    return datacodec.encode(to_data(state))


def dumps(state) -> bytes:
    return b"".join(_pieces(state))


def _pieces(state) -> list[bytes]:
    """The checkpoint file's bytes as pieces (magic and header line, then the payload's datacodec pieces): hashed
    and written one by one, the payload (several MB: the stop point's populations and FEC cache) is not copied
    into a joined payload and then into the file's bytes."""
    payload = datacodec.encode_parts(to_data(state))
    digest, length = hashlib.sha256(), 0
    for piece in payload:
        digest.update(piece)
        length += len(piece)
    header = {"format": FORMAT, "length": length, "sha256": digest.hexdigest()}
    return [MAGIC + json.dumps(header).encode() + b"\n", *payload]


def save(path: str | Path, state) -> float:
    """Write atomically (a temporary file beside it, flushed, then renamed over); returns the bytes' size."""
    path = Path(path)
    pieces = _pieces(state)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.writelines(pieces)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise AzError(f"cannot write checkpoint {path}: {e.strerror}", hint="is the run directory writable?") from None
    return sum(len(p) for p in pieces)


def loads(data: bytes, where: str = "checkpoint") -> RunState:
    """The run state in `data`, or an AzError saying what is wrong with it."""
    if data[:1] == b"\x80":
        raise AzError(f"{where} is an old pickle checkpoint, which azlang no longer loads (loading one can run code)",
                      hint="start the run again with this version")
    if not data.startswith(MAGIC):
        raise AzError(f"{where} is not an azlang checkpoint", hint=_HINT)
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + _HEADER_MAX)
    try:
        header = json.loads(data[len(MAGIC) : end]) if end > 0 else None
    except ValueError:
        header = None
    canonical = isinstance(header, dict) and json.dumps(header).encode() == data[len(MAGIC) : end]
    if not canonical or not {"format", "length", "sha256"} <= header.keys():  # any changed header byte counts
        raise AzError(f"{where}: damaged checkpoint header", hint=_HINT)
    if header["format"] != FORMAT:
        raise AzError(f"{where} has format {header['format']!r}; this version reads format {FORMAT}",
                      hint="resume it with the azlang version that wrote it")
    payload = data[end + 1 :]
    if header["length"] != len(payload):
        raise AzError(f"{where} is truncated or padded: {len(payload)} bytes of payload, header says "
                      f"{header['length']}", hint=_HINT)
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise AzError(f"{where} is damaged: its checksum does not match", hint=_HINT)
    return decode_state(payload, where)


def decode_state(payload: bytes, where: str = "checkpoint") -> RunState:
    """The run state from `encode_state`'s bytes, or an AzError."""
    try:
        state = from_data(datacodec.decode(payload))
    except (datacodec.DecodeError, ValueError, TypeError, KeyError) as e:
        raise AzError(f"{where}: malformed checkpoint data: {e}", hint=_HINT) from None
    if not isinstance(state, RunState) or not isinstance(state.rng, Rng):
        raise AzError(f"{where} does not hold a run state", hint=_HINT)
    return state


def load(path: str | Path) -> RunState:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AzError(f"no checkpoint at {path}", hint="is this a run directory written by `azc evolve`?") from None
    except OSError as e:
        raise AzError(f"cannot read checkpoint {path}: {e.strerror}") from None
    return loads(data, str(path))
