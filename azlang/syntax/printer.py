"""Syntax stage: IR Program -> canonical `.az` text (the inverse of the parser, deterministic)."""

from __future__ import annotations

from azlang.ir.nodes import COMPONENTS, Component, Index, Instruction, Param, ParamRef, Program
from azlang.ir.ops import CALL, CONST, INDEX_SET, INFIX, NOOP, RANDOM, RECIP, OpDef
from azlang.syntax.numbers import format_double, format_float32, format_index

INDENT = "  "


def format_comment(text: str) -> str:
    text = text.rstrip()
    return text if text.startswith("#") else f"# {text}"


def format_value(value, float32: bool) -> str:
    """A constant argument: a param's name, or the shortest literal for the width the op stores."""
    if isinstance(value, ParamRef):
        return value.name
    if isinstance(value, Index):
        return format_index(value)
    return format_float32(value) if float32 else format_double(value)


def _reg(kind: str, addr: int) -> str:
    return f"{kind}{addr}"


def format_instruction(ins: Instruction) -> str:
    """One instruction in its canonical spelling, without indent or comments."""
    od: OpDef = ins.opdef
    if od.form == NOOP:
        return od.spelling
    out = _reg(od.out, ins.out)
    ins_regs = [_reg(k, a) for k, a in zip(od.ins, (ins.in1, ins.in2))]
    values = [format_value(v, od.float32_data) for v in ins.args]
    if od.form == INFIX:
        return f"{out} = {ins_regs[0]} {od.spelling} {ins_regs[1]}"
    if od.form == RECIP:
        return f"{out} = {od.spelling} {ins_regs[0]}"
    if od.form == CALL:
        axis = "" if od.axis is None else f", axis={od.axis}"
        return f"{out} = {od.spelling}({', '.join(ins_regs)}{axis})"
    if od.form == CONST:
        return f"{out} = {values[0]}"
    if od.form == INDEX_SET:
        return f"{out}[{', '.join(values[:-1])}] = {values[-1]}"
    if od.form == RANDOM:
        return f"{out} = {od.spelling}({', '.join(values)})"
    raise ValueError(f"op {od.id} has unknown form {od.form!r}")


def _with_trailing(text: str, trailing: str | None) -> str:
    return f"{text}  {format_comment(trailing)}" if trailing else text


def _param_lines(param: Param) -> list[str]:
    lines = [format_comment(c) for c in param.comments]
    lines.append(_with_trailing(f"param {param.name} = {format_double(param.value)}", param.trailing))
    return lines


def _component_lines(name: str, comp: Component) -> list[str]:
    lines = [format_comment(c) for c in comp.comments]
    lines.append(_with_trailing(f"def {name.capitalize()}():", comp.header_comment))
    for ins in comp.instructions:
        lines += [INDENT + format_comment(c) for c in ins.comments]
        lines.append(INDENT + _with_trailing(format_instruction(ins), ins.trailing))
    lines += [INDENT + format_comment(c) for c in comp.footer]
    return lines


def print_program(program: Program) -> str:
    """Params first, then Setup, Predict and Learn, one blank line apart; comments kept; ends in a newline."""
    blocks = []
    if program.params:
        blocks.append([line for p in program.params for line in _param_lines(p)])
    blocks += [_component_lines(n, c) for n, c in zip(COMPONENTS, program.components())]
    if program.footer:
        blocks.append([format_comment(c) for c in program.footer])
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"
