"""Golden files: tests/golden/passes/NAME.in.az through each pass gives NAME.<pass>.az exactly.

Regenerate after an intended change with `AZ_UPDATE_GOLDEN=1 pytest tests/test_passes_golden.py` and
review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from azlang.passes import run_pipeline
from azlang.syntax import load, print_program

GOLDEN = Path(__file__).parent / "golden" / "passes"
PIPELINES = {"dce": "dce", "canon": "canon", "fold": "fold", "decouple": "decouple", "opt": "dce,fold,dce,canon"}
CASES = sorted(p.name.removesuffix(".in.az") for p in GOLDEN.glob("*.in.az"))


@pytest.mark.parametrize("suffix", sorted(PIPELINES))
@pytest.mark.parametrize("case", CASES)
def test_golden(case, suffix):
    program, _ = run_pipeline(load(GOLDEN / f"{case}.in.az"), PIPELINES[suffix])
    text = print_program(program)
    expected = GOLDEN / f"{case}.{suffix}.az"
    if os.environ.get("AZ_UPDATE_GOLDEN"):
        expected.write_text(text, encoding="utf-8")
    assert text == expected.read_text(encoding="utf-8")


def test_renamed_copy_has_the_same_canonical_form():
    def opt(case):
        return print_program(run_pipeline(load(GOLDEN / f"{case}.in.az"), "dce,canon")[0])

    assert opt("renamed") == opt("deadcode")
