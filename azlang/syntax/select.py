"""Syntax stage: one instruction line -> an IR Instruction, its op chosen from the op table by kinds."""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Tree

from azlang.errors import Loc, ParseError, VerifyError
from azlang.ir.nodes import Index, Instruction, Param
from azlang.ir.ops import OpDef
from azlang.syntax import hints
from azlang.syntax.lookup import (
    CALL_OPS,
    CONST_OPS,
    FIXED_EXTRA_ARGS,
    INDEX_SET_OPS,
    INFIX_OPS,
    NOOP_CALLS,
    NOOP_OP,
    NOOP_WORDS,
    RANDOM_NAMES,
    RANDOM_OPS,
    RECIP_NUMERATOR,
    RECIP_OPS,
    RECIP_SYMBOL,
    SHAPE_NAME,
    SWAPPABLE_INFIX,
    call_ops,
    canonical_function,
)
from azlang.syntax.numbers import is_integer_text
from azlang.syntax.operands import (
    Call,
    Name,
    Num,
    Reg,
    Tup,
    bad_register,
    loc_of,
    name_operand,
    to_operand,
)
from azlang.syntax.values import reg_operand, value_arg

MAX_INDEX = 2**31 - 1  # a position in a vector or matrix row; the bytecode holds it exactly, F is far smaller


@dataclass
class Scope:
    """What resolving names needs: the file (for locations) and the params declared so far."""

    file: str
    params: dict[str, Param] = field(default_factory=dict)


def build_instruction(stmt: Tree, scope: Scope) -> Instruction:
    """An `assign` or `bare` statement -> Instruction (location set, comments left to the caller)."""
    loc = loc_of(stmt, scope.file)
    if stmt.data == "bare":
        return _bare(stmt.children[0], scope, loc)
    target, expr = stmt.children
    if target.data == "index_target":
        return _index_set(target, expr, scope, loc)
    dest = _dest(target.children[0], scope)
    if isinstance(expr, Tree) and expr.data == "infix":
        return _infix(dest, expr, scope, loc)
    rhs = to_operand(expr, scope.file)
    if isinstance(rhs, Call):
        return _call(dest, rhs, scope, loc)
    return _const(dest, rhs, scope, loc)


def _make(op: OpDef, dest: Reg | None, regs=(), args=(), loc: Loc | None = None) -> Instruction:
    addrs = [r.addr for r in regs] + [0, 0]
    return Instruction(op.id, dest.addr if dest else 0, addrs[0], addrs[1], tuple(args), loc=loc)


def _bare(node, scope: Scope, loc: Loc) -> Instruction:
    rhs = None if isinstance(node, Tree) and node.data == "infix" else to_operand(node, scope.file)
    if isinstance(rhs, Name) and rhs.name in (NOOP_OP.spelling, *NOOP_WORDS):
        return _make(NOOP_OP, None, loc=loc)
    if isinstance(rhs, Call) and rhs.name in NOOP_CALLS:
        if rhs.args or rhs.kwargs:
            raise VerifyError(f"{rhs.name}() takes no arguments", rhs.loc)
        return _make(NOOP_OP, None, loc=loc)
    raise VerifyError(
        "an instruction must assign to a register", loc, hint="write it as `REGISTER = ...`, e.g. s2 = ..."
    )


def _dest(token, scope: Scope) -> Reg:
    target = name_operand(token, scope.file)
    if isinstance(target, Reg):
        return target
    if target.name in scope.params:
        raise VerifyError(f"cannot assign to param '{target.name}'", target.loc, hint="params are constants")
    raise bad_register(target.name, target.loc)


def _pick(ops: list[OpDef], dest: Reg, form: str, loc: Loc) -> OpDef:
    fits = [o for o in ops if o.out == dest.kind]
    if not fits:
        raise hints.wrong_destination(form, ops[0].out, dest, loc)
    return fits[0]


def _const(dest: Reg, rhs, scope: Scope, loc: Loc) -> Instruction:
    if isinstance(rhs, Reg):
        raise VerifyError(
            "a register copy is not an op", loc, hint=f"no op copies {hints.reg_text(rhs)} into a register"
        )
    if isinstance(rhs, Tup):
        raise ParseError("a tuple is not a value", rhs.loc)
    ops = CONST_OPS.get(dest.kind)
    if not ops:
        example = _element_example(dest)
        raise VerifyError(
            f"{hints.a_kind(dest.kind)} cannot be set from one number", loc, hint=f"set one element: {example}"
        )
    return _make(ops[0], dest, args=(value_arg(rhs, scope, ops[0].float32_data),), loc=loc)


def _element_example(dest: Reg) -> str:
    n = len(INDEX_SET_OPS[dest.kind][0].data_fields) - 1
    return f"{hints.reg_text(dest)}[{', '.join(['0'] * n)}] = 1.0"


def _infix(dest: Reg, tree: Tree, scope: Scope, loc: Loc) -> Instruction:
    left, sym_token, right = tree.children
    sym = str(sym_token)
    lhs, rhs = to_operand(left, scope.file), to_operand(right, scope.file)
    if isinstance(lhs, Num) and sym == RECIP_SYMBOL and not lhs.negative and lhs.double == float(RECIP_NUMERATOR):
        return _recip(dest, rhs, scope, loc)
    for side in (lhs, rhs):
        if isinstance(side, Num):
            hint = f"only `{RECIP_NUMERATOR} {RECIP_SYMBOL} x` takes a number; set a register to the constant first"
            raise VerifyError(f"a number cannot be an operand of '{sym}'", side.loc, hint=hint)
    a, b = reg_operand(lhs, scope, f"'{sym}'"), reg_operand(rhs, scope, f"'{sym}'")
    ops, swapped = INFIX_OPS.get((sym, (a.kind, b.kind))), False
    if not ops:
        ops, swapped = SWAPPABLE_INFIX.get((sym, (a.kind, b.kind))), True
    if not ops:
        raise hints.no_infix(sym, a, b, loc_of(tree, scope.file))
    op = _pick(ops, dest, f"{a.kind} {sym} {b.kind}", loc_of(tree, scope.file))
    return _make(op, dest, (b, a) if swapped else (a, b), loc=loc)


def _recip(dest: Reg, rhs, scope: Scope, loc: Loc) -> Instruction:
    reg = reg_operand(rhs, scope, f"'{RECIP_NUMERATOR} {RECIP_SYMBOL}'")
    ops = RECIP_OPS[(reg.kind,)]
    op = _pick(ops, dest, f"{RECIP_NUMERATOR} {RECIP_SYMBOL} {reg.kind}", loc)
    return _make(op, dest, (reg,), loc=loc)


def _call(dest: Reg, call: Call, scope: Scope, loc: Loc) -> Instruction:
    name = canonical_function(call.name)
    if name in RANDOM_NAMES:
        return _random(dest, call, name, scope, loc)
    if name not in CALL_OPS:
        if name in NOOP_CALLS:
            raise VerifyError(f"{name}() stands alone on its line; it assigns nothing", call.loc)
        raise hints.unknown_function(call.name, call.name_loc)
    args = _drop_fixed_extra(name, call, scope)
    arities = sorted({o.arity for o in call_ops(name)})
    if len(args) not in arities:
        raise VerifyError(f"{name} takes {_count(arities)}, got {len(args)}", call.loc)
    regs = [reg_operand(a, scope, name) for a in args]
    axis = _axis(call, scope)
    kinds = tuple(r.kind for r in regs)
    return _make(_call_op(name, regs, kinds, axis, dest, call.loc), dest, regs, loc=loc)


def _call_op(name: str, regs, kinds, axis, dest: Reg, loc: Loc) -> OpDef:
    exact = call_ops(name, kinds, axis, dest.kind)
    if exact:
        return exact[0]
    same = call_ops(name, kinds, axis)
    if same:
        form = hints.call_form(name, regs, axis)
        raise hints.wrong_destination(form, same[0].out, dest, loc, hints.alternatives(name, regs, dest))
    if call_ops(name, kinds):
        raise hints.axis_message(name, regs, axis, dest, loc)
    raise hints.no_call(name, regs, loc)


def _count(arities) -> str:
    words = " or ".join(str(n) for n in arities)
    return f"{words} argument{'s' if arities[-1] != 1 else ''}"


def _drop_fixed_extra(name: str, call: Call, scope: Scope) -> tuple:
    """`heaviside(x, 1.0)`: accept the C++ printer's fixed extra argument, and only its one value."""
    fixed, args = FIXED_EXTRA_ARGS.get(name), call.args
    if fixed is None or len(args) != max(o.arity for o in call_ops(name)) + 1:
        return args
    extra = args[-1]
    if not (isinstance(extra, Num) and extra.double == fixed):
        hint = f"the op fixes its value at 0 (docs/ops.md); write {name}(x) or {name}(x, {fixed!r})"
        raise VerifyError(f"the last argument of {name} must be {fixed!r}", extra.loc, hint=hint)
    return args[:-1]


def _axis(call: Call, scope: Scope) -> int | None:
    for key in call.kwargs:
        if key != "axis":
            raise VerifyError(f"unknown keyword '{key}'", call.kwargs[key].loc, hint="only axis= is accepted")
    value = call.kwargs.get("axis")
    if value is None:
        return None
    if not (isinstance(value, Num) and not value.negative and is_integer_text(value.text)):
        raise VerifyError("axis must be 0 or 1", value.loc)
    return int(value.text)


def _random(dest: Reg, call: Call, name: str, scope: Scope, loc: Loc) -> Instruction:
    op = RANDOM_OPS[(name, dest.kind)][0]
    if call.kwargs:
        key = next(iter(call.kwargs))
        raise VerifyError(f"{name} takes no keyword arguments", call.kwargs[key].loc)
    if len(call.args) not in (2, 3):
        raise VerifyError(f"{name} takes 2 arguments (and optionally a size), got {len(call.args)}", call.loc)
    if len(call.args) == 3:
        _check_size(call.args[2], dest, name)
    args = tuple(value_arg(a, scope, op.float32_data) for a in call.args[:2])
    return _make(op, dest, args=args, loc=loc)


def _size_text(kind: str) -> str | None:
    # A vector has one dimension of n_features, a matrix two; a scalar has none.
    dims = {"s": 0, "v": 1, "m": 2}[kind]
    if dims == 0:
        return None
    return SHAPE_NAME if dims == 1 else f"({', '.join([SHAPE_NAME] * dims)})"


def _is_size(arg, text: str | None) -> bool:
    if isinstance(arg, Name):
        return arg.name == text
    if isinstance(arg, Tup):
        return all(isinstance(i, Name) and i.name == SHAPE_NAME for i in arg.items) and _size_text("m") == text
    return False


def _check_size(arg, dest: Reg, name: str) -> None:
    expected = _size_text(dest.kind)
    if expected is None:
        raise VerifyError(f"{name} into a scalar takes no size argument", arg.loc, hint=f"write {name}(lo, hi)")
    if not _is_size(arg, expected):
        raise VerifyError(f"{name} into {hints.a_kind(dest.kind)} takes the size {expected}", arg.loc)


def _index_set(target: Tree, expr, scope: Scope, loc: Loc) -> Instruction:
    token, *index_nodes = target.children
    dest = _dest(token, scope)
    ops = INDEX_SET_OPS.get(dest.kind)
    if not ops:
        raise VerifyError(
            f"{hints.a_kind(dest.kind)} has no elements to index",
            loc_of(target, scope.file),
            hint=f"write {hints.reg_text(dest)} = value",
        )
    op = ops[0]
    need = len(op.data_fields) - 1
    if len(index_nodes) != need:
        raise VerifyError(
            f"an element of {hints.a_kind(dest.kind)} takes {need} ind{'ex' if need == 1 else 'ices'}",
            loc_of(target, scope.file),
            hint=f"e.g. {_element_example(dest)}",
        )
    indices = tuple(_index(to_operand(n, scope.file)) for n in index_nodes)
    if isinstance(expr, Tree) and expr.data == "infix":
        raise VerifyError("an element can only be set to a number or a param", loc_of(expr, scope.file))
    value = value_arg(to_operand(expr, scope.file), scope, op.float32_data)
    return _make(op, dest, args=(*indices, value), loc=loc)


def _index(node) -> Index:
    """Integer text is a position; decimal text in [0, 1) is a fraction of F, kept as float32 like the reference."""
    if not isinstance(node, Num):
        raise ParseError("an index must be a literal number", node.loc, hint="params cannot stand for indices")
    if node.negative:
        raise ParseError("an index cannot be negative", node.loc)
    if is_integer_text(node.text):
        if len(node.text) > len(str(MAX_INDEX)) or int(node.text) > MAX_INDEX:
            raise ParseError(f"index {node.text[:20]}{'...' if len(node.text) > 20 else ''} is too large", node.loc,
                             hint=f"an element index lies below F; indices above {MAX_INDEX} address nothing")
        return Index(int(node.text), fraction=False)
    value = node.float32
    if value >= 1.0:
        hint = "a decimal index is a fraction of F in [0, 1); write an integer for a position, e.g. 5"
        raise ParseError(f"index {node.text} is not a fraction below 1", node.loc, hint=hint)
    return Index(value, fraction=True)
