"""CLI stage: what every `azc` command shares: consoles, output paths, library errors turned into messages."""

from __future__ import annotations

import builtins
import errno
import functools
import os
import re
import sys
from pathlib import Path

import typer

from azlang.errors import AzError, ConfigError

# Output that is not a terminal (a pipe, a log file, a test's runner) is never wrapped: its lines are read by
# programs and grep, and a width taken from whatever terminal started the process would break them mid-word.
UNWRAPPED_WIDTH = 100_000


def make_console(stderr: bool = False):
    """A rich console that lays out for the terminal when there is one, and never wraps otherwise."""
    from rich.console import Console, ConsoleDimensions

    class _Console(Console):
        @property
        def size(self) -> ConsoleDimensions:
            if self.is_terminal:
                return super().size
            return ConsoleDimensions(UNWRAPPED_WIDTH, 25)

        @size.setter
        def size(self, new_size: tuple[int, int]) -> None:
            Console.size.fset(self, new_size)

        def pop_render_hook(self) -> None:
            # A rich Live (the evolve table) ends by popping its hook. Off a terminal its last frame is printed
            # without a newline, so the next line would be glued to it ("┘stopped by:"): end that line here.
            hook = self._render_hooks[-1] if self._render_hooks else None
            super().pop_render_hook()
            if not self.is_terminal and getattr(hook, "transient", True) is False:
                self.line()

    return _Console(stderr=stderr, highlight=False)


# What rich reads as an :emoji: code (rich.emoji's pattern); it replaces those whose name it knows.
_EMOJI_CODE = re.compile(r"(:(\S*?)(?:(?:\-)(emoji|text))?:)")
_PLAIN_MAX = 20_000  # characters per line: even of double-width ones, far below UNWRAPPED_WIDTH cells
_PLAIN_OPTIONS = frozenset({"markup", "highlight", "soft_wrap"})


def off_terminal(stderr: bool = False) -> bool:
    """True when rich would certainly find no terminal here (console.is_terminal False), told without importing
    it: no TTY_COMPATIBLE or FORCE_COLOR in the environment, no IPython, and a stream whose isatty() says no.
    Anything else (a terminal, a forced one, a notebook, an odd stream): False, and rich decides."""
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ or "get_ipython" in vars(builtins):
        return False
    stream = sys.stderr if stderr else sys.stdout
    stream = getattr(stream, "rich_proxied_file", stream)
    isatty = getattr(stream, "isatty", None)
    if stream is None or isatty is None:
        return False
    try:
        return not isatty()
    except ValueError:  # a closed stream: rich calls it no terminal too
        return True


def as_is(text: str, markup: bool = True) -> bool:
    """Text a rich console writes unchanged off a terminal (no colour, no wrapping at UNWRAPPED_WIDTH): no markup
    (when it is read), no :emoji: code, printable lines (no tabs to expand, no control codes) of bounded length."""
    if markup and "[" in text or ":" in text and not _no_emoji(text):
        return False
    return all(line.isprintable() and len(line) <= _PLAIN_MAX for line in text.split("\n"))


def _no_emoji(text: str) -> bool:
    """No :name: in `text` that rich would replace by an emoji (task specs such as linear:F4:D10 have colons)."""
    names = [name.lower() for _, name, _ in _EMOJI_CODE.findall(text)]
    if not names:
        return True
    try:
        from rich._emoji_codes import EMOJI  # rich's table alone (~3 ms), not its console
    except ImportError:  # another rich: let it decide
        return False
    return not any(name in EMOJI for name in names)


class _LazyConsole:
    """Stands for a console made on first use: `azc --help` and `azc check` need not import rich at all, nor
    does plain output off a terminal (`azc evolve` writing its lines to a log): `print` writes text that rich
    would write unchanged straight to the stream, and `is_terminal` / `file` answer without a console there.
    Once the console is made, it answers everything."""

    def __init__(self, stderr: bool):
        object.__setattr__(self, "_stderr", stderr)
        object.__setattr__(self, "_console", None)

    def _get(self):
        if self._console is None:
            object.__setattr__(self, "_console", make_console(self._stderr))
        return self._console

    def __getattr__(self, name: str):
        return getattr(self._get(), name)

    def _plain(self) -> bool:
        return self._console is None and off_terminal(self._stderr)

    @property
    def is_terminal(self) -> bool:
        return False if self._plain() else self._get().is_terminal

    @property
    def file(self):
        return self._stream() if self._plain() else self._get().file

    def _stream(self):
        """The stream rich's console would write to."""
        stream = sys.stderr if self._stderr else sys.stdout
        return getattr(stream, "rich_proxied_file", stream)

    def print(self, *objects, **options) -> None:
        """Console.print; one string that rich would write as it is off a terminal is written directly (and
        flushed, as rich does), with these options only: markup, highlight off, soft_wrap (nothing wraps here)."""
        if (len(objects) == 1 and isinstance(objects[0], str) and _PLAIN_OPTIONS.issuperset(options)
                and not options.get("highlight") and self._plain() and as_is(objects[0], options.get("markup") is not False)):
            stream = self._stream()  # plain: asked once per line whether it is a terminal
            stream.write(objects[0] + "\n")
            stream.flush()
            return
        self._get().print(*objects, **options)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._get(), name, value)

    def __enter__(self):
        return self._get().__enter__()

    def __exit__(self, *exc):
        return self._get().__exit__(*exc)


out = _LazyConsole(stderr=False)
err = _LazyConsole(stderr=True)


def report_error(exc: AzError) -> None:
    """Print a library error with its source line and caret (file read back if needed), no traceback."""
    source = exc.source
    if source is None and exc.loc is not None:
        try:
            source = Path(exc.loc.file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            source = None  # the message stands without its line
    typer.echo(exc.render(source), err=True)  # plain text: an error needs no rich (nor its import time)


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    where = f": {exc.filename}" if exc.filename else ""
    return f"error: {reason}{where}"


def friendly(fn=None, *, interrupted: str = "interrupted"):
    """Turn AzError (and a failed file operation) into a message and exit 1; Ctrl-C into `interrupted`, exit 130."""
    if fn is None:
        return functools.partial(friendly, interrupted=interrupted)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except AzError as exc:
            report_error(exc)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            err.print(interrupted)
            raise typer.Exit(130) from None
        except MemoryError:  # a safety net: sizes are bounded up front, but bounds are per value, memory is shared
            typer.echo("error: not enough memory for this (smaller F, fewer examples or fewer registers)", err=True)
            raise typer.Exit(1) from None
        except BrokenPipeError:
            raise typer.Exit(1) from None  # the reader went away (`azc ... | head`): nothing left to say
        except OSError as exc:  # a safety net: paths are checked up front, but disks fill and folders vanish
            typer.echo(_os_message(exc), err=True)
            raise typer.Exit(1) from None

    return wrapper


def check_output_path(path: Path, option: str) -> Path:
    """Fail now, before any work, if `path` cannot be written: a missing or read-only folder, a folder in the way,
    a name or path longer than the file system allows."""
    path = Path(path)
    folder = path.parent
    try:
        limit_name = os.pathconf(folder if folder.is_dir() else ".", "PC_NAME_MAX")
        limit_path = os.pathconf(folder if folder.is_dir() else ".", "PC_PATH_MAX")
    except (OSError, ValueError):
        limit_name, limit_path = 255, 4096
    long_part = next((p for p in path.parts if len(os.fsencode(p)) > limit_name), None)
    if long_part is not None or len(os.fsencode(str(path.absolute()))) >= limit_path:
        what = f"a name too long ({len(os.fsencode(long_part))} bytes)" if long_part else "a path too long"
        raise ConfigError(f"{option} {_short(path)}: {what} for this file system",
                          hint=f"names up to {limit_name} bytes, paths up to {limit_path}")
    try:
        if path.is_dir():
            raise ConfigError(f"{option} {path}: is a folder", hint="give a file name")
        if not folder.is_dir():
            raise ConfigError(f"{option} {path}: the folder {folder} does not exist", hint="create it first")
        if not os.access(folder, os.W_OK):
            raise ConfigError(f"{option} {path}: the folder {folder} is not writable")
    except OSError as exc:
        raise ConfigError(f"{option} {_short(path)}: {exc.strerror or exc}") from None
    return path


def write_output(path: Path, text: str) -> None:
    """Write a result file; a failure is an AzError naming the path, never a traceback."""
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno in errno.errorcode else str(exc)
        raise AzError(f"cannot write {_short(Path(path))}: {reason}") from None


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}...{text[-60:]}"


def deprecated_alias(old: str, old_value, new: str, new_value):
    """The value of a renamed option: the old spelling still works (hidden from help) and says so."""
    if old_value is None:
        return new_value
    err.print(f"note: {old} is deprecated here; it is now {new}", markup=False)
    return old_value


def print_table(console, table, title: str) -> None:
    """A title line, then the table: a rich table title wraps at the table's width, and titles hold paths."""
    console.print(title, markup=False, soft_wrap=True, style="bold")
    console.print(table)
