"""The student edition (tools/make_student.py): no solutions, exercise outputs cleared."""

from __future__ import annotations

import course  # tools/ is on sys.path (tests/conftest.py)
import make_student
import nbformat
import pytest


@pytest.fixture(scope="module")
def edition(tmp_path_factory, project_root):
    out = tmp_path_factory.mktemp("student")
    return make_student.write_edition(project_root / "notebooks", out)


def test_every_notebook_is_in_the_edition(edition, project_root):
    assert sorted(p.name for p in edition) == sorted(
        p.name for p in (project_root / "notebooks").glob("*.ipynb")
    )


def test_no_solution_cell_and_no_exercise_output(edition):
    for path in edition:
        nb = nbformat.read(path, as_version=4)
        assert not [c for c in nb.cells if course.SOLUTION_TAG in c.metadata.get("tags", [])]
        in_exercises = False
        for cell in nb.cells:
            lines = cell.source.splitlines() if cell.cell_type == "markdown" else []
            if "## Exercises" in lines:
                in_exercises = True
            elif "## Further reading" in lines:
                in_exercises = False
            if in_exercises and cell.cell_type == "code":
                assert cell.outputs == [], (path.name, cell.id)
            assert course.SOLUTION_HINT not in cell.source


def test_the_edition_tells_students_the_solutions_are_not_included(edition):
    for path in edition:
        if int(path.name[:2]) < 90:
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
            assert course.STUDENT_HINT in text, path.name


def test_student_version_leaves_the_original_alone(project_root):
    path = project_root / "notebooks" / "03_mle_and_irls.ipynb"
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    make_student.student_version(nb)
    assert nbformat.writes(nb) == before


def test_a_self_check_without_an_answer_runs_politely(edition):
    """The exercises chapter, with no answers filled in, runs top to bottom and its
    self-checks say that nothing is answered yet (they do not raise)."""
    path = next(p for p in edition if p.name.startswith("11_"))
    nb = nbformat.read(path, as_version=4)
    make_student.execute(nb, cwd=path.parent)
    text = "".join(
        out.get("text", "") for c in nb.cells if c.cell_type == "code" for out in c.outputs
    )
    assert "not answered yet" in text
