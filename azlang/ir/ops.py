"""IR stage: THE op table. Parser, verifier, printer, interpreter, mutator and code generator derive from it.

Ids, operand kinds and compute costs follow the reference implementation; docs/ops.md is generated from this
table (`python -m azlang.tools.gendocs`). Each row also says how the op is spelled in `.az` source, so the syntax layer stays op-agnostic.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALAR, VECTOR, MATRIX = "s", "v", "m"
KINDS = (SCALAR, VECTOR, MATRIX)

# Source forms. An op's form says how its line looks; `spelling` fills in the symbol or function name.
NOOP = "noop"  #           no_op
INFIX = "infix"  #         o = a <sym> b
RECIP = "recip"  #         o = 1 / a
CALL = "call"  #           o = f(a[, b][, axis=k])
CONST = "const"  #         s = <value>
INDEX_SET = "index_set"  # v[i] = <value>, m[i, j] = <value>
RANDOM = "random"  #       o = uniform(lo, hi) / gaussian(mean, sd)

# Names of an op's constant fields, by form (set ops only).
DATA_FIELDS = {
    56: ("value",),
    57: ("index", "value"),
    58: ("row", "col", "value"),
    **{k: ("low", "high") for k in (59, 60, 61)},
    **{k: ("mean", "sd") for k in (62, 63, 64)},
}


@dataclass(frozen=True)
class OpDef:
    """One row of the op table."""

    id: int
    name: str  # the reference's code name
    out: str | None  # kind of the destination register
    ins: tuple[str, ...]  # kinds of in1[, in2]
    form: str
    spelling: str = ""
    axis: int | None = None
    commutative: bool = False
    cost: int = 0  # the reference's compute units (train budget, docs/semantics.md, section 10)

    @property
    def arity(self) -> int:
        return len(self.ins)

    @property
    def data_fields(self) -> tuple[str, ...]:
        return DATA_FIELDS.get(self.id, ())

    @property
    def is_set(self) -> bool:
        return self.form in (CONST, INDEX_SET, RANDOM)

    @property
    def is_random(self) -> bool:
        return self.form == RANDOM

    @property
    def float32_data(self) -> bool:
        """Index-set and random ops keep their constants as float32, like the reference."""
        return self.form in (INDEX_SET, RANDOM)


def _op(id, name, out, ins, form, spelling="", axis=None, comm=False, cost=0):
    return OpDef(id, name, out, tuple(ins), form, spelling, axis, comm, cost)


S, V, M = SCALAR, VECTOR, MATRIX

OPS: tuple[OpDef, ...] = (
    _op(0, "NO_OP", None, "", NOOP, "no_op", cost=3013921),
    _op(1, "SCALAR_SUM_OP", S, "ss", INFIX, "+", comm=True, cost=4703759),
    _op(2, "SCALAR_DIFF_OP", S, "ss", INFIX, "-", cost=5102027),
    _op(3, "SCALAR_PRODUCT_OP", S, "ss", INFIX, "*", comm=True, cost=4418347),
    _op(4, "SCALAR_DIVISION_OP", S, "ss", INFIX, "/", cost=3963916),
    _op(5, "SCALAR_ABS_OP", S, "s", CALL, "abs", cost=3684352),
    _op(6, "SCALAR_RECIPROCAL_OP", S, "s", RECIP, "1 /", cost=4212086),
    _op(7, "SCALAR_SIN_OP", S, "s", CALL, "sin", cost=7538523),
    _op(8, "SCALAR_COS_OP", S, "s", CALL, "cos", cost=7452807),
    _op(9, "SCALAR_TAN_OP", S, "s", CALL, "tan", cost=7583203),
    _op(10, "SCALAR_ARCSIN_OP", S, "s", CALL, "arcsin", cost=9145616),
    _op(11, "SCALAR_ARCCOS_OP", S, "s", CALL, "arccos", cost=7673039),
    _op(12, "SCALAR_ARCTAN_OP", S, "s", CALL, "arctan", cost=9273978),
    _op(13, "SCALAR_EXP_OP", S, "s", CALL, "exp", cost=11755929),
    _op(14, "SCALAR_LOG_OP", S, "s", CALL, "log", cost=11627725),
    _op(15, "SCALAR_HEAVYSIDE_OP", S, "s", CALL, "heaviside", cost=4057075),
    _op(16, "VECTOR_HEAVYSIDE_OP", V, "v", CALL, "heaviside", cost=3965743),
    _op(17, "MATRIX_HEAVYSIDE_OP", M, "m", CALL, "heaviside", cost=6728311),
    _op(18, "SCALAR_VECTOR_PRODUCT_OP", V, "sv", INFIX, "*", cost=3705015),
    _op(19, "SCALAR_BROADCAST_OP", V, "s", CALL, "bcast", cost=4165814),
    _op(20, "VECTOR_RECIPROCAL_OP", V, "v", RECIP, "1 /", cost=6311851),
    _op(21, "VECTOR_NORM_OP", S, "v", CALL, "norm", cost=4810562),
    _op(22, "VECTOR_ABS_OP", V, "v", CALL, "abs", cost=3713533),
    _op(23, "VECTOR_SUM_OP", V, "vv", INFIX, "+", comm=True, cost=4701519),
    _op(24, "VECTOR_DIFF_OP", V, "vv", INFIX, "-", cost=4165747),
    _op(25, "VECTOR_PRODUCT_OP", V, "vv", INFIX, "*", comm=True, cost=4504555),
    _op(26, "VECTOR_DIVISION_OP", V, "vv", INFIX, "/", cost=4556237),
    _op(27, "VECTOR_INNER_PRODUCT_OP", S, "vv", CALL, "dot", comm=True, cost=4294617),
    _op(28, "VECTOR_OUTER_PRODUCT_OP", M, "vv", CALL, "outer", cost=9833707),
    _op(29, "SCALAR_MATRIX_PRODUCT_OP", M, "sm", INFIX, "*", cost=5986302),
    _op(30, "MATRIX_RECIPROCAL_OP", M, "m", RECIP, "1 /", cost=24336141),
    _op(31, "MATRIX_VECTOR_PRODUCT_OP", V, "mv", CALL, "dot", cost=9310002),
    _op(32, "VECTOR_COLUMN_BROADCAST_OP", M, "v", CALL, "bcast", axis=0, cost=10993088),
    _op(33, "VECTOR_ROW_BROADCAST_OP", M, "v", CALL, "bcast", axis=1, cost=11087322),
    _op(34, "MATRIX_NORM_OP", S, "m", CALL, "norm", cost=6422746),
    _op(35, "MATRIX_COLUMN_NORM_OP", V, "m", CALL, "norm", axis=0, cost=6682187),
    _op(36, "MATRIX_ROW_NORM_OP", V, "m", CALL, "norm", axis=1, cost=13351123),
    _op(37, "MATRIX_TRANSPOSE_OP", M, "m", CALL, "transpose", cost=9394756),
    _op(38, "MATRIX_ABS_OP", M, "m", CALL, "abs", cost=4630926),
    _op(39, "MATRIX_SUM_OP", M, "mm", INFIX, "+", comm=True, cost=5579381),
    _op(40, "MATRIX_DIFF_OP", M, "mm", INFIX, "-", cost=5429452),
    _op(41, "MATRIX_PRODUCT_OP", M, "mm", INFIX, "*", comm=True, cost=5475227),
    _op(42, "MATRIX_DIVISION_OP", M, "mm", INFIX, "/", cost=18234378),
    _op(43, "MATRIX_MATRIX_PRODUCT_OP", M, "mm", CALL, "matmul", cost=14516296),
    _op(44, "SCALAR_MIN_OP", S, "ss", CALL, "minimum", cost=3677265),
    _op(45, "VECTOR_MIN_OP", V, "vv", CALL, "minimum", cost=3989956),
    _op(46, "MATRIX_MIN_OP", M, "mm", CALL, "minimum", cost=5457728),
    _op(47, "SCALAR_MAX_OP", S, "ss", CALL, "maximum", cost=4573695),
    _op(48, "VECTOR_MAX_OP", V, "vv", CALL, "maximum", cost=3974229),
    _op(49, "MATRIX_MAX_OP", M, "mm", CALL, "maximum", cost=5840952),
    _op(50, "VECTOR_MEAN_OP", S, "v", CALL, "mean", cost=4280443),
    _op(51, "MATRIX_MEAN_OP", S, "m", CALL, "mean", cost=4595196),
    _op(52, "MATRIX_ROW_MEAN_OP", V, "m", CALL, "mean", axis=1, cost=9763956),
    _op(53, "MATRIX_ROW_ST_DEV_OP", V, "m", CALL, "std", axis=1, cost=16766477),
    _op(54, "VECTOR_ST_DEV_OP", S, "v", CALL, "std", cost=5585730),
    _op(55, "MATRIX_ST_DEV_OP", S, "m", CALL, "std", cost=10640216),
    _op(56, "SCALAR_CONST_SET_OP", S, "", CONST, cost=3691108),
    _op(57, "VECTOR_CONST_SET_OP", V, "", INDEX_SET, cost=3991421),
    _op(58, "MATRIX_CONST_SET_OP", M, "", INDEX_SET, cost=3693035),
    _op(59, "SCALAR_UNIFORM_SET_OP", S, "", RANDOM, "uniform", cost=26610704),
    _op(60, "VECTOR_UNIFORM_SET_OP", V, "", RANDOM, "uniform", cost=57817372),
    _op(61, "MATRIX_UNIFORM_SET_OP", M, "", RANDOM, "uniform", cost=208339446),
    _op(62, "SCALAR_GAUSSIAN_SET_OP", S, "", RANDOM, "gaussian", cost=20775635),
    _op(63, "VECTOR_GAUSSIAN_SET_OP", V, "", RANDOM, "gaussian", cost=77483018),
    _op(64, "MATRIX_GAUSSIAN_SET_OP", M, "", RANDOM, "gaussian", cost=277690384),
)

NUM_OPS = len(OPS)
assert all(op.id == i for i, op in enumerate(OPS)), "op ids must equal their table position"

BY_NAME = {op.name: op for op in OPS}


def op(id_or_name: int | str) -> OpDef:
    """Look an op up by id or by its reference code name (with or without the `_OP` suffix)."""
    if isinstance(id_or_name, int):
        return OPS[id_or_name]
    name = id_or_name.upper()
    return BY_NAME.get(name) or BY_NAME[name + "_OP"]


def ops_spelled(spelling: str) -> tuple[OpDef, ...]:
    """All ops sharing one source spelling (`*` is OP3, 18, 25, 29 or 41), for the parser and its hints."""
    return tuple(o for o in OPS if o.spelling == spelling)


FUNCTION_NAMES = tuple(sorted({o.spelling for o in OPS if o.form in (CALL, RANDOM)}))
INFIX_SYMBOLS = ("+", "-", "*", "/")
