"""tools/build_book.py without a browser: what the staged notebooks and the tables of
contents hold.  (The build itself and the pages are tested in tests/e2e/test_book.py.)"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_book  # noqa: E402


def _output(data: dict):
    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


def _joined(data: dict) -> dict:
    """nbformat stores text as a list of lines; compare the text."""
    return {k: "".join(v) if isinstance(v, list) else v for k, v in data.items()}


def _notebook(*cells) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return json.loads(nbformat.writes(nb))


def test_explorer_reprs_become_a_note_and_frames_stay():
    explorer = nbformat.v4.new_code_cell("widgets.family_explorer()")
    explorer.outputs = [_output({"text/plain": "<glmteach FamilyExplorer: Gamma>"})]
    old_stepper = nbformat.v4.new_code_cell("widgets.irls_stepper(res)")
    old_stepper.outputs = [_output({"text/plain": "<glmteach IRLSStepper: Poisson, 2 "
                                                  "coefficients, 4 iterations (Fisher scoring)>"})]
    stepper = nbformat.v4.new_code_cell("widgets.irls_stepper(res)")
    frames = {"text/plain": "<glmteach IRLSStepper: ...>",
              "text/html": "<div class='glmteach-static-stepper'></div>"}
    stepper.outputs = [_output(dict(frames))]
    text = nbformat.v4.new_code_cell("print(1)")
    text.outputs = [_output({"text/plain": "<glmteach is not a widget here"})]
    nb = build_book.book_notebook(_notebook(explorer, old_stepper, stepper, text))
    note = nb["cells"][0]["outputs"][0]["data"]["text/html"]
    assert "glmteach-live-only" in note and "family explorer" in note
    assert "run_it_yourself.html" in note
    assert "IRLS stepper" in nb["cells"][1]["outputs"][0]["data"]["text/html"]
    assert _joined(nb["cells"][2]["outputs"][0]["data"]) == frames
    assert _joined(nb["cells"][3]["outputs"][0]["data"]) == {
        "text/plain": "<glmteach is not a widget here"}


def test_solutions_and_collapsed_cells_are_folded():
    solution = nbformat.v4.new_code_cell("answer = 42", metadata={
        "tags": ["solution"], "jupyter": {"source_hidden": True, "outputs_hidden": True}})
    collapsed = nbformat.v4.new_code_cell("x = 1", metadata={"jupyter": {"source_hidden": True}})
    plain = nbformat.v4.new_code_cell("y = 2")
    nb = build_book.book_notebook(_notebook(solution, collapsed, plain))
    tags = [cell["metadata"].get("tags") for cell in nb["cells"]]
    assert tags == [["solution", "hide-cell"], ["hide-input"], None]


def test_toc_puts_chapters_first_then_the_rest_in_file_order():
    names = ["00_start_here", "03_mle", "11_exercises", "90_widget_gallery", "95_errata",
             "98_references", "99_glossary", "scratch"]
    toc = build_book.toc_markdown(names)
    chapters, rest, usage = toc.split("```{toctree}")[1:]
    assert ":caption: Chapters" in chapters
    assert chapters.split("\n\n", 1)[1].split() == ["00_start_here", "03_mle", "11_exercises",
                                                    "```"]
    assert rest.split("\n\n", 1)[1].split()[:-1] == names[3:]
    assert build_book.HOW_TO_RUN in usage


def test_stage_takes_every_notebook_in_file_order(tmp_path):
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in ("10_b", "02_a", "99_glossary"):
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
            f"# {name}")]), folder / f"{name}.ipynb")
    src = tmp_path / "src"
    assert build_book.stage(src, folder) == ["02_a", "10_b", "99_glossary"]
    index = (src / "index.md").read_text(encoding="utf-8")
    assert index.index("02_a") < index.index("10_b") < index.index("99_glossary")
    assert (src / "conf.py").is_file() and (src / "run_it_yourself.md").is_file()
    digest = build_book.inputs_digest(folder)
    nbformat.write(nbformat.v4.new_notebook(), folder / "03_new.ipynb")
    assert build_book.inputs_digest(folder) != digest, "a new chapter must make a build stale"


def test_stage_refuses_an_empty_folder(tmp_path):
    with pytest.raises(SystemExit, match="no notebooks"):
        build_book.stage(tmp_path / "src", tmp_path)
