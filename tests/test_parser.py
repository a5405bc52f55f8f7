"""Parser contracts: every op from its canonical line, accepted variants, headers, numbers, comments, verify."""

from __future__ import annotations

import pytest

from azlang.errors import VerifyError
from azlang.ir.nodes import Index, Instruction, MemoryShape, Param, ParamRef, Program, f32
from azlang.ir.ops import NUM_OPS, OPS
from azlang.ir.verify import verify
from azlang.resources import list_resources, resource_path
from azlang.syntax import load, parse, print_program

# One canonical line per op, written from the language spec's table (not from the printer).
CANONICAL = [
    "no_op", "s2 = s3 + s0", "s2 = s3 - s0", "s2 = s3 * s0", "s2 = s3 / s0", "s8 = abs(s0)", "s4 = 1 / s8",
    "s5 = sin(s4)", "s5 = cos(s4)", "s5 = tan(s4)", "s5 = arcsin(s4)", "s5 = arccos(s4)", "s5 = arctan(s4)",
    "s5 = exp(s4)", "s5 = log(s4)", "s0 = heaviside(s0)", "v2 = heaviside(v2)", "m3 = heaviside(m3)",
    "v1 = s7 * v1", "v1 = bcast(s3)", "v5 = 1 / v7", "s0 = norm(v3)", "v3 = abs(v3)", "v5 = v0 + v9",
    "v5 = v0 - v9", "v5 = v0 * v9", "v5 = v0 / v9", "s6 = dot(v1, v5)", "m1 = outer(v6, v5)", "m1 = s4 * m2",
    "m3 = 1 / m0", "v6 = dot(m1, v0)", "m2 = bcast(v0, axis=0)", "m2 = bcast(v0, axis=1)", "s2 = norm(m1)",
    "v4 = norm(m7, axis=0)", "v4 = norm(m7, axis=1)", "m9 = transpose(m3)", "m1 = abs(m8)", "m2 = m2 + m0",
    "m2 = m2 - m0", "m2 = m2 * m0", "m2 = m2 / m0", "m5 = matmul(m5, m7)", "s1 = minimum(s2, s3)",
    "v1 = minimum(v2, v3)", "m1 = minimum(m2, m3)", "s1 = maximum(s2, s3)", "v1 = maximum(v2, v3)",
    "m1 = maximum(m2, m3)", "s2 = mean(v2)", "s2 = mean(m8)", "v1 = mean(m2, axis=1)", "v3 = std(m2, axis=1)",
    "s3 = std(v3)", "s4 = std(m0)", "s2 = 0.1", "v3[5] = -2.4", "m2[5, 1] = -0.03", "s4 = uniform(-1.0, 1.0)",
    "v1 = uniform(0.4, 0.8)", "m0 = uniform(-0.5, 0.6)", "s4 = gaussian(0.1, 0.7)", "v8 = gaussian(0.4, 1.0)",
    "m2 = gaussian(-2.0, 1.3)",
]  # fmt: skip

VARIANTS = [
    ("NoOp()", "no_op"),
    ("pass", "no_op"),
    ("s3 = heaviside(s2, 1.0)", "s3 = heaviside(s2)"),
    ("v3 = heaviside(v2, 1.0)", "v3 = heaviside(v2)"),
    ("m3 = heaviside(m2, 1)", "m3 = heaviside(m2)"),
    ("v1 = v1 * s7", "v1 = s7 * v1"),
    ("m1 = m2 * s4", "m1 = s4 * m2"),
    ("s1 = min(s2, s3)", "s1 = minimum(s2, s3)"),
    ("v1 = max(v2, v3)", "v1 = maximum(v2, v3)"),
    ("m1 = min(m2, m3)", "m1 = minimum(m2, m3)"),
    ("v1 = uniform(0.4, 0.8, n_features)", "v1 = uniform(0.4, 0.8)"),
    ("m0 = uniform(-0.5, 0.6, (n_features, n_features))", "m0 = uniform(-0.5, 0.6)"),
    ("v8 = gaussian(0.4, 1, n_features)", "v8 = gaussian(0.4, 1.0)"),
    ("m2 = gaussian(-2, 1.3, (n_features, n_features))", "m2 = gaussian(-2.0, 1.3)"),
    ("s4 = uniform(-1, 1)", "s4 = uniform(-1.0, 1.0)"),
    ("s2 = .1", "s2 = 0.1"),
    ("s2 = 1e-1", "s2 = 0.1"),
    ("v3[5]=-2.4", "v3[5] = -2.4"),
    ("m2[ 5 ,1 ]   =   -3e-2", "m2[5, 1] = -0.03"),
    ("s2=s3+s0", "s2 = s3 + s0"),
    ("s4 = 1.0 / s8", "s4 = 1 / s8"),
]


def wrap(line: str, component: str = "Predict") -> str:
    bodies = {"Setup": "", "Predict": "", "Learn": ""}
    bodies[component] = f"  {line}\n"
    return "".join(f"def {name}():\n{body}" for name, body in bodies.items())


def only(program: Program) -> Instruction:
    (ins,) = program.predict.instructions
    return ins


def test_canonical_table_covers_every_op():
    ids = [only(parse(wrap(line))).op for line in CANONICAL]
    assert ids == list(range(NUM_OPS))


@pytest.mark.parametrize("op_id, line", list(enumerate(CANONICAL)))
def test_canonical_line_parses_to_its_op_and_prints_back(op_id, line):
    program = parse(wrap(line))
    assert only(program).op == op_id
    assert print_program(program) == wrap(line).replace("\ndef", "\n\ndef")


@pytest.mark.parametrize("variant, canonical", VARIANTS)
def test_variant_parses_like_canonical(variant, canonical):
    assert parse(wrap(variant)) == parse(wrap(canonical))


def test_operand_fields_follow_the_table():
    assert only(parse(wrap("v1 = v2 * s7"))) == Instruction(18, out=1, in1=7, in2=2)
    assert only(parse(wrap("v6 = dot(m1, v0)"))) == Instruction(31, out=6, in1=1, in2=0)
    assert only(parse(wrap("no_op"))) == Instruction(0)


def test_set_op_arguments():
    assert only(parse(wrap("s2 = 0.1"))).args == (0.1,)  # OP56 keeps a double
    assert only(parse(wrap("v3[5] = -2.4"))).args == (Index(5, False), f32(-2.4))
    assert only(parse(wrap("v3[0.6875] = 1"))).args == (Index(0.6875, True), 1.0)
    assert only(parse(wrap("m2[0.1, 3] = 0.5"))).args == (Index(f32(0.1), True), Index(3, False), 0.5)
    assert only(parse(wrap("s4 = gaussian(0.1, 0.7)"))).args == (f32(0.1), f32(0.7))


@pytest.mark.parametrize(
    "text, value",
    [("0.5", 0.5), ("-2.4", -2.4), ("4.0e-3", 4e-3), ("2e-3", 2e-3), ("-1", -1.0), ("7.", 7.0), ("1E+2", 100.0)],
)
def test_number_forms(text, value):
    assert only(parse(wrap(f"s2 = {text}"))).args == (value,)


def test_paper_headers_are_accepted():
    text = "def Setup():\ndef Predict(v0):\n  s1 = dot(v0, v1)\ndef Learn(v0, s0):\n  s3 = s0 - s1\n"
    program = parse(text)
    assert [len(c) for c in program.components()] == [0, 1, 1]


def test_params_and_references():
    text = "param lr = 0.01\nparam init_sd = -2\ndef Setup():\n  s2 = lr\n  v1 = gaussian(0, init_sd)\n  v3[2] = lr\ndef Predict():\ndef Learn():\n"
    program = parse(text)
    assert program.params == (Param("lr", 0.01), Param("init_sd", -2.0))
    assert [i.args for i in program.setup] == [
        (ParamRef("lr"),),
        (0.0, ParamRef("init_sd")),
        (Index(2, False), ParamRef("lr")),
    ]


def test_comments_are_kept_where_they_stand():
    text = (
        "# top\ndef Setup():  # head\n  # before\n  s2 = 0.5  # end\n  # tail\ndef Predict():\ndef Learn():\n# last\n"
    )
    program = parse(text)
    assert program.setup.comments == ("# top",)
    assert program.setup.header_comment == "# head"
    (ins,) = program.setup.instructions
    assert (ins.comments, ins.trailing) == (("# before",), "# end")
    assert program.setup.footer == ("# tail",)
    assert program.footer == ("# last",)


def test_locations_point_at_the_line():
    program = parse(wrap("s2 = s3 + s0"), "f.az")
    loc = only(program).loc
    assert (loc.file, loc.line, loc.col) == ("f.az", 3, 3)


def test_blank_lines_windows_newlines_and_missing_final_newline():
    text = "\r\n\r\ndef Setup():\r\n\r\n  s2 = 1\r\ndef Predict():\r\n\ndef Learn():"
    assert parse(text) == Program.of(setup=[Instruction(56, out=2, args=(1.0,))])


def test_load_stdlib_empty():
    program = load(resource_path("stdlib", "empty.az"))
    assert program == Program()
    assert "empty.az" in list_resources("stdlib")
    assert "az.lark" in list_resources("grammar")


def test_verify_shape_and_F():
    program = parse(wrap("v3[5] = 1.0"))
    verify(program, MemoryShape(2, 4, 0), F=8)
    with pytest.raises(VerifyError, match="outside the memory"):
        verify(program, MemoryShape(2, 3, 0))
    with pytest.raises(VerifyError, match="out of range for F = 4"):
        verify(program, F=4)


def test_verify_rejects_bad_ir():
    with pytest.raises(VerifyError, match="unknown param"):
        verify(Program.of(setup=[Instruction(56, out=2, args=(ParamRef("lr"),))]))
    with pytest.raises(VerifyError, match="not a float32"):
        verify(Program.of(setup=[Instruction(59, out=2, args=(0.1, 0.2))]))
    with pytest.raises(VerifyError, match="takes 1 constants"):
        verify(Program.of(setup=[Instruction(56, out=2)]))
    with pytest.raises(VerifyError, match="declared twice"):
        verify(Program(params=(Param("lr", 1.0), Param("lr", 2.0))))
    with pytest.raises(VerifyError, match="cannot name a param"):
        verify(Program(params=(Param("s3", 1.0),)))


def test_every_op_has_a_canonical_line():
    assert len(CANONICAL) == len(OPS) == 65
