"""docs/semantics.md and the citations of it (issue 11, item 13): every "docs/semantics.md, section N" in the
repository names a section the document has, and nothing cites a semantics document a reader cannot open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "semantics.md"
SCANNED_DIRS = ("azlang", "tests", "benchmarks", "stdlib", "examples", "grammar", "docs", "runtime")
SCANNED_SUFFIXES = {".py", ".md", ".az", ".toml", ".lark", ".c", ".h", ".ipynb", ".txt", ".sh", ".cfg", ".json"}

_NUMBER = r"\d+(?:\.\d+)?"
# "docs/semantics.md, section 3.2", "(docs/semantics.md, sections 8, 11 and 12)", "[...](docs/semantics.md), section 4"
CITATION = re.compile(rf"semantics\.md\)?,? sections? ({_NUMBER}(?:(?:,? and |, ){_NUMBER})*)")
LINK = re.compile(r"semantics\.md#([\w-]+)")
HEADING = re.compile(r'^(#{2,3}) <a id="([\w-]+)"></a>(\d+(?:\.\d+)?)\.? \S', re.M)
# A section number after "semantics" (or a "spec section N") without the document's path: a citation of the
# private specification the project was built against, which a reader of the repository cannot open.
UNRESOLVABLE = re.compile(
    r"\bsemantics(?: spec(?:ification)?)?,?(?: sections?)? \d|\bthe semantics spec\b|\bspec(?:ification)?,? section \d"
    r"|automl-zero-semantics|§ ?\d",
    re.I,
)


def doc_sections() -> dict[str, str]:
    """Section number -> anchor id, from the numbered headings of docs/semantics.md."""
    return {number: anchor for _, anchor, number in HEADING.findall(DOC.read_text(encoding="utf-8"))}


def cited_sections(text: str) -> list[str]:
    return [n for group in CITATION.findall(text) for n in re.findall(_NUMBER, group)]


def repository_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "pyproject.toml"]
    for d in SCANNED_DIRS:
        files += [p for p in sorted((ROOT / d).rglob("*")) if p.is_file() and p.suffix in SCANNED_SUFFIXES
                  and "__pycache__" not in p.parts]
    return [p for p in files if p.exists()]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def test_every_numbered_heading_has_its_stable_anchor():
    text = DOC.read_text(encoding="utf-8")
    headings = HEADING.findall(text)
    assert len(headings) >= 13
    for hashes, anchor, number in headings:
        assert anchor == "section-" + number.replace(".", "-"), f"heading {number} has anchor {anchor}"
        assert len(hashes) == (2 if "." not in number else 3), f"section {number} at the wrong level"
    # every section heading of the document is numbered (so every heading can be cited)
    plain = [line for line in text.splitlines() if re.match(r"#{2,3} ", line) and not HEADING.match(line)]
    assert not plain, f"unnumbered headings: {plain}"


def test_sections_are_numbered_in_order_without_gaps():
    numbers = [tuple(map(int, n.split("."))) for n in doc_sections()]
    tops = [n[0] for n in numbers if len(n) == 1]
    assert tops == list(range(1, len(tops) + 1))
    for top in tops:
        subs = [n[1] for n in numbers if len(n) == 2 and n[0] == top]
        assert subs == list(range(1, len(subs) + 1)), f"subsections of {top}: {subs}"
    assert numbers == sorted(numbers)


def test_the_citation_parser_reads_every_form():
    assert cited_sections("(docs/semantics.md, section 3.2)") == ["3.2"]
    assert cited_sections("docs/semantics.md, sections 8, 11 and 12") == ["8", "11", "12"]
    assert cited_sections("[docs/semantics.md](docs/semantics.md), section 4: fitness") == ["4"]
    assert cited_sections("docs/semantics.md, section 7 kept.") == ["7"]
    bad = "see docs/semantics.md, sec" "tion 99.1"  # split, as this file is scanned too
    missing = set(cited_sections(bad)) - set(doc_sections())
    assert missing == {"99.1"}  # the check below would catch it


def test_the_unresolvable_pattern_catches_the_old_forms_only():
    old = ["(semantic" "s 11.3)", "Semantic" "s 16.2: loop", "semantic" "s section 7 kept",
           "the semantic" "s spec, section 5", "spec sectio" "n 4", "automl-zero-" "semantics.md"]
    assert all(UNRESOLVABLE.search(s) for s in old)
    fine = ["(docs/semantics.md, section 5)", "## Semantics\n", "IEEE results are the semantics, not accidents",
            "1 = exact sequential semantics; > 1 = batched", "the paper's Section 4.2"]
    assert not any(UNRESOLVABLE.search(s) for s in fine)


FILES = repository_files()


def test_the_scan_sees_the_citations():
    cited = [n for p in FILES for n in cited_sections(_read(p))]
    assert len(cited) >= 30, "the repository's code cites docs/semantics.md throughout; the scan found few"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_citations_name_sections_that_exist(path):
    text, sections = _read(path), doc_sections()
    missing = sorted(set(cited_sections(text)) - set(sections))
    assert not missing, f"{path.name} cites docs/semantics.md sections it does not have: {missing}"
    anchors = set(sections.values())
    bad_links = sorted(set(LINK.findall(text)) - anchors)
    assert not bad_links, f"{path.name} links to missing anchors of docs/semantics.md: {bad_links}"


@pytest.mark.parametrize("path", [p for p in FILES if p.resolve() != Path(__file__).resolve()],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_citation_of_a_semantics_document_a_reader_cannot_open(path):
    text = _read(path)
    found = [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in UNRESOLVABLE.finditer(text)]
    assert not found, f"{path.name}: cite docs/semantics.md, section N instead of {found}"


def test_readme_and_the_ops_reference_link_the_document():
    assert "(docs/semantics.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    from azlang.tools.gendocs import ops_markdown

    assert "(semantics.md)" in ops_markdown()


def test_the_document_points_to_the_generated_references():
    text = DOC.read_text(encoding="utf-8")
    for target in ("ops.md", "config.md", "tasks.md", "experiments.md"):
        assert f"]({target}" in text
