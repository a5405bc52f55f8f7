"""Syntax stage: parse-tree pieces -> typed operands (registers, numbers, names, calls) with locations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token, Tree

from azlang.errors import Loc, ParseError
from azlang.ir.nodes import MAX_MEMORY
from azlang.ir.ops import KINDS
from azlang.syntax.numbers import MAX_LITERAL_CHARS, read_double, read_float32

KIND_WORDS = {"s": "scalar", "v": "vector", "m": "matrix"}
REGISTER_HINT = "registers are s<k> (scalar), v<k> (vector) and m<k> (matrix), k >= 0"
_REGISTER = re.compile(rf"([{''.join(KINDS)}])(\d+)")
_REGISTER_LIKE = re.compile(r"[A-Za-z]\d*")  # `x3`, `s`: meant as a register, not a name
MAX_NESTING = 32  # operands nest at most 2 deep in any valid line; deeper is refused before recursion can fail


@dataclass(frozen=True)
class Reg:
    kind: str
    addr: int
    loc: Loc


@dataclass(frozen=True)
class Num:
    text: str
    negative: bool
    loc: Loc

    @property
    def double(self) -> float:
        return read_double(self.text, self.negative)

    @property
    def float32(self) -> float:
        return read_float32(self.text, self.negative)


@dataclass(frozen=True)
class Name:
    """An identifier that is not a register: a param, `n_features`, `inf`, or a mistake."""

    name: str
    loc: Loc


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple
    kwargs: dict = field(hash=False)
    loc: Loc
    name_loc: Loc


@dataclass(frozen=True)
class Tup:
    items: tuple
    loc: Loc


def loc_of(node, file: str) -> Loc:
    """Location of a token or a tree (needs propagate_positions); the span covers it if on one line."""
    src = node if isinstance(node, Token) else node.meta
    end_line = getattr(src, "end_line", src.line)
    end_col = getattr(src, "end_column", None)
    length = end_col - src.column if end_col and end_line == src.line else 1
    return Loc(file, src.line, src.column, max(1, length))


def is_register_name(name: str) -> bool:
    return _REGISTER.fullmatch(name) is not None


def looks_like_register(name: str) -> bool:
    return is_register_name(name) or _REGISTER_LIKE.fullmatch(name) is not None


def bad_register(name: str, loc: Loc) -> ParseError:
    return ParseError(f"'{name}' is not a register", loc, hint=REGISTER_HINT)


def name_operand(token: Token, file: str):
    """A NAME token: a register when it is spelled like one, else a Name for the caller to judge."""
    loc = loc_of(token, file)
    match = _REGISTER.fullmatch(str(token))
    if match:
        return Reg(match.group(1), _address(match.group(1), match.group(2), loc), loc)
    return Name(str(token), loc)


def _address(kind: str, digits: str, loc: Loc) -> int:
    # Compare the digits as text first: int() of thousands of digits is refused (and slow) before any bound.
    limit = MAX_MEMORY.size(kind)
    if len(digits.lstrip("0")) > len(str(limit)) or int(digits) >= limit:
        raise ParseError(
            f"register {kind}{digits[:20]}{'...' if len(digits) > 20 else ''} is beyond the memory limit",
            loc,
            hint=f"{KIND_WORDS[kind]} registers are {kind}0 to {kind}{limit - 1}",
        )
    return int(digits)


def to_operand(node, file: str, depth: int = 0):
    """Convert an operand subtree of the grammar."""
    kind = node.data
    if depth > MAX_NESTING:
        raise ParseError(f"operands nested more than {MAX_NESTING} deep", loc_of(node, file),
                         hint="calls cannot be nested; compute the inner call into a register first")
    if kind == "name":
        return name_operand(node.children[0], file)
    if kind == "number":
        return _number(node, file)
    if kind == "tuple":
        return Tup(tuple(to_operand(c, file, depth + 1) for c in node.children), loc_of(node, file))
    if kind == "call":
        return _call(node, file, depth)
    raise AssertionError(f"unexpected operand node {kind}")  # the grammar has no other operand rules


def _number(node: Tree, file: str) -> Num:
    text = str(node.children[-1])
    if len(text) > MAX_LITERAL_CHARS:
        raise ParseError(
            f"number literal of {len(text)} characters is too long (at most {MAX_LITERAL_CHARS})",
            loc_of(node, file),
            hint="a double needs at most 17 significant digits; use an exponent, e.g. 1.5e300",
        )
    return Num(text, len(node.children) == 2, loc_of(node, file))


def _call(node: Tree, file: str, depth: int = 0) -> Call:
    name, *rest = node.children
    args, kwargs = [], {}
    for child in rest:
        if isinstance(child, Tree) and child.data == "kwarg":
            key, value = child.children
            if str(key) in kwargs:
                raise ParseError(f"keyword '{key}' given twice", loc_of(key, file))
            kwargs[str(key)] = to_operand(value, file, depth + 1)
        elif kwargs:
            raise ParseError("a positional argument cannot follow a keyword argument", loc_of(child, file))
        else:
            args.append(to_operand(child, file, depth + 1))
    return Call(str(name), tuple(args), kwargs, loc_of(node, file), loc_of(name, file))
