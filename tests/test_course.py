"""The course as a reader meets it: one chapter shape, sources cited as works, answers
hidden, links that resolve (docs/architecture.md §4; tools/course.py defines the shape)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import course  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = course.chapter_paths(ROOT / "notebooks")
SEED_WORD = re.compile(r"\bseed(s|ed)?\b", re.IGNORECASE)
# "seed" may only mean a random seed (or the germination data)
RANDOM_SEED_CONTEXT = re.compile(r"random|rng|seed\s*[:=)]|``seed``|fixed-seed|germinat",
                                 re.IGNORECASE)
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)(#[^)]*)?\)")


def _cells(path: Path) -> list[dict]:
    return course.read(path)["cells"]


def _seed_talk(text: str) -> list[str]:
    bad = []
    for m in SEED_WORD.finditer(text):
        around = text[max(0, m.start() - 40) : m.end() + 40]
        if not RANDOM_SEED_CONTEXT.search(around):
            bad.append(around.replace("\n", " "))
    return bad


def test_there_are_chapters():
    assert len(CHAPTERS) >= 12


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_the_one_shape(path):
    assert course.shape_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_talk_of_seed_files(path):
    text = "\n".join(course.source(c) for c in _cells(path))
    assert _seed_talk(text) == []
    assert not re.search(r"\d{3}_[0-9a-f]{16}|seeds?/|\.txt\b", text), "a source file is named"


def test_no_seed_talk_in_package_docstrings_or_readme():
    files = sorted((ROOT / "glmteach").rglob("*.py")) + [ROOT / "README.md"]
    offenders = {f.name: _seed_talk(f.read_text(encoding="utf-8")) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_chapter_00_cites_frees_2010_by_name():
    text = "\n".join(course.source(c) for c in _cells(ROOT / "notebooks" / "00_start_here.ipynb"))
    assert "Frees (2010)" in text
    assert "Regression Modeling with Actuarial and Financial Applications" in text


REFERENCES = [
    "Frees (2010)",
    "McCullagh & Nelder (1989)",
    "Dobson (2002)",
    "de Jong & Heller (2008)",
    "Anderson et al. (2004)",
    "Clark & Thayer (2004)",
    "Mildenhall (1999)",
    "Jørgensen & de Souza (1994)",
    "Smyth & Jørgensen (2002)",
    "Dunn & Smyth (2018)",
    "Venables & Ripley",
    "Deb & Trivedi (2002)",
]
GLOSSARY = ["θ", "φ", "b(", "S(", "V(", "g(", "η", "μ", "z", "W", "prior weight", "offset",
            "exposure", "deviance", "Pearson", "canonical link", "saturated model"]


def _text(name: str) -> str:
    path = ROOT / "notebooks" / name
    assert path.exists(), f"{name} is missing"
    return "\n".join(course.source(c) for c in _cells(path))


def test_references_page_lists_the_bibliography():
    text = _text("98_references.ipynb")
    assert [r for r in REFERENCES if r not in text] == []


def test_glossary_defines_the_symbols_and_terms():
    text = _text("99_glossary.ipynb")
    assert [t for t in GLOSSARY if t not in text] == []


def test_errata_page_exists_with_evidence():
    cells = _cells(ROOT / "notebooks" / "95_errata.ipynb")
    assert course.source(cells[0]).startswith("# Errata in Frees (2010), Chapter 13")
    assert sum(c["cell_type"] == "code" for c in cells) >= 8  # an evidence cell per slip


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_solution_cell_is_stored_collapsed(path):
    for cell in _cells(path):
        if course.SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            hidden = cell["metadata"].get("jupyter", {})
            assert hidden.get("source_hidden") is True, cell.get("id")
            if cell["cell_type"] == "code":
                assert hidden.get("outputs_hidden") is True, cell.get("id")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_links_to_notebooks_resolve(path):
    text = "\n".join(course.source(c) for c in _cells(path) if c["cell_type"] == "markdown")
    missing = [t for t, _ in LINK.findall(text) if not (path.parent / t).exists()]
    assert missing == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_checks_teach_instead_of_asserting(path):
    """A chapter shows its statsmodels check as a gt.compare table, not a block of
    asserts (solutions may still check themselves)."""
    lesson = [c for c in _cells(path)
              if c["cell_type"] == "code"
              and course.SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    code = "\n".join(course.source(c) for c in lesson)
    assert code.count("assert_allclose") <= 2
    if "sm.GLM(" in code:
        assert "gt.compare(" in code


def test_why_digits_differ_is_explained_once():
    caveat = re.compile(r"\b(7th|8th)\b[^.]{0,40}digit", re.IGNORECASE)
    where = [p.stem for p in NOTEBOOKS
             if any(caveat.search(course.source(c)) for c in _cells(p))]
    assert len(where) <= 1, where
