"""Checkpoints written as pieces (datacodec.encode_parts, checkpoint.save) are byte for byte the format's one string:
the pieces join to what an independent whole-string encoder of the layout gives, and the file holds exactly that."""

import hashlib
import json
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azlang.search import checkpoint, datacodec
from azlang.search.config import override
from azlang.search.datacodec import Record
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config


def reference(x) -> bytes:
    """The layout (datacodec's docstring) as one string, built by concatenation: the encoder before pieces."""
    q = lambda n: struct.pack("<Q", n)
    if x is None:
        return b"N"
    if x is True or x is False:
        return b"T" if x else b"F"
    if isinstance(x, int | np.integer):
        x = int(x)
        if -(2**63) <= x < 2**63:
            return b"i" + struct.pack("<q", x)
        raw = x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
        return b"I" + q(len(raw)) + raw
    if isinstance(x, float | np.floating):
        return b"f" + struct.pack("<d", float(x))
    if isinstance(x, str):
        raw = x.encode("utf-8", "surrogatepass")
        return b"s" + q(len(raw)) + raw
    if isinstance(x, bytes | bytearray):
        return b"b" + q(len(x)) + bytes(x)
    if isinstance(x, np.ndarray):
        dtype = x.dtype.newbyteorder("<") if x.dtype.byteorder == ">" else x.dtype
        raw = np.ascontiguousarray(x, dtype=dtype).tobytes()
        name = dtype.str.encode()
        return b"a" + bytes([len(name)]) + name + bytes([x.ndim]) + b"".join(q(n) for n in x.shape) + q(len(raw)) + raw
    if isinstance(x, list | tuple):
        return (b"l" if isinstance(x, list) else b"t") + q(len(x)) + b"".join(reference(v) for v in x)
    if isinstance(x, Record):
        return b"o" + reference(x.name) + reference(x.fields)
    assert isinstance(x, dict)
    return b"d" + q(len(x)) + b"".join(reference(k) + reference(v) for k, v in x.items())


arrays = st.builds(
    lambda vals, dt, flip: (np.array(vals, dtype=dt)[::-1] if flip else np.array(vals, dtype=dt)),
    st.lists(st.integers(0, 100), max_size=6),
    st.sampled_from(["int32", ">i4", "uint64", "float64", ">f8", "bool", "int8"]),
    st.booleans(),
)
leaves = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8)
          | st.binary(max_size=300) | st.binary(max_size=40).map(bytearray) | arrays)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=4)
    | st.builds(Record, st.text(max_size=6), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=25,
)


@given(values)
@settings(max_examples=300, deadline=None)
def test_pieces_join_to_the_reference_encoding(value):
    parts = datacodec.encode_parts(value)
    assert all(isinstance(p, bytes) for p in parts)  # no view of a live array or bytearray escapes
    assert b"".join(parts) == datacodec.encode(value) == reference(value)


def test_large_values_are_pieces_of_their_own():
    blob, arr = bytes(range(256)) * 4096, np.arange(100_000, dtype=np.uint64)
    parts = datacodec.encode_parts({"stop_point": blob, "keys": arr})
    assert any(p is blob for p in parts)  # the stop point's bytes are written as they are, not copied
    assert b"".join(parts) == reference({"stop_point": blob, "keys": arr})


@pytest.fixture(scope="module")
def finished_state():
    """A finished native run's state: a stop point (the last search's state, as payload bytes), records, best."""
    cfg = override(demo_config(), {
        "evolution.population": 20, "evolution.tournament": 4, "stop.max_individuals": 100,
        "stop.max_experiments": 1, "tasks.search": ("linear:F4:D3:N30:V20",),
        "tasks.select": ("linear:F4:D3:N50:V20",), "run.random_seed": 5, "run.progress_every": 50,
    })
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        run_experiment(cfg, Path(d) / "run")
        return checkpoint.load(Path(d) / "run" / "checkpoint.ckpt")


def test_saved_file_is_the_reference_bytes(finished_state, tmp_path):
    st_ = finished_state
    assert isinstance(st_.stop_point, bytes) and len(st_.stop_point) > 1000 and st_.done
    payload = reference(checkpoint.to_data(st_))
    header = {"format": checkpoint.FORMAT, "length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    expect = checkpoint.MAGIC + json.dumps(header).encode() + b"\n" + payload
    assert checkpoint.encode_state(st_) == payload
    assert checkpoint.dumps(st_) == expect
    size = checkpoint.save(tmp_path / "c.ckpt", st_)
    assert (tmp_path / "c.ckpt").read_bytes() == expect and size == len(expect)
    assert [p.name for p in tmp_path.iterdir()] == ["c.ckpt"]  # the temporary file was renamed over
    assert checkpoint.dumps(checkpoint.load(tmp_path / "c.ckpt")) == expect
