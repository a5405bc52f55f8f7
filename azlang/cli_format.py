"""CLI stage: how `azc` help reads (pinned here, not left to typer's defaults) and commands loaded on first use.

Help is plain text laid out at a fixed width, whatever the terminal: `Usage: azc run [OPTIONS] ALGO`, choices as
`[auto|native|numpy]`, value kinds as INTEGER/FLOAT/PATH/TEXT, flags without a type, and an Examples section
from each command's epilog. Commands registered with `lazy_command` are imported only when they run or when
their own help is asked for, so that `azc --help` and `azc check` do not pay for NumPy, llvmlite or the search.
"""

from __future__ import annotations

import difflib
import importlib
import re
from typing import ClassVar

import typer
from typer.core import TyperCommand, TyperGroup

from azlang import cli_coerce

HELP_WIDTH = 100  # help is prose laid out at one width everywhere: the same text in a terminal, a pipe or a test
CONTEXT = {"help_option_names": ["-h", "--help"], "terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH}
_KIND_WORDS = {"int": "INTEGER", "float": "FLOAT", "str": "TEXT", "path": "PATH", "Path": "PATH", "file": "PATH",
               "directory": "PATH", "bool": "BOOLEAN"}


def metavar(param, ctx) -> str | None:
    """What stands for the value of an option: its own metavar, `[a|b]` for choices, else its kind in capitals."""
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    if param.metavar:
        return param.metavar
    shown = (param.display_type(ctx) or "").strip("<>")
    inner = re.fullmatch(r"list\[(.*)\]", shown)
    shown = inner.group(1) if inner else shown
    if "|" in shown:
        return f"[{shown}]"
    return _KIND_WORDS.get(shown, shown.upper() or "VALUE")


def _argument_name(param) -> str:
    return param.metavar or param.name.upper()


class _FastCoercion:
    """Parameters (the help option too) coerced by azlang.cli_coerce: without pydantic for azc's plain kinds."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cli_coerce.install(self.params)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            cli_coerce.install([option])
        return option


class AzCommand(_FastCoercion, TyperCommand):
    """A command whose help is rendered by the rules above."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = _argument_name(param) + ("..." if param.nargs != 1 else "")
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx, formatter) -> None:
        args, opts = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:  # hidden
                continue
            help_text = record[1]
            if param.param_type_name == "argument":
                args.append((_argument_name(param), help_text))
            else:
                names = ", ".join(sorted(param.opts, key=len))
                if param.secondary_opts:
                    names += " / " + ", ".join(param.secondary_opts)
                value = metavar(param, ctx)
                opts.append((f"{names} {value}" if value else names, help_text))
        for title, rows in (("Arguments", args), ("Options", opts)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def format_epilog(self, ctx, formatter) -> None:
        # The epilog holds examples: command lines, shown verbatim (never re-wrapped).
        if self.epilog:
            with formatter.section("Examples"):
                for line in self.epilog.strip("\n").splitlines():
                    formatter.write_text("\b\n" + line) if line.strip() else formatter.write_paragraph()


class AzGroup(_FastCoercion, TyperGroup):
    """The `azc` group: AzCommand help for itself, and commands registered by name, imported when first used."""

    lazy: ClassVar[dict[str, tuple[str, str, str | None]]] = {}  # name -> ("module:attribute", help, examples)

    def list_commands(self, ctx) -> list[str]:
        return [*self.commands, *(n for n in self.lazy if n not in self.commands)]

    def get_command(self, ctx, name: str):
        if name not in self.commands and name in self.lazy:
            self.commands[name] = _load(name, *self.lazy[name])
        return self.commands.get(name)

    def resolve_command(self, ctx, args):
        from typer._click.exceptions import UsageError

        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:  # typer suggests only among loaded commands; suggest among all of them
            matches = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if matches and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise

    collect_usage_pieces = TyperGroup.collect_usage_pieces
    format_options = AzCommand.format_options

    def format_help(self, ctx, formatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)
        self.format_commands(ctx, formatter)
        AzCommand.format_epilog(self, ctx, formatter)

    def format_commands(self, ctx, formatter) -> None:
        """One line per command; a command not yet imported is described by its registration, not imported."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is not None and cmd.hidden:
                continue
            short = cmd.get_short_help_str(HELP_WIDTH) if cmd is not None else _first_sentence(self.lazy[name][1])
            rows.append((name, short))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n\n")[0].replace("\n", " ")
    return first.split(". ")[0].rstrip(".") + "."


def group_class(lazy: dict[str, tuple[str, str, str | None]]) -> type[AzGroup]:
    """An AzGroup subclass reading its lazy commands from `lazy` (the dict can be filled after creation)."""
    return type("AzcGroup", (AzGroup,), {"lazy": lazy})


def _load(name: str, target: str, help_text: str, examples: str | None):
    module_name, _, attribute = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attribute)
    if isinstance(obj, typer.Typer):
        command = typer.main.get_command(obj)
    else:
        holder = typer.Typer(rich_markup_mode=None, add_completion=False)
        # One command: get_command gives the command itself, not a group around it.
        holder.command(name, cls=AzCommand, help=help_text or obj.__doc__, epilog=examples)(obj)
        command = typer.main.get_command(holder)
    command.name = name
    return command
