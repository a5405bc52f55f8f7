"""CLI stage: `azc export ALGO --to numpy|torch|jax [-o FILE]`, a thin shell over azlang.api.export_source."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, Optional

import typer

from azlang.cli_support import friendly, out

HELP = "Export a program as a standalone NumPy, PyTorch or JAX module (a class with fit/predict)."


@friendly
def export(
    algo: Path = typer.Argument(..., help="the .az program (or a stdlib name)"),
    to: Literal["numpy", "torch", "jax"] = typer.Option("numpy", "--to", help="numpy (bit-identical to azlang), torch or jax"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="write the module here (default: stdout)"),
    param: list[str] = typer.Option([], "--param", "-p", help="change a param's default: NAME=VALUE (repeatable)"),
    name: Optional[str] = typer.Option(None, help="class name (default: from the file name)"),
    keep_dead_code: bool = typer.Option(False, "--keep-dead-code", help="do not remove dead code"),
) -> None:
    """Write the algorithm as a readable class: params as constructor arguments, registers as attributes."""
    from azlang import api

    text = api.export_source(algo, to, params=api.parse_param_overrides(param), name=name, dce=not keep_dead_code)
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text)
    out.print(f"wrote {output} ({to}, {len(text.splitlines())} lines)")

