"""Syntax stage: `.az` text -> Lark parse tree, with Lark's errors turned into ParseError."""

from __future__ import annotations

from functools import lru_cache

from lark import Lark, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from azlang.errors import Loc, ParseError, normalise_newlines
from azlang.resources import resource_path

# How terminals read in messages; string terminals (punctuation, keywords) read as themselves.
_TERMINAL_WORDS = {
    "_NL": "end of line",
    "$END": "end of file",
    "NAME": "a name",
    "NUMBER": "a number",
    "COMMENT": "a comment",
    "INFIX_OP": "an operator",
}


@lru_cache(maxsize=1)
def get_parser() -> Lark:
    """The grammar compiled once per process (LALR: fast enough to reparse every searched program)."""
    text = resource_path("grammar", "az.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _normalise(text: str) -> str:
    # The grammar ends every line in a newline; a file's last line may lack one, and a BOM is no content.
    # Old Mac line ends (a lone \r) are line ends too, as they are when a file is read in text mode.
    text = normalise_newlines(text.removeprefix("\ufeff"))
    return text if text.endswith("\n") else text + "\n"


def parse_tree(text: str, filename: str = "<string>") -> Tree:
    """Parse text into a tree; any syntax problem becomes a ParseError pointing at its line and column."""
    try:
        return get_parser().parse(_normalise(text))
    except UnexpectedInput as exc:
        raise _convert(exc, text, filename) from None


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    try:
        pattern = get_parser().get_terminal(name).pattern
    except KeyError:
        return name
    return f"'{pattern.value}'" if pattern.type == "str" else name.lower()


def _expected(exc: UnexpectedInput) -> str | None:
    names = sorted({_describe_terminal(n) for n in (getattr(exc, "expected", None) or ())})
    return f"expected {', '.join(names)}" if names else None


def _convert(exc: UnexpectedInput, text: str, filename: str) -> ParseError:
    line, col = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedCharacters):
        message = f"unexpected character {exc.char!r}"
    elif isinstance(exc, UnexpectedToken):
        message = f"unexpected {_token_words(exc.token)}"
    elif isinstance(exc, UnexpectedEOF):
        message = "unexpected end of file"
    else:  # pragma: no cover - Lark has no other kinds today
        message = "syntax error"
    loc = Loc(filename, line, col, _token_length(exc))
    return ParseError(message, loc, hint=_expected(exc), source=text)


def _token_words(token) -> str:
    if token.type in ("_NL", "$END"):
        return _TERMINAL_WORDS[token.type]
    return f"'{token.value}'"


def _token_length(exc: UnexpectedInput) -> int:
    token = getattr(exc, "token", None)
    if token is None or token.type in ("_NL", "$END"):
        return 1
    return max(1, len(str(token.value)))
