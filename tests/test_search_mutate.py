"""Random instructions and mutation properties, quirks included (docs/semantics.md, sections 6 and 7)."""

import math
from dataclasses import replace

import numpy as np

from azlang.ir.bytecode import from_bytecode
from azlang.ir.ops import OPS
from azlang.rng import Rng
from azlang.search.config import ComponentConfig, MemoryConfig
from azlang.search.generate import NOOP_ROW, Generator, make_bytecode
from azlang.search.mutate import (
    RANDOMIZE_ALGORITHM,
    Mutator,
    log_scale,
)
from azlang.search.presets import demo_config

N = 400


def cfg_with(mutations=("alter_param",), prob=1.0, predict=None, **mem):
    cfg = demo_config()
    cfg = replace(cfg, evolution=replace(cfg.evolution, mutations=tuple(mutations), mutate_prob=prob))
    if predict is not None:
        cfg = replace(cfg, setup=ComponentConfig(), learn=ComponentConfig(), predict=predict)
    if mem:
        cfg = replace(cfg, memory=MemoryConfig(**mem))
    return cfg


def noop_program(n_predict):
    return make_bytecode(([], [NOOP_ROW] * n_predict, []))


def mutator(cfg):
    return Mutator(cfg, Generator(cfg))


def test_insert_trade_remove_mix_changes_size_by_at_most_one():
    cfg = cfg_with(
        ("insert_instruction", "trade_instruction", "remove_instruction"), predict=ComponentConfig((0,), 5, 0, 10000)
    )
    mut, rng, seen = mutator(cfg), Rng(1), set()
    for _ in range(N):
        n = rng.below(50)
        seen.add(mut.mutate(noop_program(n), rng).sizes[1] - n)
    assert seen == {-1, 0, 1}


def test_insert_with_mutate_prob_half_gives_n_or_n_plus_one():
    cfg = cfg_with(("insert_instruction",), prob=0.5, predict=ComponentConfig((0,), 5, 0, 10000))
    mut, rng = mutator(cfg), Rng(2)
    seen = {mut.mutate(noop_program(5), rng).sizes[1] for _ in range(N)}
    assert seen == {5, 6}


def test_size_limit_quirks():
    rng = Rng(3)
    below_min = mutator(cfg_with(("insert_instruction",), predict=ComponentConfig((0,), 5, 100, 10000)))
    assert below_min.mutate(noop_program(5), rng).sizes[1] == 6  # only max is checked on insert
    max_one = mutator(cfg_with(("insert_instruction",), predict=ComponentConfig((0,), 0, 0, 1)))
    assert max_one.mutate(noop_program(0), rng).sizes[1] == 0  # max 1: never inserts
    reach = mutator(cfg_with(("insert_instruction",), predict=ComponentConfig((0,), 0, 0, 5)))
    bc = noop_program(0)
    for _ in range(20):
        bc = reach.mutate(bc, rng)
    assert bc.sizes[1] == 4  # reachable maximum is max - 1
    unset = mutator(cfg_with(("insert_instruction",), predict=ComponentConfig((0,), 0, 0, 0)))
    bc = noop_program(0)
    for _ in range(30):
        bc = unset.mutate(bc, rng)
    assert bc.sizes[1] == 30  # max unset: unbounded
    min100 = mutator(cfg_with(("remove_instruction",), predict=ComponentConfig((0,), 5, 100, 1)))
    assert min100.mutate(noop_program(5), rng).sizes[1] == 5
    above_max = mutator(cfg_with(("remove_instruction",), predict=ComponentConfig((0,), 5, 0, 1)))
    assert above_max.mutate(noop_program(5), rng).sizes[1] == 4


def test_trade_preserves_sizes_and_touches_exactly_one_component():
    cfg = cfg_with(("trade_instruction",))
    mut, gen, rng, hit = mutator(cfg), Generator(cfg), Rng(4), set()
    for _ in range(200):
        parent = gen.random(rng)
        child = mut.mutate(parent, rng)
        assert child.sizes == parent.sizes
        changed = [c for c in range(3) if not np.array_equal(*[_component(b, c) for b in (parent, child)])]
        assert len(changed) <= 1
        hit.update(changed)
    assert hit == {0, 1, 2}


def _component(bc, c):
    start = sum(bc.sizes[:c])
    return np.concatenate([bc.code[start : start + bc.sizes[c]], bc.data[start : start + bc.sizes[c]]], axis=1)


def test_randomize_algorithm_changes_zero_to_all_instructions():
    cfg = cfg_with(("randomize_algorithm",))
    ops = (0, 1, 31, 50)  # NO_OP, SUM, MATRIX_VECTOR_PRODUCT, VECTOR_MEAN
    cfg = replace(cfg, setup=ComponentConfig(ops, 3), predict=ComponentConfig(ops, 2), learn=ComponentConfig(ops, 3))
    mut, gen, rng, counts = mutator(cfg), Generator(cfg), Rng(5), set()
    for _ in range(600):
        parent = gen.random(rng)
        child = mut.apply(RANDOMIZE_ALGORITHM, parent, rng)
        counts.add(int(np.sum(np.any(parent.code != child.code, axis=1) | np.any(parent.data != child.data, axis=1))))
    assert 8 in counts and len(counts) > 3  # from a few up to all eight changed


def test_instruction_index_covers_every_position():
    cfg = cfg_with(("randomize_instruction",), predict=ComponentConfig((1,), 5))
    mut, rng, seen = mutator(cfg), Rng(6), set()
    for _ in range(N):
        child = mut.mutate(noop_program(5), rng)
        seen.update(np.nonzero(child.code[:, 0])[0].tolist())
    assert seen == {0, 1, 2, 3, 4}


def test_clones_at_one_minus_mutate_prob_and_they_are_the_parent():
    cfg = cfg_with(("randomize_component_function",), prob=0.9)
    mut, gen, rng = mutator(cfg), Generator(cfg), Rng(7)
    parent = gen.random(rng)
    clones = sum(mut.mutate(parent, rng) is parent for _ in range(4000))
    assert 300 < clones < 500


def test_random_instructions_respect_kinds_ranges_and_data():
    ops = tuple(range(65))
    cfg = cfg_with(predict=ComponentConfig(ops, 1), scalars=5, vectors=4, matrices=3)
    gen, rng = Generator(cfg), Rng(8)
    size = {"s": 5, "v": 4, "m": 3}
    for _ in range(3000):
        op, in1, in2, out, d0, d1, _ = gen.instruction(rng, 1)
        od = OPS[op]
        for kind, addr in zip(od.ins, (in1, in2)):
            assert 0 <= addr < size[kind]
        if od.out:
            assert (0 if od.out == "m" else 1) <= out < size[od.out]
        if op == 56:
            assert -1 < d0 < 1
        if op in (57, 58):
            assert 0 <= d0 < 1 and (op == 57 or 0 <= d1 < 1) and np.float32(d0) == d0
        if op in (62, 63, 64):
            assert -1 <= d0 < 1 and 0 <= d1 < 1


def test_uniform_bounds_are_drawn_unsorted_and_resorted_by_alter_param():
    cfg = cfg_with(predict=ComponentConfig((59,), 1))
    gen, mut, rng = Generator(cfg), mutator(cfg), Rng(9)
    rows = [gen.instruction(rng, 1) for _ in range(400)]
    assert any(r[4] > r[5] for r in rows) and any(r[4] < r[5] for r in rows)
    for r in rows:
        new = mut.alter_row(rng, r)
        if new[4:] != r[4:]:  # the data was altered (not the output register)
            assert new[4] <= new[5]


def test_log_scale_is_multiplicative_and_keeps_sign_and_zero():
    rng = Rng(10)
    ups = [log_scale(rng, 2.0, False) for _ in range(2000)]
    assert all(u > 0 for u in ups)
    assert abs(np.mean(np.log(np.array(ups) / 2.0))) < 0.1  # log-normal factor, median 1
    assert all(log_scale(rng, -3.0, True) < 0 for _ in range(100))
    assert log_scale(rng, 0.0, False) == 0.0 and math.copysign(1, log_scale(rng, 0.0, False)) == -1
    flips = sum(
        mutator(cfg_with(predict=ComponentConfig((56,), 1))).alter_data(rng, 56, (0.5, 0, 0))[0] < 0
        for _ in range(2000)
    )
    assert 120 < flips < 300  # 10% sign flips


def test_alter_param_leaves_no_op_alone_without_draws():
    mut, rng = mutator(cfg_with()), Rng(11)
    before = rng.state
    assert mut.alter_row(rng, NOOP_ROW) is NOOP_ROW and rng.state == before


def test_built_in_models_are_the_reference_listings():
    gen = Generator(replace(demo_config(), memory=MemoryConfig(5, 9, 2)))
    lin = from_bytecode(gen.model("linear", Rng(0)))
    assert [len(c) for c in lin.components()] == [10, 2, 8]  # padded to size_init with no-ops
    assert lin.learn.instructions[3].op == 23 and lin.setup.instructions[0].args == (0.01,)
    nn = gen.model("neural_net", Rng(0))
    damaged = gen.model("damaged_neural_net", Rng(0))
    assert nn.code[0, 0] == 63 and damaged.code[0, 0] == 56
    assert sum(nn.code[:, 0] != 0) == 19 and sum(damaged.code[:, 0] != 0) == 17
