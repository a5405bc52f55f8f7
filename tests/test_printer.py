"""Printer contracts: canonical text (golden files), deterministic, shortest numbers, comments kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from azlang.ir.nodes import Index, Instruction, Param, ParamRef, Program, f32
from azlang.syntax import format_instruction, parse, print_program

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_INPUTS = sorted(p for p in GOLDEN.glob("*.az") if not p.name.endswith(".expected.az"))


@pytest.mark.parametrize("source", GOLDEN_INPUTS, ids=[p.name for p in GOLDEN_INPUTS])
def test_golden(source):
    expected = source.with_name(source.stem + ".expected.az").read_text()
    assert print_program(parse(source.read_text(), source.name)) == expected


@pytest.mark.parametrize("source", GOLDEN_INPUTS, ids=[p.name for p in GOLDEN_INPUTS])
def test_canonical_text_is_a_fixed_point(source):
    expected = source.with_name(source.stem + ".expected.az").read_text()
    assert print_program(parse(expected)) == expected
    assert parse(expected) == parse(source.read_text())


def test_layout():
    program = Program.of(
        setup=[Instruction(56, out=2, args=(ParamRef("lr"),))], learn=[Instruction(0)], params=[Param("lr", 0.5)]
    )
    assert (
        print_program(program)
        == "param lr = 0.5\n\ndef Setup():\n  s2 = lr\n\ndef Predict():\n\ndef Learn():\n  no_op\n"
    )


def test_empty_program():
    assert print_program(Program()) == "def Setup():\n\ndef Predict():\n\ndef Learn():\n"


@pytest.mark.parametrize(
    "ins, text",
    [
        (Instruction(56, out=2, args=(0.1,)), "s2 = 0.1"),
        (Instruction(56, out=2, args=(1e-05,)), "s2 = 1e-05"),
        (Instruction(56, out=2, args=(-3.0,)), "s2 = -3.0"),
        (Instruction(56, out=2, args=(0.1 + 2**-56,)), "s2 = 0.10000000000000002"),  # doubles keep all digits
        (Instruction(57, out=3, args=(Index(5, False), f32(-2.4))), "v3[5] = -2.4"),  # float32: shortest for float32
        (Instruction(57, out=3, args=(Index(f32(0.6875), True), 1.0)), "v3[0.6875] = 1.0"),
        (Instruction(57, out=3, args=(Index(0.0, True), 1.0)), "v3[0.0] = 1.0"),  # a fraction keeps its point
        (Instruction(57, out=3, args=(Index(f32(1e-5), True), 1.0)), "v3[0.00001] = 1.0"),
        (Instruction(58, out=2, args=(Index(1, False), Index(0.5, True), f32(0.03))), "m2[1, 0.5] = 0.03"),
        (Instruction(59, out=4, args=(-1.0, 1.0)), "s4 = uniform(-1.0, 1.0)"),
        (Instruction(63, out=8, args=(f32(0.4), ParamRef("sd"))), "v8 = gaussian(0.4, sd)"),
        (Instruction(18, out=1, in1=7, in2=2), "v1 = s7 * v2"),
        (Instruction(36, out=4, in1=7), "v4 = norm(m7, axis=1)"),
        (Instruction(30, out=3, in1=0), "m3 = 1 / m0"),
        (Instruction(0), "no_op"),
    ],
)
def test_instruction_text(ins, text):
    assert format_instruction(ins) == text


def test_float32_shortest_form_reads_back():
    for x in (f32(0.1), f32(1 / 3), float(np.float32(3.4028235e38)), float(np.nextafter(np.float32(1), np.float32(0)))):
        text = format_instruction(Instruction(59, out=0, args=(x, x)))
        assert parse(f"def Setup():\n  {text}\ndef Predict():\ndef Learn():\n").setup.instructions[0].args == (x, x)


def test_non_finite_constants_cannot_print():
    with pytest.raises(ValueError, match="not literals"):
        format_instruction(Instruction(56, out=2, args=(float("inf"),)))


def test_comments_survive_a_reprint():
    text = "# head\nparam lr = 1.0  # rate\n\n# before setup\ndef Setup():  # h\n  # c\n  s2 = lr  # t\n  # f\n\ndef Predict():\n\ndef Learn():\n\n# end\n"
    assert print_program(parse(text)) == text


def test_printing_is_deterministic():
    text = (GOLDEN / "messy.az").read_text()
    assert len({print_program(parse(text)) for _ in range(3)}) == 1
