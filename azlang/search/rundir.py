"""Search stage: the run directory: resolved config, progress.jsonl, best programs, summary, checkpoint.

config.toml        the resolved configuration (flags applied, random seed fixed)
progress.jsonl     one JSON object per progress line
experiment_NNN.az  the candidate of experiment NNN
best.az            the best candidate on T_select so far
summary.json       the final result
checkpoint.ckpt    the latest checkpoint (see checkpoint.py)
lock               held (flock) by the process running the run: two runs never share a directory

Every file is replaced atomically; a write that fails (read-only directory, full disk, name too long) is
an AzError naming the file, never a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no lock
    fcntl = None

from azlang.errors import AzError
from azlang.ir.bytecode import Bytecode, from_bytecode
from azlang.search import checkpoint
from azlang.search.config import ExperimentConfig, load_config, to_toml

CONFIG, PROGRESS, SUMMARY, CHECKPOINT = "config.toml", "progress.jsonl", "summary.json", "checkpoint.ckpt"
LOCK, OLD_CHECKPOINT = "lock", "checkpoint.pkl"


def program_text(bc: Bytecode) -> str:
    """`.az` text of a program (the syntax printer once it exists, else a plain listing)."""
    program = from_bytecode(bc)
    try:
        from azlang.syntax import print_program
    except ImportError:
        return "\n".join(f"# {name} {i}: {ins}" for name, i, ins in program.instructions()) + "\n"
    return print_program(program)


def _json_safe(x):
    """x with every non-finite float (JSON has none) as None; containers copied only where they hold one."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


def _json_line(record: dict) -> str:
    """A JSON line of the record, non-finite floats as null: json's C encoder checks them itself (allow_nan=False
    raises on one), so only a record that holds one is copied by _json_safe."""
    try:
        return json.dumps(record, allow_nan=False) + "\n"
    except ValueError:
        return json.dumps(_json_safe(record)) + "\n"


def _io_error(what: str, path: Path, e: OSError) -> AzError:
    hint = {
        errno.EACCES: "the directory is not writable: choose another --run-dir",
        errno.EROFS: "the file system is read-only: choose another --run-dir",
        errno.ENAMETOOLONG: "the path is too long: choose a shorter --run-dir",
        errno.ENOSPC: "the disk is full",
    }.get(e.errno)
    return AzError(f"cannot {what} {path}: {e.strerror or e}", hint=hint)


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = None
        self._progress = None  # progress.jsonl, open for appending while the run writes lines

    def create(self, cfg: ExperimentConfig) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _io_error("create run directory", self.path, e) from None
        self.acquire()  # first: a directory in use says so, whatever it holds
        if (self.path / CHECKPOINT).exists() or (self.path / OLD_CHECKPOINT).exists():
            self.release()
            raise AzError(f"{self.path} already holds a run", hint=f"resume it with --resume {self.path}")
        if (self.path / CONFIG).exists():
            self.release()
            raise AzError(
                f"{self.path} already holds a run that was stopped before its first checkpoint",
                hint="choose another --run-dir, or delete that directory",
            )
        self.write_config(cfg)
        self._close_progress()
        self.write_text(PROGRESS, "")

    def acquire(self) -> None:
        """Hold the directory's lock until `release` (or this process ends): one run per directory."""
        if fcntl is None or self._lock is not None:
            return
        if not self.path.is_dir():
            raise AzError(f"{self.path} is not a run directory (no such directory)",
                          hint="give the directory `azc evolve` printed at the start of the run")
        path = self.path / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise _io_error("lock run directory", self.path, e) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AzError(
                f"run directory {self.path} is in use by another run (process {holder})",
                hint="wait for it to finish or stop it (Ctrl-C); two runs cannot share a directory",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock = fd

    def release(self) -> None:
        self._close_progress()
        if self._lock is not None:
            os.close(self._lock)  # closing the descriptor drops the flock
            self._lock = None

    def write_config(self, cfg: ExperimentConfig) -> None:
        self.write_text(CONFIG, to_toml(cfg))

    def config(self) -> ExperimentConfig:
        if not (self.path / CONFIG).is_file():
            raise AzError(f"{self.path} is not a run directory (no {CONFIG})",
                          hint="give the directory `azc evolve` printed at the start of the run")
        return load_config(self.path / CONFIG)

    def write_text(self, name: str, text: str) -> None:
        tmp = self.path / f".{name}.{os.getpid()}.tmp"
        try:
            tmp.write_text(text)
            os.replace(tmp, self.path / name)
        except OSError as e:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise _io_error("write", self.path / name, e) from None

    def append_progress(self, record: dict) -> None:
        """One line, handed to the system at once (readers such as `azc watch` see it); the file stays open."""
        try:
            if self._progress is None:
                self._progress = open(self.path / PROGRESS, "a")  # noqa: SIM115 - held until release or truncation
            self._progress.write(_json_line(record))
            self._progress.flush()
        except OSError as e:
            self._close_progress()
            raise _io_error("write", self.path / PROGRESS, e) from None

    def _close_progress(self) -> None:
        if self._progress is not None:
            with contextlib.suppress(OSError):
                self._progress.close()
            self._progress = None

    def truncate_progress(self, lines: int) -> None:
        """Drop progress lines written after the checkpoint we resume from (they will be written again)."""
        self._close_progress()
        path = self.path / PROGRESS
        kept = path.read_text().splitlines(keepends=True)[:lines] if path.exists() else []
        self.write_text(PROGRESS, "".join(kept))

    def write_program(self, name: str, bc: Bytecode, header: str) -> None:
        comment = "".join(f"# {line}\n" for line in header.splitlines())
        self.write_text(name, comment + program_text(bc))

    def write_summary(self, summary: dict) -> None:
        self.write_text(SUMMARY, json.dumps(_json_safe(summary), indent=2) + "\n")

    def save_checkpoint(self, state) -> None:
        checkpoint.save(self.path / CHECKPOINT, state)

    def has_checkpoint(self) -> bool:
        return (self.path / CHECKPOINT).exists()

    def load_checkpoint(self):
        if (self.path / OLD_CHECKPOINT).exists() and not self.has_checkpoint():
            return checkpoint.load(self.path / OLD_CHECKPOINT)  # refused with a clear message
        if not self.has_checkpoint() and (self.path / CONFIG).exists():
            raise AzError(
                f"the run in {self.path} was stopped before its first checkpoint: there is nothing to resume",
                hint=f"start it again: azc evolve -c {self.path / CONFIG} --run-dir <new directory>",
            )
        return checkpoint.load(self.path / CHECKPOINT)
