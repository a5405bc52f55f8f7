"""Syntax stage: `.az` text <-> IR Program (parse, print, load)."""

from __future__ import annotations

from pathlib import Path

from azlang.errors import AzError, Loc, ParseError
from azlang.ir.nodes import Program
from azlang.ir.verify import verify
from azlang.syntax.printer import format_instruction, print_program


def parse(text: str, filename: str = "<string>") -> Program:
    """Parse and verify `.az` source; raises ParseError or VerifyError with a location and the source."""
    from azlang.syntax.parser import parse_tree  # Lark: loaded by the first parse, not by printing (evolve's end)
    from azlang.syntax.to_ir import to_program

    try:
        try:
            return verify(to_program(parse_tree(text, filename), text, filename))
        except RecursionError:  # a safety net: the parser bounds nesting itself, this names what else ran deep
            raise ParseError("the program is nested too deeply to read", Loc(filename, 1, 1), source=text) from None
    except AzError as err:
        if err.source is None:
            err.source = text  # so str(err) shows the line and the caret
        raise


def load(path: str | Path) -> Program:
    """Read and parse a `.az` file; locations name the path as given."""
    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), str(path))  # text mode: \r\n and \r arrive as \n


__all__ = ["format_instruction", "load", "parse", "print_program"]
