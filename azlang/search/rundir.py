"""Search stage: the run directory: resolved config, progress.jsonl, best programs, summary, checkpoint.

config.toml        the resolved configuration (flags applied, random seed fixed)
progress.jsonl     one JSON object per progress line
experiment_NNN.az  the candidate of experiment NNN
best.az            the best candidate on T_select so far
summary.json       the final result
checkpoint.pkl     the latest checkpoint (see checkpoint.py)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from azlang.errors import AzError
from azlang.ir.bytecode import Bytecode, from_bytecode
from azlang.search import checkpoint
from azlang.search.config import ExperimentConfig, load_config, to_toml

CONFIG, PROGRESS, SUMMARY, CHECKPOINT = "config.toml", "progress.jsonl", "summary.json", "checkpoint.pkl"


def program_text(bc: Bytecode) -> str:
    """`.az` text of a program (the syntax printer once it exists, else a plain listing)."""
    program = from_bytecode(bc)
    try:
        from azlang.syntax import print_program
    except ImportError:
        return "\n".join(f"# {name} {i}: {ins}" for name, i, ins in program.instructions()) + "\n"
    return print_program(program)


def _json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    return x


class RunDir:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    def create(self, cfg: ExperimentConfig) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise AzError(f"cannot create run directory {self.path}: {e.strerror}") from None
        if (self.path / CHECKPOINT).exists():
            raise AzError(f"{self.path} already holds a run", hint=f"resume it with --resume {self.path}")
        self.write_config(cfg)
        (self.path / PROGRESS).write_text("")

    def write_config(self, cfg: ExperimentConfig) -> None:
        self.write_text(CONFIG, to_toml(cfg))

    def config(self) -> ExperimentConfig:
        return load_config(self.path / CONFIG)

    def write_text(self, name: str, text: str) -> None:
        tmp = self.path / (name + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, self.path / name)

    def append_progress(self, record: dict) -> None:
        with open(self.path / PROGRESS, "a") as f:
            f.write(json.dumps(_json_safe(record)) + "\n")

    def truncate_progress(self, lines: int) -> None:
        """Drop progress lines written after the checkpoint we resume from (they will be written again)."""
        path = self.path / PROGRESS
        kept = path.read_text().splitlines(keepends=True)[:lines] if path.exists() else []
        path.write_text("".join(kept))

    def write_program(self, name: str, bc: Bytecode, header: str) -> None:
        comment = "".join(f"# {line}\n" for line in header.splitlines())
        self.write_text(name, comment + program_text(bc))

    def write_summary(self, summary: dict) -> None:
        self.write_text(SUMMARY, json.dumps(_json_safe(summary), indent=2) + "\n")

    def save_checkpoint(self, state) -> None:
        checkpoint.save(self.path / CHECKPOINT, state)

    def load_checkpoint(self):
        return checkpoint.load(self.path / CHECKPOINT)
