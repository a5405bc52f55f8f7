"""Checkpoints are data only (no code runs on load), checksummed and versioned: every corruption, truncation,
foreign or crafted file is a clear AzError; a good one round-trips to the same bytes."""

import hashlib
import json
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from azlang.errors import AzError
from azlang.search import checkpoint, datacodec
from azlang.search.config import override
from azlang.search.experiment import run_experiment
from azlang.search.presets import demo_config
from azlang.search.rundir import RunDir

CFG = {
    "evolution.population": 20,
    "evolution.tournament": 4,
    "stop.max_individuals": 100,
    "stop.max_experiments": 2,
    "tasks.search": ("linear:F4:D3:N30:V20",),
    "tasks.select": ("linear:F4:D3:N50:V20",),
    "tasks.final": ("linear:F4:D2:N50:V20:S77:P88",),
    "run.random_seed": 11,
    "run.progress_every": 20,
    "run.checkpoint_every": 0.0,
    "hurdles.enabled": True,
}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    """A mid-run checkpoint of a native run (population view, native FEC cache, hurdle, best so far)."""
    from azlang.search import interrupt

    run = tmp_path_factory.mktemp("ck") / "run"

    def stop_in_first_experiment(event):
        if event["event"] == "progress" and event["individuals"] >= 60:
            interrupt.request()

    try:
        r = run_experiment(override(demo_config(), {**CFG, "run.backend": "native"}), run, stop_in_first_experiment)
    finally:
        interrupt.FLAG.reset()
    assert r.stopped_by == "interrupt"
    return (run / "checkpoint.ckpt").read_bytes()


def test_round_trip_gives_the_same_bytes(good):
    state = checkpoint.loads(good)
    assert state.islands and state.islands[0].cache is not None and state.islands[0].hurdle is not None
    assert len(state.islands[0].programs) == 20 and isinstance(state.rng.state, int)
    assert checkpoint.dumps(state) == good


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**130), max_value=2**130)
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.builds(np.array, st.lists(st.integers(-(2**31), 2**31 - 1), max_size=5), st.sampled_from(["int32", "int64"])),
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4),
    max_leaves=30,
)


@given(values)
@settings(max_examples=200, deadline=None)
def test_codec_round_trips_any_nested_data(value):
    data = datacodec.encode(value)
    assert datacodec.encode(datacodec.decode(data)) == data


@given(st.binary(max_size=200))
@settings(max_examples=300, deadline=None)
def test_codec_rejects_garbage_with_decode_error_only(data):
    try:
        datacodec.decode(data)
    except datacodec.DecodeError:
        pass


def test_codec_rejects_huge_counts_and_deep_nesting():
    with pytest.raises(datacodec.DecodeError):
        datacodec.decode(b"l" + (2**63).to_bytes(8, "little"))
    with pytest.raises(datacodec.DecodeError):
        datacodec.decode(b"l\x01\x00\x00\x00\x00\x00\x00\x00" * 1000 + b"N")
    with pytest.raises(datacodec.DecodeError, match="dtype"):
        datacodec.decode(b"a\x03|O8\x01" + (1).to_bytes(8, "little") + (8).to_bytes(8, "little") + b"\0" * 8)


def _corrupt(data: bytes, kind: str, pos: int, byte: int) -> bytes:
    pos %= len(data)
    if kind == "flip":
        return data[:pos] + bytes([data[pos] ^ (byte or 1)]) + data[pos + 1 :]
    if kind == "truncate":
        return data[:pos]
    if kind == "insert":
        return data[:pos] + bytes([byte]) + data[pos:]
    return data + bytes([byte])  # append


@given(st.sampled_from(["flip", "truncate", "insert", "append"]), st.integers(0, 10**9), st.integers(0, 255))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_corruption_is_a_clear_error(good, kind, pos, byte):
    bad = _corrupt(good, kind, pos, byte)
    with pytest.raises(AzError) as e:
        checkpoint.loads(bad, "run/checkpoint.ckpt")
    assert "run/checkpoint.ckpt" in str(e.value)


def test_a_payload_with_a_valid_checksum_but_foreign_records_is_refused():
    for payload in (datacodec.Record("Popen", {"args": ["rm", "-rf", "/"]}), [1, 2], {"rng": 3}):
        body = datacodec.encode(payload)
        header = {"format": 2, "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        with pytest.raises(AzError):
            checkpoint.loads(checkpoint.MAGIC + json.dumps(header).encode() + b"\n" + body)


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_crafted_pickle_is_never_loaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text("")
    (run / "checkpoint.pkl").write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(AzError, match="pickle"):
        RunDir(run).load_checkpoint()
    (run / "checkpoint.ckpt").write_bytes(pickle.dumps(_Evil()))
    with pytest.raises(AzError, match="pickle"):
        checkpoint.load(run / "checkpoint.ckpt")
    assert not Path("PWNED").exists()


def test_foreign_and_other_version_files(tmp_path):
    with pytest.raises(AzError, match="not an azlang checkpoint"):
        checkpoint.loads(b'{"hello": 1}')
    with pytest.raises(AzError, match="format 99"):
        checkpoint.loads(checkpoint.MAGIC + b'{"format": 99, "length": 0, "sha256": ""}\n')
    with pytest.raises(AzError, match="no checkpoint"):
        checkpoint.load(tmp_path / "none.ckpt")


def test_fields_missing_from_an_older_checkpoint_take_their_defaults(good):
    state = checkpoint.loads(good)
    rec = checkpoint.to_data(state)
    del rec.fields["final_fitness"], rec.fields["done"]
    back = checkpoint.from_data(rec)
    assert back.final_fitness is None and back.done is False and back.experiment == state.experiment


def test_nan_and_huge_values_survive(good):
    state = checkpoint.loads(good)
    state.islands[0].fitnesses[0] = math.nan
    state.islands[0].rng.state = 2**64 - 1
    back = checkpoint.loads(checkpoint.dumps(state))
    assert math.isnan(back.islands[0].fitnesses[0]) and back.islands[0].rng.state == 2**64 - 1


def _raw(bc):
    return bc.sizes, bc.code.tobytes(), bc.data.tobytes()


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3),
                          st.floats(allow_nan=True, allow_infinity=True) | st.just(-0.0)), min_size=2, max_size=12))
@settings(max_examples=60, deadline=None)
def test_populations_travel_packed_and_come_back_bit_for_bit(shapes):
    from azlang.ir.bytecode import Bytecode

    bcs = []
    for k, (a, b, c, x) in enumerate(shapes):
        n = a + b + c
        code = np.arange(4 * n, dtype=np.int32).reshape(n, 4) + k
        data = np.full((n, 3), x, dtype=np.float64)
        bcs.append(Bytecode(code, data, (a, b, c)))
    rec = checkpoint.to_data(bcs)
    assert rec.name == "Programs" and len(rec.fields["code"]) == sum(a + b + c for a, b, c, _ in shapes)
    back = checkpoint.from_data(datacodec.decode(datacodec.encode(rec)))
    assert [_raw(b) for b in back] == [_raw(b) for b in bcs]
    assert all(not b.code.flags.writeable and isinstance(b.sizes, tuple) for b in back)


def test_a_damaged_packed_population_is_a_clear_error(good):
    state = checkpoint.loads(good)
    rec = checkpoint.to_data(state)
    island = rec.fields["islands"][0]
    packed = island.fields["programs"]
    assert packed.name == "Programs"
    packed.fields["sizes"] = packed.fields["sizes"] + 1  # rows that are not there
    payload = datacodec.encode(rec)
    header = {"format": checkpoint.FORMAT, "length": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    data = checkpoint.MAGIC + json.dumps(header).encode() + b"\n" + payload
    with pytest.raises(AzError, match="malformed"):
        checkpoint.loads(data)
