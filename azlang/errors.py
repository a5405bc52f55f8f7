"""Errors of every stage: a source location and a message, rendered with the line and a caret."""

from __future__ import annotations

from dataclasses import dataclass


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
            src_lines = text.splitlines()
            if 1 <= self.loc.line <= len(src_lines):
                line = src_lines[self.loc.line - 1]
                lines.append(f"  {line}")
                lines.append("  " + " " * (self.loc.col - 1) + "^" * max(1, self.loc.length))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()


class ParseError(AzError):
    """The text is not a well-formed `.az` program."""


class VerifyError(AzError):
    """The program is well-formed but breaks a typing or component rule."""


class TaskSpecError(AzError):
    """A task spec cannot be understood or its data cannot be had."""


class ConfigError(AzError):
    """An experiment configuration or a command-line value is wrong."""
