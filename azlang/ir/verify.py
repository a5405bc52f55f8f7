"""IR stage: the verifier, checking a Program against the op table, the param rules and a memory shape."""

from __future__ import annotations

import math
import re

from azlang.errors import Loc, VerifyError
from azlang.ir.nodes import Component, Index, Instruction, MemoryShape, Param, ParamRef, Program, f32
from azlang.ir.ops import NUM_OPS, OPS

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_BANK_LIKE = re.compile(r"[svm]\d*")


def verify(program: Program, shape: MemoryShape | None = None, F: int | None = None) -> Program:
    """Raise VerifyError on the first broken rule; return the program unchanged so calls can chain."""
    if not isinstance(program, Program) or not all(isinstance(c, Component) for c in program.components()):
        raise VerifyError("not a Program with Setup, Predict and Learn components")
    declared = _verify_params(program)
    for _, _, ins in program.instructions():
        _verify_instruction(ins, declared, program.source)
        if shape is not None:
            _verify_addresses(ins, shape, program.source)
        if F is not None:
            _verify_indices(ins, F, program.source)
    return program


def _fail(message: str, loc: Loc | None, hint: str | None = None) -> VerifyError:
    return VerifyError(message, loc, hint=hint)


def _verify_params(program: Program) -> dict[str, Param]:
    declared: dict[str, Param] = {}
    for p in program.params:
        if not _PARAM_NAME.fullmatch(p.name) or _BANK_LIKE.fullmatch(p.name):
            raise _fail(f"'{p.name}' cannot name a param", p.loc, "param names must not look like registers")
        if p.name in declared:
            raise _fail(f"param '{p.name}' declared twice", p.loc)
        if isinstance(p.value, bool) or not isinstance(p.value, (int, float)) or not math.isfinite(p.value):
            raise _fail(f"param '{p.name}' needs a finite number, not {p.value!r}", p.loc)
        declared[p.name] = p
    return declared


def _verify_instruction(ins: Instruction, declared: dict[str, Param], source) -> None:
    if not isinstance(ins.op, int) or not 0 <= ins.op < NUM_OPS:
        raise _fail(f"no op with id {ins.op!r}", ins.loc)
    od = OPS[ins.op]
    for field_name in ("out", "in1", "in2"):
        addr = getattr(ins, field_name)
        if isinstance(addr, bool) or not isinstance(addr, int) or addr < 0:
            raise _fail(f"{field_name} of OP{od.id} must be a non-negative integer, not {addr!r}", ins.loc)
    if len(ins.args) != len(od.data_fields):
        raise _fail(f"OP{od.id} takes {len(od.data_fields)} constants {od.data_fields}, got {len(ins.args)}", ins.loc)
    for name, arg in zip(od.data_fields, ins.args):
        _verify_arg(od, name, arg, declared, ins)


def _verify_arg(od, name: str, arg, declared: dict[str, Param], ins: Instruction) -> None:
    is_index = name in ("index", "row", "col")
    if is_index:
        _verify_index(arg, ins)
    elif isinstance(arg, ParamRef):
        _verify_param_use(arg, declared, ins)
    elif isinstance(arg, bool) or not isinstance(arg, (int, float)) or not math.isfinite(arg):
        raise _fail(f"the {name} of OP{od.id} must be a finite number or a param, not {arg!r}", ins.loc)
    elif od.float32_data and f32(arg) != arg:
        raise _fail(
            f"the {name} of OP{od.id} is stored as float32; {arg!r} is not a float32 value",
            ins.loc,
            "round it with azlang.ir.nodes.f32",
        )


def _verify_index(arg, ins: Instruction) -> None:
    if not isinstance(arg, Index):
        raise _fail(f"OP{ins.op} needs an Index, not {arg!r}", ins.loc)
    if arg.fraction and not (0.0 <= arg.value < 1.0 and f32(arg.value) == arg.value):
        raise _fail(f"index fraction {arg.value!r} must be a float32 in [0, 1)", ins.loc)
    if not arg.fraction and (arg.value < 0 or arg.value != int(arg.value)):
        raise _fail(f"index {arg.value!r} must be a non-negative integer", ins.loc)


def _verify_param_use(ref: ParamRef, declared: dict[str, Param], ins: Instruction) -> None:
    param = declared.get(ref.name)
    if param is None:
        raise _fail(f"unknown param '{ref.name}'", ins.loc, "declare it with param NAME = NUMBER")
    if param.loc and ins.loc and param.loc.file == ins.loc.file and param.loc.line > ins.loc.line:
        raise _fail(f"param '{ref.name}' used before its declaration", ins.loc, f"declared at {param.loc}")


def _verify_addresses(ins: Instruction, shape: MemoryShape, source) -> None:
    regs = list(ins.reads()) + ([ins.writes()] if ins.writes() else [])
    for kind, addr in regs:
        if addr >= shape.size(kind):
            raise _fail(f"{kind}{addr} is outside the memory ({shape.size(kind)} {kind} registers)", ins.loc)


def _verify_indices(ins: Instruction, F: int, source) -> None:
    for arg in ins.args:
        if isinstance(arg, Index) and not arg.fraction and arg.value >= F:
            raise _fail(
                f"index {int(arg.value)} is out of range for F = {F}", ins.loc, f"indices run from 0 to {F - 1}"
            )
