"""Projected binary tasks (docs/semantics.md, section 13.3): pairs, split, projection, standardisation, cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

import datasets_fakes as fk
from azlang.errors import TaskSpecError
from azlang.rng import Rng, hash_mix
from azlang.tasks import cache
from azlang.tasks import datasets as ds
from azlang.tasks import projected as pj
from azlang.tasks.build import build_tasks
from azlang.tasks.spec import parse_spec


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(ds.OFFLINE_ENV, "1")
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AZLANG_VERIFY_DATA", "0")  # fakes have other checksums (test_datasets_verify checks them)
    ds._load_memo.cache_clear()


@pytest.fixture
def cifar(tmp_path):
    """50 train / 10 test images per class: pools of 100, split 80 / 10 / 10."""
    fk.write_cifar(tmp_path / "data")
    return str(tmp_path / "data")


# --- pairs ----------------------------------------------------------------------------------------------------

def test_candidate_pairs():
    search, select = pj.candidate_pairs("search"), pj.candidate_pairs("select")
    assert len(search) == 36 and len(select) == 9
    assert select == sorted(pj.HELD_OUT_PAIRS) and search == sorted(search)
    assert not set(search) & set(select)


def test_draw_pair_follows_the_reference_rule():
    seed = hash_mix(856572777, 0)
    assert seed == 2254264047  # the reference's HashMix value (docs/semantics.md, section 5.3)
    assert pj.draw_pair("select", 0) == pj.candidate_pairs("select")[Rng(seed).below(9)]
    drawn = {pj.draw_pair("select", s) for s in range(200)}
    assert drawn == set(pj.HELD_OUT_PAIRS)


def test_task_plan_seeds_and_names():
    plan = pj.task_plan(parse_spec("cifar:search:F16:D10"))
    seeds = [p[2] for p in plan]
    assert seeds[:8] == [11001, 11012, 11010, 11000, 11006, 11008, 11007, 11003] and seeds[8] == 11004
    assert all(p[1] in pj.candidate_pairs("search") for p in plan)
    assert plan[0][0] == f"cifar:search:F16:D10#0[{plan[0][1][0]}v{plan[0][1][1]}]"
    assert pj.task_plan(parse_spec("mnist:3v5:S7"))[0][1:3] == ((3, 5), 7)


# --- split ----------------------------------------------------------------------------------------------------

def test_stratified_split_sizes_balance_and_determinism():
    labels = np.repeat([1.0, 0.0], 50)
    parts = pj.stratified_split(labels, pj.split_sizes(100), Rng(5))
    assert [len(p) for p in parts] == [80, 10, 10]
    assert sorted(np.concatenate(parts).tolist()) == list(range(100))
    assert [labels[p].sum() for p in parts] == [40, 5, 5]
    again = pj.stratified_split(labels, pj.split_sizes(100), Rng(5))
    other = pj.stratified_split(labels, pj.split_sizes(100), Rng(6))
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))
    assert not np.array_equal(parts[0], other[0])
    assert labels[parts[0][:20]].sum() not in (0, 20)  # classes are interleaved, not in blocks


def test_real_split_sizes():
    assert pj.split_sizes(10000) == (8000, 1000, 1000)


def test_stratified_split_uneven_classes():
    labels = np.array([0.0] * 70 + [1.0] * 30)
    train, valid, test = pj.stratified_split(labels, (80, 10, 10), Rng(1))
    assert labels[valid].sum() == 3 and labels[test].sum() == 3 and labels[train].sum() == 24


# --- projection and statistics ----------------------------------------------------------------------------------

def test_projection_is_exact_whatever_the_summation_order():
    R = pj.projection_matrix(3072, 4, 11001)
    assert np.array_equal(R, pj.projection_matrix(3072, 4, 11001))
    assert not np.array_equal(R, pj.projection_matrix(3072, 4, 11002))
    x = fk.pixels(3, 3072, 1).astype(np.float64)
    forward = x @ R
    backward = np.cumsum(x[:, ::-1, None] * R[None, ::-1, :], axis=1)[:, -1, :]  # sequential, reversed
    assert np.array_equal(forward, backward)
    assert abs(R.mean()) < 0.05 and abs(R.std() - 1) < 0.05


def test_column_stats_match_numpy_and_handle_constant_columns():
    x = np.column_stack([fk.pixels(200, 3, 0).astype(float), np.zeros(200)])
    mean, std = pj.column_stats(x, 1.0)
    assert np.allclose(mean, x.mean(axis=0), rtol=0, atol=1e-12)
    assert np.allclose(std[:3], x[:, :3].std(axis=0), rtol=1e-14) and std[3] == 1.0


# --- built tasks ----------------------------------------------------------------------------------------------

def test_projected_task_statistics(cifar):
    (task,) = build_tasks("cifar:3v5:F16", cifar)
    assert task.train_x.shape == (80, 16) and task.valid_x.shape == (10, 16)
    assert task.eval_type == "accuracy" and task.data_seed == 11001
    assert np.allclose(task.train_x.mean(axis=0), 0, atol=1e-12)
    assert np.allclose(task.train_x.std(axis=0), 1, atol=1e-12)
    assert task.train_y.sum() == 40 and task.valid_y.sum() == 5
    assert set(np.unique(task.train_y)) == {0.0, 1.0}


def test_positive_class_is_the_first_of_the_pair(tmp_path):
    fk.write_cifar(tmp_path, brightness=True)  # class c images have pixels near 20 c
    (a,) = build_tasks("cifar:3v5:F3072", str(tmp_path))
    (b,) = build_tasks("cifar:5v3:F3072", str(tmp_path))
    for task, sign in ((a, -1), (b, 1)):  # label 1 = first class: darker for 3v5, brighter for 5v3
        pos, neg = task.train_x[task.train_y == 1].mean(), task.train_x[task.train_y == 0].mean()
        assert sign * (pos - neg) > 1.0 and task.train_y.sum() == 40


def test_unprojected_task_is_standardised_pixels(cifar):
    (task,) = build_tasks("cifar:0v1:F3072:S3", cifar)
    data = ds.load(ds.CIFAR10, ds.data_root(cifar))
    rows, _ = pj.class_pool(data.train_x, data.train_y, (0, 1))
    train, _, _ = pj.stratified_split(np.isin(data.train_y[rows], 0) * 1.0, (80, 10, 10),
                                      Rng(hash_mix(pj.SPLIT_SALT, 3)))
    raw = data.train_x[rows[train]].astype(float)
    assert np.allclose(task.train_x, (raw - raw.mean(0)) / raw.std(0), atol=1e-12)


def test_same_spec_and_seed_same_data_other_seed_other_data(cifar, tmp_path, monkeypatch):
    a = build_tasks("cifar:search:F8:D3:S100", cifar)
    monkeypatch.setenv("AZLANG_CACHE_DIR", str(tmp_path / "other-cache"))  # built again, not read back
    b = build_tasks("cifar:search:F8:D3:S100", cifar)
    for x, y in zip(a, b):
        assert np.array_equal(x.train_x, y.train_x) and np.array_equal(x.valid_y, y.valid_y)
    assert [t.data_seed for t in a] == [100, 101, 102]
    assert not np.array_equal(a[0].train_x, a[1].train_x)


def test_options_n_v_e_and_test_split(cifar):
    (task,) = build_tasks("cifar:2v7:F4:N50:V6:E3", cifar)
    assert task.n_train == 50 and task.n_valid == 6 and task.epochs == 3 and task.orders.shape == (3, 50)
    (full,) = build_tasks("cifar:2v7:F4", cifar)
    assert np.array_equal(full.train_x[:50], task.train_x)  # N takes the first rows; statistics unchanged
    (test,) = build_tasks("cifar:2v7:F4:test", cifar)
    data = ds.load(ds.CIFAR10, ds.data_root(cifar))
    assert test.n_valid == np.isin(data.test_y, (2, 7)).sum() == 20
    assert np.array_equal(test.train_x, full.train_x)
    with pytest.raises(TaskSpecError, match="N81"):
        build_tasks("cifar:2v7:F4:N81", cifar)


def test_mnist_and_fashion_from_idx_files(tmp_path):
    fk.write_idx_dataset(tmp_path, folder="mnist", gz=True)
    fk.write_idx_dataset(tmp_path, folder="fashion-mnist", gz=False, seed=3)
    (m,) = build_tasks("mnist:0v1:F16", str(tmp_path))
    fs = build_tasks("fashion:select:F8:D2", str(tmp_path))
    assert m.train_x.shape == (80, 16) and len(fs) == 2 and fs[0].F == 8
    (raw,) = build_tasks("mnist:0v1:F784", str(tmp_path))
    assert raw.F == 784


@pytest.mark.parametrize("text, message", [
    ("cifar:all:F8", "needs 10 <= F"),
    ("cifar:3v5:F16:rms", "accuracy"),
    ("mnist:3v5:F1000", "784 pixels"),
])
def test_rejected_specs(cifar, text, message):
    with pytest.raises(TaskSpecError, match=message):
        build_tasks(text, cifar)


# --- cache ----------------------------------------------------------------------------------------------------

def test_second_build_comes_from_the_cache(cifar, monkeypatch):
    first = build_tasks("cifar:select:F16:D4", cifar)
    assert len(os.listdir(cache.cache_dir())) == 4

    def no_loading(*args):
        raise AssertionError("the dataset was loaded although every task is cached")

    monkeypatch.setattr(ds, "load", no_loading)
    second = build_tasks("cifar:select:F16:D4", cifar)
    assert all(np.array_equal(a.train_x, b.train_x) for a, b in zip(first, second))


def test_cache_key_changes_when_the_data_changes(cifar):
    (before,) = build_tasks("cifar:3v5:F16", cifar)
    folder = ds.data_root(cifar) / "cifar-10-batches-py"
    fk.write_cifar(ds.data_root(cifar), seed=9)
    os.utime(folder / "data_batch_1", ns=(1, 1))  # a new identity even on coarse-mtime file systems
    (after,) = build_tasks("cifar:3v5:F16", cifar)
    assert len(os.listdir(cache.cache_dir())) == 2
    assert not np.array_equal(before.train_x, after.train_x)


def test_damaged_cache_entry_is_rebuilt(cifar):
    (first,) = build_tasks("cifar:3v5:F16", cifar)
    (entry,) = cache.cache_dir().iterdir()
    entry.write_bytes(b"not an npz")
    (again,) = build_tasks("cifar:3v5:F16", cifar)
    assert np.array_equal(first.train_x, again.train_x)
    assert cache.load(entry.stem) is not None


def test_unprojected_tasks_are_not_cached(cifar):
    build_tasks("cifar:3v5:F3072", cifar)
    assert not cache.cache_dir().exists() or not os.listdir(cache.cache_dir())
