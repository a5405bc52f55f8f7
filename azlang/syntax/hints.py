"""Syntax stage: the error messages of op selection, each naming the nearest legal form where one exists."""

from __future__ import annotations

import difflib

from azlang.errors import Loc, VerifyError
from azlang.ir.ops import OpDef
from azlang.syntax.lookup import KNOWN_FUNCTIONS, call_ops
from azlang.syntax.operands import KIND_WORDS, Reg

_INFIX_VERBS = {
    "+": "adds {a} to {b}",
    "-": "subtracts {b} from {a}",
    "*": "multiplies {a} by {b}",
    "/": "divides {a} by {b}",
}
# What an axis reduction gives, for messages: axis=0 reduces over rows, so it gives one value per column.
_AXIS_PER = {0: "column", 1: "row"}
_PLURALS = {"mean": "means", "std": "standard deviations", "norm": "norms"}


def reg_text(reg: Reg) -> str:
    return f"{reg.kind}{reg.addr}"


def a_kind(kind: str) -> str:
    return f"a {KIND_WORDS[kind]}"


def suggest(name: str, choices) -> str | None:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(close)}?" if close else None


def unknown_function(name: str, loc: Loc) -> VerifyError:
    return VerifyError(f"unknown function '{name}'", loc, hint=suggest(name, KNOWN_FUNCTIONS))


def no_infix(sym: str, a: Reg, b: Reg, loc: Loc) -> VerifyError:
    """No op takes these two kinds: say so in words, and how to get there when a broadcast would."""
    message = "no op " + _INFIX_VERBS[sym].format(a=a_kind(a.kind), b=a_kind(b.kind))
    kinds = {a.kind, b.kind}
    if kinds == {"s", "v"}:
        scalar = a if a.kind == "s" else b
        message += f"; use bcast({reg_text(scalar)}) into a vector first"
    hint = None
    if kinds == {"m", "v"} and sym == "*":
        hint = "dot(m, v) multiplies a matrix by a vector; outer(v, v) makes a matrix"
    return VerifyError(message, loc, hint=hint)


def wrong_destination(form: str, gives: str, dest: Reg, loc: Loc, hint: str | None = None) -> VerifyError:
    message = f"{form} gives {a_kind(gives)}, not {a_kind(dest.kind)}"
    return VerifyError(message, loc, hint=hint or f"write it to a {gives} register, e.g. {gives}{dest.addr}")


def call_form(name: str, regs, axis: int | None = None) -> str:
    inside = ", ".join(reg_text(r) if isinstance(r, Reg) else r for r in regs)
    return f"{name}({inside}{'' if axis is None else f', axis={axis}'})"


def kinds_form(name: str, kinds, axis: int | None = None) -> str:
    return call_form(name, kinds, axis)


def axis_message(name: str, regs, axis: int | None, dest: Reg, loc: Loc) -> VerifyError:
    """The kinds fit but the axis does not: name what this axis would mean and which form exists."""
    kinds = tuple(r.kind for r in regs)
    others = [o for o in call_ops(name, kinds) if o.axis is not None]
    if axis is not None and not others:
        return VerifyError(f"{kinds_form(name, kinds)} takes no axis", loc, hint=f"write {call_form(name, regs)}")
    if axis is None:
        return _missing_axis(name, regs, dest, loc)
    if axis not in _AXIS_PER:
        return VerifyError(f"axis must be 0 or 1, not {axis}", loc)
    plural = _PLURALS.get(name, f"{name} values")
    parts = [f"{_AXIS_PER[axis]} {plural} are not an op"]
    parts += [f"{call_form(name, regs, o.axis)} gives {_AXIS_PER[o.axis]} {plural}" for o in others]
    return VerifyError("; ".join(parts), loc)


def _missing_axis(name: str, regs, dest: Reg, loc: Loc) -> VerifyError:
    kinds = tuple(r.kind for r in regs)
    fits = call_ops(name, kinds, out=dest.kind)
    forms = " or ".join(call_form(name, regs, o.axis) for o in fits)
    return VerifyError(f"{kinds_form(name, kinds)} needs an axis", loc, hint=f"write {forms}" if forms else None)


def no_call(name: str, regs, loc: Loc) -> VerifyError:
    kinds = tuple(r.kind for r in regs)
    signatures = sorted({"(" + ", ".join(o.ins) + ")" for o in call_ops(name)})
    message = f"no op {kinds_form(name, kinds)}"
    return VerifyError(message, loc, hint=f"{name} takes {' or '.join(signatures)}")


def alternatives(name: str, regs, dest: Reg) -> str | None:
    """Other forms of the same function that do write the destination's kind."""
    kinds = tuple(r.kind for r in regs)
    fits: list[OpDef] = call_ops(name, kinds, out=dest.kind)
    if not fits:
        return None
    forms = " or ".join(call_form(name, regs, o.axis) for o in fits)
    return f"{forms} gives {a_kind(dest.kind)}"
