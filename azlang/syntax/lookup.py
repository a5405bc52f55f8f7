"""Syntax stage: op lookups for the parser, all derived from the op table (no per-op lists here)."""

from __future__ import annotations

from collections import defaultdict

from azlang.ir.ops import CALL, CONST, FUNCTION_NAMES, INDEX_SET, INFIX, NOOP, OPS, RANDOM, RECIP, OpDef

# Accepted variant spellings (listed at the end of docs/ops.md): source-level aliases, not ops.
FUNCTION_ALIASES = {"min": "minimum", "max": "maximum"}
NOOP_WORDS = ("pass",)  # bare words meaning no_op, besides its table spelling
NOOP_CALLS = ("NoOp",)  # `NoOp()`, the C++ printer's form
FIXED_EXTRA_ARGS = {"heaviside": 1.0}  # `heaviside(x, 1.0)`, the C++ printer's form
SHAPE_NAME = "n_features"  # `uniform(lo, hi, n_features)`: the optional size argument of random ops


def _by(form: str, key) -> dict:
    table = defaultdict(list)
    for o in OPS:
        if o.form == form:
            table[key(o)].append(o)
    return dict(table)


NOOP_OP: OpDef = next(o for o in OPS if o.form == NOOP)
INFIX_OPS = _by(INFIX, lambda o: (o.spelling, o.ins))  # (symbol, operand kinds) -> ops
RECIP_OPS = _by(RECIP, lambda o: o.ins)  # operand kinds -> ops
CALL_OPS = _by(CALL, lambda o: o.spelling)  # function name -> ops
RANDOM_OPS = _by(RANDOM, lambda o: (o.spelling, o.out))  # (function, destination kind) -> ops
CONST_OPS = _by(CONST, lambda o: o.out)  # destination kind -> ops
INDEX_SET_OPS = _by(INDEX_SET, lambda o: o.out)  # destination kind -> ops
RANDOM_NAMES = tuple(sorted({o.spelling for o in OPS if o.form == RANDOM}))

# `1 / x`: the numerator and symbol of the reciprocal ops' spelling.
RECIP_NUMERATOR, RECIP_SYMBOL = next(o.spelling for o in OPS if o.form == RECIP).split()

# `v * s` for `s * v`: infix ops on mixed kinds may take their operands the other way round.
SWAPPABLE_INFIX = {(o.spelling, o.ins[::-1]): [o] for ops in INFIX_OPS.values() for o in ops if o.ins[0] != o.ins[1]}

KNOWN_FUNCTIONS = tuple(sorted(set(FUNCTION_NAMES) | set(FUNCTION_ALIASES) | set(NOOP_CALLS)))


def canonical_function(name: str) -> str:
    return FUNCTION_ALIASES.get(name, name)


def call_ops(name: str, ins: tuple[str, ...] | None = None, axis="any", out: str | None = None) -> list[OpDef]:
    """Call-form ops named `name`, narrowed by operand kinds, axis and destination kind when given."""
    return [
        o
        for o in CALL_OPS.get(name, ())
        if (ins is None or o.ins == ins) and (axis == "any" or o.axis == axis) and (out is None or o.out == out)
    ]
