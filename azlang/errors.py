"""Errors of every stage: a source location and a message, rendered with the line and a caret."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_BREAK = re.compile(r"\r\n?")
_SHOWN_WIDTH = 120  # a longer source line is shown as a window around the caret


@dataclass(frozen=True)
class Loc:
    """A position in a source file: 1-based line and column, plus the span length for the caret."""

    file: str
    line: int
    col: int
    length: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class AzError(Exception):
    """Base class: every error the library raises on bad input. The CLI turns it into a message and exit 1."""

    def __init__(self, message: str, loc: Loc | None = None, hint: str | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.loc = loc
        self.hint = hint
        self.source = source  # the text the location points into, for render()

    def render(self, source: str | None = None) -> str:
        """`file:line:col: error: message`, then the offending line with a caret, then the hint."""
        text = source if source is not None else self.source
        head = f"{self.loc}: error: {self.message}" if self.loc else f"error: {self.message}"
        lines = [head]
        if self.loc and text is not None:
            src_lines = source_lines(text)
            if 1 <= self.loc.line <= len(src_lines):
                lines.extend(_excerpt(src_lines[self.loc.line - 1], self.loc.col, self.loc.length))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


def normalise_newlines(text: str) -> str:
    """`\r\n` and a lone `\r` become `\n`: the only line break the grammar (and Lark's line count) knows."""
    return _LINE_BREAK.sub("\n", text)


def source_lines(text: str) -> list[str]:
    """The lines exactly as the parser numbers them. Not str.splitlines(): that also breaks at \f, \v, \x1c-\x1e,
    U+0085, U+2028 and U+2029, which are characters within a line for the parser."""
    return normalise_newlines(text.removeprefix("\ufeff")).split("\n")  # the parser drops a BOM too


def _excerpt(line: str, col: int, length: int) -> list[str]:
    """The source line and a caret under `col`; invisible characters shown as `?`, a long line as a window."""
    length = max(1, min(length, len(line) - col + 1, _SHOWN_WIDTH))
    start = max(0, min(col - 1 - _SHOWN_WIDTH // 3, len(line) - _SHOWN_WIDTH))
    shown = line[start:start + _SHOWN_WIDTH]
    # One character per character, so the caret stays in place: tabs kept (and copied below), other
    # non-printing characters (\f, \v, U+2028, NUL...) replaced, since a terminal would act on them.
    shown = "".join(c if c.isprintable() or c == "\t" else "?" for c in shown)
    before = "..." if start > 0 else ""
    after = "..." if start + _SHOWN_WIDTH < len(line) else ""
    pad = "".join(c if c == "\t" else " " for c in shown[:col - 1 - start])
    return [f"  {before}{shown}{after}", "  " + " " * len(before) + pad + "^" * length]


class ParseError(AzError):
    """The text is not a well-formed `.az` program."""


class VerifyError(AzError):
    """The program is well-formed but breaks a typing or component rule."""


class TaskSpecError(AzError):
    """A task spec cannot be understood or its data cannot be had."""


class ConfigError(AzError):
    """An experiment configuration or a command-line value is wrong."""
