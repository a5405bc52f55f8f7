"""Syntax stage: parse tree -> IR Program (components, params, comments), one line at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token, Tree

from azlang.errors import Loc, ParseError, VerifyError, source_lines
from azlang.ir.nodes import COMPONENTS, Component, Instruction, Param, Program
from azlang.syntax.hints import suggest
from azlang.syntax.operands import Name, Num, loc_of, to_operand
from azlang.syntax.select import Scope, build_instruction
from azlang.syntax.values import NOT_LITERALS, value_arg

HEADERS = {name.capitalize(): name for name in COMPONENTS}
# The paper's Figure 2 headers name the registers a component is handed; only those exact lists are accepted.
HEADER_ARGS = {"setup": ((),), "predict": ((), ("v0",)), "learn": ((), ("v0", "s0"))}
RESERVED_NAMES = ("def", "param", "pass", "no_op", "axis", "n_features", *NOT_LITERALS)
_BANK_LIKE = re.compile(r"[svm]\d*")


@dataclass
class _Open:
    """A component being read."""

    name: str
    comments: tuple[str, ...]
    header_comment: str | None
    instructions: list[Instruction] = field(default_factory=list)
    footer: tuple[str, ...] = ()


@dataclass
class _Builder:
    scope: Scope
    source: str
    done: list[_Open] = field(default_factory=list)
    current: _Open | None = None
    pending: list[tuple[str, int]] = field(default_factory=list)  # own-line comments: (text, column)

    def take_pending(self) -> tuple[str, ...]:
        texts = tuple(text for text, _ in self.pending)
        self.pending.clear()
        return texts

    def split_pending(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Indented comments after a component's last line stay in it (footer); the rest go with what follows."""
        n = 0
        if self.current is not None:
            while n < len(self.pending) and self.pending[n][1] > 1:
                n += 1
        inside = tuple(t for t, _ in self.pending[:n])
        after = tuple(t for t, _ in self.pending[n:])
        self.pending.clear()
        return inside, after


def to_program(tree: Tree, source: str, file: str = "<string>") -> Program:
    """Build the Program of a parsed file; component and param rules are checked as lines arrive."""
    b = _Builder(Scope(file), source)
    for line in tree.children:
        _line(b, line)
    return _finish(b)


def _line(b: _Builder, line: Tree) -> None:
    stmt = next((c for c in line.children if isinstance(c, Tree)), None)
    comment = next((str(c).rstrip() for c in line.children if isinstance(c, Token)), None)
    if stmt is None:
        if comment is not None:
            b.pending.append((comment, line.children[0].column))
        return
    if stmt.data == "header":
        _header(b, stmt, comment)
    elif stmt.data == "param":
        _param(b, stmt, comment)
    else:
        _instruction(b, stmt, comment)


def _header(b: _Builder, stmt: Tree, comment: str | None) -> None:
    name_token, *rest = stmt.children
    name = _component_name(b, name_token)
    given = tuple(str(t) for t in rest[0].children) if rest else ()
    if given not in HEADER_ARGS[name]:
        allowed = " or ".join(f"def {name_token}({', '.join(a)}):" for a in HEADER_ARGS[name])
        raise VerifyError(f"unexpected arguments for {name_token}", loc_of(stmt, b.scope.file), hint=f"write {allowed}")
    inside, after = b.split_pending()
    _close(b, inside)
    b.current = _Open(name, after, comment)


def _component_name(b: _Builder, token: Token) -> str:
    loc = loc_of(token, b.scope.file)
    name = HEADERS.get(str(token))
    if name is None:
        raise VerifyError(
            f"unknown component '{token}'",
            loc,
            hint=suggest(str(token), HEADERS) or "components are Setup, Predict and Learn",
        )
    seen = [o.name for o in b.done] + ([b.current.name] if b.current else [])
    if name in seen:
        raise VerifyError(f"duplicate component {token}", loc, hint="each of Setup, Predict and Learn appears once")
    expected = COMPONENTS[len(seen)]
    if name != expected:
        raise VerifyError(
            f"{token} out of order: def {expected.capitalize()}(): comes next",
            loc,
            hint="components come in the order Setup, Predict, Learn",
        )
    return name


def _close(b: _Builder, footer: tuple[str, ...]) -> None:
    if b.current is not None:
        b.current.footer = footer
        b.done.append(b.current)
        b.current = None


def _param(b: _Builder, stmt: Tree, comment: str | None) -> None:
    name_token, value_node = stmt.children
    name, loc = str(name_token), loc_of(name_token, b.scope.file)
    if _BANK_LIKE.fullmatch(name) or name in RESERVED_NAMES:
        raise ParseError(
            f"'{name}' cannot name a param", loc, hint="param names must not look like registers or be reserved words"
        )
    if name in b.scope.params:
        raise VerifyError(f"param '{name}' declared twice", loc, hint=f"first declared at {b.scope.params[name].loc}")
    operand = to_operand(value_node, b.scope.file)
    if isinstance(operand, Name) and operand.name.lower() in NOT_LITERALS:
        value_arg(operand, b.scope, float32=False)  # raises the inf/nan message
    if not isinstance(operand, Num):
        raise ParseError("a param's value must be a number literal", operand.loc)
    value = value_arg(operand, b.scope, float32=False)
    b.scope.params[name] = Param(
        name, value, loc=loc_of(stmt, b.scope.file), comments=b.take_pending(), trailing=comment
    )


def _instruction(b: _Builder, stmt: Tree, comment: str | None) -> None:
    if b.current is None:
        where = "after the components" if b.done else "before def Setup():"
        raise VerifyError(
            f"instruction {where}",
            loc_of(stmt, b.scope.file),
            hint="every instruction belongs to Setup, Predict or Learn",
        )
    ins = build_instruction(stmt, b.scope)
    b.current.instructions.append(_with_comments(ins, b.take_pending(), comment))


def _with_comments(ins: Instruction, comments: tuple[str, ...], trailing: str | None) -> Instruction:
    # Comments are compare=False fields, so this is the same instruction with its notes attached.
    return Instruction(ins.op, ins.out, ins.in1, ins.in2, ins.args, loc=ins.loc, comments=comments, trailing=trailing)


def _finish(b: _Builder) -> Program:
    inside, after = b.split_pending()
    _close(b, inside)
    if len(b.done) < len(COMPONENTS):
        missing = ", ".join(f"def {n.capitalize()}():" for n in COMPONENTS[len(b.done) :])
        raise VerifyError(
            f"missing {missing}",
            _end_loc(b),
            hint="a program has Setup, Predict and Learn, in that order; a body may be empty",
        )
    comps = [Component(tuple(o.instructions), o.comments, o.header_comment, o.footer) for o in b.done]
    return Program(*comps, params=tuple(b.scope.params.values()), source=b.scope.file, footer=after)


def _end_loc(b: _Builder) -> Loc:
    lines = source_lines(b.source.removesuffix("\n").removesuffix("\r"))
    return Loc(b.scope.file, max(1, len(lines)), len(lines[-1]) + 1 if lines else 1)
