"""Round-trip property: parse(print_program(p)) == p for random well-typed programs drawn from the op table."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import instructions, programs, usable_ops

from azlang.ir.nodes import MemoryShape
from azlang.ir.ops import OPS
from azlang.ir.verify import verify
from azlang.syntax import format_instruction, parse, print_program


@settings(max_examples=1000, deadline=None)
@given(programs(max_size=6))
def test_parse_print_roundtrip(program):
    text = print_program(program)
    again = parse(text)
    assert again == program
    assert print_program(again) == text


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_every_op_roundtrips(data):
    op = data.draw(st.sampled_from(OPS))
    ins = data.draw(instructions(ops=[op]))
    text = f"def Setup():\n  {format_instruction(ins)}\ndef Predict():\ndef Learn():\n"
    assert parse(text).setup.instructions == (ins,)


@settings(max_examples=200, deadline=None)
@given(programs(max_size=4, shape=MemoryShape(3, 2, 2), F=4))
def test_generated_programs_verify_against_their_shape(program):
    verify(program, MemoryShape(3, 2, 2), F=4)
    assert program.required_memory().union(MemoryShape(3, 2, 2)) == MemoryShape(3, 2, 2)


def test_strategy_covers_the_whole_table():
    assert len(usable_ops(MemoryShape(1, 1, 1))) == len(OPS)
    assert all(o.out != "m" and "m" not in o.ins for o in usable_ops(MemoryShape(2, 1, 0)))
