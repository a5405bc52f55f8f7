"""Test support: hypothesis strategies for well-typed IR drawn from the op table (shared by test files)."""

from __future__ import annotations

from hypothesis import strategies as st

from azlang.ir.nodes import Index, Instruction, MemoryShape, Param, ParamRef, Program
from azlang.ir.ops import OPS, OpDef

DEFAULT_SHAPE = MemoryShape(S=6, V=4, M=3)
PARAM_NAMES = ("lr", "init_sd", "bias0", "alpha", "beta_2", "_w", "eps", "a")


def usable_ops(shape: MemoryShape) -> tuple[OpDef, ...]:
    """Ops whose every register kind has at least one register in `shape`."""
    return tuple(o for o in OPS if all(shape.size(k) > 0 for k in (*o.ins, *([o.out] if o.out else []))))


def doubles(max_magnitude: float | None = None):
    """Finite doubles (OP56 values, param values), optionally bounded."""
    if max_magnitude is None:
        return st.floats(allow_nan=False, allow_infinity=False)
    return st.floats(-max_magnitude, max_magnitude)


def float32s(max_magnitude: float | None = None):
    """Finite float32 values (OP57-64 constants), as Python floats."""
    if max_magnitude is None:
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    return st.floats(-max_magnitude, max_magnitude, width=32)


def indices(F: int | None = None, max_index: int = 15):
    """OP57/58 indices: integer positions (< F when F is given) or float32 fractions in [0, 1)."""
    top = (F - 1) if F is not None else max_index
    ints = st.integers(0, top).map(lambda i: Index(i, fraction=False))
    fracs = st.floats(0.0, 1.0, exclude_max=True, width=32).map(lambda x: Index(abs(x), fraction=True))
    return st.one_of(ints, fracs)


def _value(draw, float32: bool, refs: tuple[ParamRef, ...], max_magnitude):
    numbers = float32s(max_magnitude) if float32 else doubles(max_magnitude)
    if refs:
        return draw(st.one_of(numbers, st.sampled_from(refs)))
    return draw(numbers)


def _args(draw, od: OpDef, refs, F, max_magnitude) -> tuple:
    args = []
    for name in od.data_fields:
        if name in ("index", "row", "col"):
            args.append(draw(indices(F)))
        else:
            args.append(_value(draw, od.float32_data, refs, max_magnitude))
    return tuple(args)


@st.composite
def instructions(
    draw, shape: MemoryShape = DEFAULT_SHAPE, F: int | None = None, params=(), ops=None, max_magnitude=None
):
    """One valid instruction: an op from the table (or from `ops`), addresses inside `shape`, unused fields 0.

    `params` are names (or Params) a constant may refer to.
    """
    od = draw(st.sampled_from(tuple(ops) if ops is not None else usable_ops(shape)))

    def addr(kind: str) -> int:
        return draw(st.integers(0, shape.size(kind) - 1))

    out = addr(od.out) if od.out else 0
    ins = [addr(k) for k in od.ins] + [0, 0]
    refs = tuple(ParamRef(p.name if isinstance(p, Param) else p) for p in params)
    return Instruction(od.id, out, ins[0], ins[1], _args(draw, od, refs, F, max_magnitude))


@st.composite
def param_lists(draw, max_params: int = 3, max_magnitude=None):
    names = draw(st.lists(st.sampled_from(PARAM_NAMES), unique=True, max_size=max_params))
    return tuple(Param(n, draw(doubles(max_magnitude))) for n in names)


@st.composite
def programs(
    draw,
    max_size: int = 8,
    shape: MemoryShape = DEFAULT_SHAPE,
    F: int | None = None,
    with_params: bool = True,
    ops=None,
    max_magnitude=None,
):
    """A valid Program: random params (optional) and up to `max_size` instructions per component."""
    params = draw(param_lists(max_magnitude=max_magnitude)) if with_params else ()
    ins = instructions(shape, F, params, ops, max_magnitude)
    comps = [draw(st.lists(ins, max_size=max_size)) for _ in range(3)]
    return Program.of(*comps, params=params)
