"""Syntax stage: operands where an op wants a register, and where it wants a number or a param."""

from __future__ import annotations

import math

from azlang.errors import ParseError, VerifyError
from azlang.ir.nodes import ParamRef
from azlang.syntax.hints import reg_text, suggest
from azlang.syntax.operands import Call, Name, Num, Reg, Tup, bad_register, looks_like_register

NOT_LITERALS = ("inf", "nan", "infinity")


def _not_literal(name: Name) -> ParseError:
    return ParseError(
        f"'{name.name}' is not a number literal", name.loc, hint="inf and nan are not literals; write a finite number"
    )


def reg_operand(operand, scope, user: str) -> Reg:
    """The operand must be a register; say what it is otherwise."""
    if isinstance(operand, Reg):
        return operand
    if isinstance(operand, Num):
        raise VerifyError(
            f"{user} takes registers, not numbers",
            operand.loc,
            hint="set a register to the constant first, e.g. s2 = 0.5",
        )
    if isinstance(operand, Call):
        raise VerifyError("calls cannot be nested", operand.loc, hint="compute the inner call into a register first")
    if isinstance(operand, Tup):
        raise VerifyError(f"{user} takes registers, not a tuple", operand.loc)
    if operand.name.lower() in NOT_LITERALS:
        raise _not_literal(operand)
    if operand.name in scope.params:
        hint = f"set a register to it first, e.g. s2 = {operand.name}"
        raise VerifyError(
            f"param '{operand.name}' cannot be an operand of {user}; ops read registers", operand.loc, hint=hint
        )
    if looks_like_register(operand.name):
        raise bad_register(operand.name, operand.loc)
    raise VerifyError(f"unknown name '{operand.name}'", operand.loc, hint=suggest(operand.name, scope.params))


def value_arg(operand, scope, float32: bool) -> float | ParamRef:
    """A constant argument: a literal (rounded to float32 where the op stores float32) or a declared param."""
    if isinstance(operand, Num):
        value = operand.float32 if float32 else operand.double
        if not math.isfinite(value):
            width, top = ("float32", "3.4028235e+38") if float32 else ("float64", "1.7976931348623157e+308")
            raise ParseError(f"{operand.text} is out of {width} range", operand.loc,
                             hint=f"this op stores a {width}: finite values up to {top} in magnitude")
        return value
    if isinstance(operand, Name):
        return _param_ref(operand, scope)
    if isinstance(operand, Reg):
        raise VerifyError(f"expected a number or a param, not register {reg_text(operand)}", operand.loc)
    raise VerifyError("expected a number or a param", operand.loc)


def _param_ref(name: Name, scope) -> ParamRef:
    if name.name.lower() in NOT_LITERALS:
        raise _not_literal(name)
    if name.name in scope.params:
        return ParamRef(name.name)
    if looks_like_register(name.name):
        raise bad_register(name.name, name.loc)
    hint = suggest(name.name, scope.params) or f"declare it before its first use: param {name.name} = ..."
    raise VerifyError(f"unknown param '{name.name}'", name.loc, hint=hint)
