"""Documentation a user looks for (issue 11, item 13): the generated references equal the code's, every op and
config key is described, and what a reader is pointed to exists in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from azlang.ir.ops import OPS
from azlang.tools import gendocs
from azlang.tools.config_meanings import CHOICES, MEANINGS
from azlang.tools.opdoc import describe

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", sorted(gendocs.GENERATED))
def test_committed_references_equal_the_generated_ones(name):
    committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert committed == gendocs.GENERATED[name](), f"docs/{name} is stale: run python -m azlang.tools.gendocs"


def test_check_mode_reports_staleness(tmp_path, monkeypatch):
    monkeypatch.setattr(gendocs, "DOCS", tmp_path)
    assert gendocs.main(["--check"]) == 1  # nothing there yet
    assert gendocs.main([]) == 0 and gendocs.main(["--check"]) == 0
    (tmp_path / "ops.md").write_text("edited by hand\n")
    assert gendocs.main(["--check"]) == 1


def test_every_op_has_a_row_with_its_spelling_and_a_description():
    text = gendocs.ops_markdown()
    for op in OPS:
        assert describe(op)
        row = next(line for line in text.splitlines() if line.startswith(f"| {op.id} |"))
        assert op.name in row
        if op.spelling and op.spelling != "1 /":
            assert op.spelling in row


def test_ops_reference_examples_parse_back_to_their_op():
    from azlang.syntax import parse

    for op in OPS:
        example = gendocs._example(op)
        prog = parse(f"def Setup():\n  {example}\ndef Predict():\ndef Learn():\n")
        assert prog.setup.instructions[0].op == op.id, example


def test_every_config_key_has_a_meaning():
    keys = gendocs.config_keys()
    assert len(keys) > 40
    assert not [k for k, meaning in keys.items() if not meaning]


def test_meanings_name_only_real_keys():
    keys = gendocs.config_keys()
    assert not (set(MEANINGS) - set(keys)), "config_meanings.py names keys the config does not have"
    assert not (set(CHOICES) - set(keys))


def test_defaults_come_from_the_dataclasses():
    from azlang.search.config import ExperimentConfig

    text = gendocs.config_markdown()
    assert f"| `evolution.population` | int | `{ExperimentConfig().evolution.population}` |" in text


USER_FACING = [*sorted((ROOT / "stdlib").glob("*.az")), *sorted((ROOT / "examples").rglob("*.*")),
               ROOT / "grammar" / "az.lark", *sorted((ROOT / "docs").glob("*.md")),
               *sorted((ROOT / "azlang" / "syntax").glob("*.py")), ROOT / "azlang" / "ir" / "ops.py"]


@pytest.mark.parametrize("path", USER_FACING, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_of_documents_outside_the_repository(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"semantics( spec)?( sections?)? \d|spec section \d|az-language\.md", text)


def test_doc_links_point_to_files_that_exist():
    for doc in [*(ROOT / "docs").glob("*.md"), ROOT / "examples" / "README.md"]:
        for target in re.findall(r"\]\(([^)#:]+)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_examples_readme_names_every_example():
    text = (ROOT / "examples" / "README.md").read_text(encoding="utf-8")
    for path in [*(ROOT / "examples").glob("*.toml"), *(ROOT / "examples" / "evolved").glob("*.az")]:
        assert path.name in text
