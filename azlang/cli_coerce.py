"""CLI stage: coercion of `azc` command-line values without pydantic, for the plain kinds azc's commands use.

Why this exists: typer 0.29 coerces every non-flag parameter through a pydantic TypeAdapter built on first use.
Importing pydantic and building ~20 adapters costs ~80 ms of CPU on every `azc evolve`, before any of our code
runs. The kinds azc declares (int, float, str, bool, Path, Literal and Enum choices, lists of them; no min/max,
parser or file options) are coerced here directly, for the inputs whose result is plain: a value already of the
type, `[+-]digits` for an int, an ASCII decimal for a float, any str, a Path from a str. Everything else (a bad
value, or one pydantic reads in its own way: ' 3', '3.0', '1_000', 'inf') goes on to typer's own coercion, built
only then, so values and error messages stay exactly typer's. tests/test_cli_coerce.py checks the two agree.
If typer's internals are not the ones this was written for, nothing is installed and typer's own path runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, get_args, get_origin

try:
    import typer
    from typer._click.exceptions import BadParameter
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path, lenient_issubclass
    from typer._typing import is_literal_type, literal_values
    from typer.core import _TyperParameter

    SUPPORTED = typer.__version__.startswith("0.29.") and callable(getattr(_TyperParameter, "get_runtime_param", None))
except ImportError:  # pragma: no cover - typer's internals moved: azc runs on typer's own coercion
    RuntimeParam, SUPPORTED = object, False

# Inputs read here; pydantic reads these exactly as Python does (checked by tests/test_cli_coerce.py). Longer or
# other spellings (whitespace, '_', '3.0' for an int, 'inf', big exponents) are left to typer's path.
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]{1,30}\.?[0-9]{0,30}|\.[0-9]{1,30})(?:[eE][+-]?[0-9]{1,3})?")
_EXACT_FLOAT_INT = 2**53  # ints up to this size are exactly floats


class Unhandled(Exception):
    """An input left to typer's own coercion."""


def _int(value: Any, info, param, ctx) -> int:
    if type(value) is int:
        return value
    if type(value) is str and _INT.fullmatch(value):
        return int(value)
    raise Unhandled


def _float(value: Any, info, param, ctx) -> float:
    if type(value) is float:
        return value
    if type(value) is int and -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT:
        return float(value)
    if type(value) is str and _FLOAT.fullmatch(value):
        return float(value)
    raise Unhandled


def _str(value: Any, info, param, ctx) -> str:
    if type(value) is str:
        return value
    raise Unhandled


def _bool(value: Any, info, param, ctx) -> bool:
    if type(value) is bool:
        return value
    raise Unhandled


def _path(value: Any, info, param, ctx) -> Path:
    # typer turns a str into Path(str) with pydantic, then checks it on disk (coerce_cli_path): given the Path,
    # that check needs no pydantic. Its messages quote the text as typed, so a failed check is redone by typer.
    if isinstance(value, Path):
        path = value
    elif type(value) is str and "\0" not in value:
        path = Path(value)
    else:
        raise Unhandled
    try:
        return coerce_cli_path(path, info, path_type=Path, param=param, ctx=ctx)
    except BadParameter:
        raise Unhandled from None


def _choice(value: Any, info, param, ctx, *, choices: tuple) -> Any:
    try:
        return coerce_cli_choice(value, choices=choices, case_sensitive=info.case_sensitive, ctx=ctx)
    except ValueError:  # the message is typer's, worded by pydantic
        raise Unhandled from None


_LEAVES = {int: _int, float: _float, str: _str, bool: _bool}


def leaf_coercion(annotation: Any, info) -> Callable | None:
    """The coercion of one value of `annotation`, or None where typer's path is needed (mirrors typer's order)."""
    if info.parser is not None:
        return None
    if lenient_issubclass(annotation, Enum):
        return partial(_choice, choices=tuple(annotation))
    if is_literal_type(annotation):
        return partial(_choice, choices=tuple(literal_values(annotation)))
    if annotation in (int, float) and (info.min is not None or info.max is not None or info.clamp):
        return None
    if annotation in _LEAVES:
        return _LEAVES[annotation]
    if annotation is Path and info.path_type is None:
        return _path
    return None


@dataclass(frozen=True)
class FastRuntimeParam(RuntimeParam):
    """typer's RuntimeParam (its `coerce` handles None and multiple values) with a pydantic-free `_coerce_value`."""

    descriptor: Any = None
    leaf: Callable | None = None
    is_list: bool = False
    _typer: list = field(default_factory=list, compare=False, repr=False)  # typer's own, built on first need

    def _coerce_value(self, value: Any, param, ctx) -> Any:
        info = self.parameter_info
        try:
            if self.is_list:
                items = value if isinstance(value, (list, tuple)) else [value]
                return [self.leaf(item, info, param, ctx) for item in items]
            return self.leaf(value, info, param, ctx)
        except Unhandled:
            return self.typer_param()._coerce_value(value, param=param, ctx=ctx)

    def typer_param(self):
        if not self._typer:
            self._typer.append(build_runtime_param(self.descriptor))
        return self._typer[0]


def fast_runtime_param(descriptor) -> FastRuntimeParam | None:
    """The fast coercion for a parameter of this descriptor, or None where only typer's path will do."""
    if descriptor.file_annotation is not None:
        return None
    annotation, info, is_list = descriptor.annotation, descriptor.parameter_info, False
    if get_origin(annotation) is list:
        args = get_args(annotation)
        if len(args) != 1:
            return None
        annotation, is_list = args[0], True
    elif get_origin(annotation) is not None and not is_literal_type(annotation):  # tuples, unions: typer's path
        return None
    leaf = leaf_coercion(annotation, info)
    if leaf is None:
        return None
    return FastRuntimeParam(parameter_info=info, annotation=descriptor.annotation, descriptor=descriptor, leaf=leaf,
                            is_list=is_list)


def install(params) -> None:
    """Give these command parameters the fast coercion (those it handles); nothing where typer is not 0.29.x."""
    if not SUPPORTED:
        return
    for param in params:
        if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", False) is None:
            fast = fast_runtime_param(param.type_descriptor)
            if fast is not None:
                param._runtime_param = fast

