"""The package's architecture as a test: one-directional layers, no import cycle, a light
``import glmteach``.

Every module of ``glmteach/`` is parsed with ``ast`` - imports inside functions count too
(a lazy import is still a dependency) - and each must sit in a layer of ``LAYERS``.  A
module may import modules of its own layer or of lower layers, never of a higher one, and
the graph of all imports has no cycle.  A new module has to be given a layer here, which
is the moment to decide where it belongs (docs/architecture.md describes the layers).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "glmteach"

# Lowest first.  linalg sits at the bottom with links: it is pure array code (numpy,
# scipy and threadpoolctl only) that problem.py already needs for
# GLMProblem.weighted_normal_equations.
LAYERS: list[tuple[str, set[str]]] = [
    ("pure math and data", {"exceptions", "links", "linalg", "datasets"}),
    ("families", {"families"}),
    ("validated data", {"problem"}),
    ("one step and the loop", {"irls"}),
    ("inference on a history", {"results", "influence", "prediction"}),
    ("fitting front ends", {"fit", "distributed"}),
    ("tools on fits", {"formula", "negbin", "anova", "compare"}),
    ("what the figures show, and exercises", {"traces", "plotting", "frames", "exercises"}),
    ("widgets", {"widgets"}),
]
LAYER_OF = {module: k for k, (_, modules) in enumerate(LAYERS) for module in modules}


def _module_files() -> dict[str, list[Path]]:
    """Module name -> its source files (a subpackage such as datasets/ is one module)."""
    files: dict[str, list[Path]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        if path.stem != "__init__":
            files[path.stem] = [path]
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        files[init.parent.name] = sorted(init.parent.rglob("*.py"))
    return files


def _imports(paths: list[Path], known: set[str]) -> set[str]:
    """The glmteach modules imported anywhere in these files (top level or in a function):
    ``import glmteach.x``, ``from glmteach.x import y``, ``from glmteach import x`` and
    relative imports."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "glmteach" and len(parts) > 1:
                        found.add(parts[1])
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                if node.level:  # relative: from .x import y / from . import x
                    parts = module.split(".") if module else []
                    found |= {parts[0]} if parts else {a.name for a in node.names}
                elif module == "glmteach":
                    found |= {a.name for a in node.names}
                elif module.startswith("glmteach."):
                    found.add(module.split(".")[1])
    return found & known


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = _module_files()
    known = set(files)
    return {name: _imports(paths, known) - {name} for name, paths in files.items()}


def test_the_import_parser_sees_imports_inside_functions(tmp_path):
    """The parser must find lazy imports too, or the layer test would be blind to them."""
    source = tmp_path / "m.py"
    source.write_text("import numpy\n\ndef f():\n    from glmteach.results import GLMResults\n"
                      "    from glmteach import plotting as P\n    import glmteach.irls\n"
                      "    return GLMResults, P\n")
    assert _imports([source], {"results", "plotting", "irls", "fit"}) == {
        "results", "plotting", "irls"}


def test_every_module_has_a_layer(graph):
    missing = sorted(set(graph) - set(LAYER_OF))
    assert not missing, f"modules without a layer in tests/test_architecture.py: {missing}"
    gone = sorted(set(LAYER_OF) - set(graph))
    assert not gone, f"layers name modules that do not exist: {gone}"


def test_lower_layers_never_import_higher_ones(graph):
    upward = [
        f"{module} ({LAYERS[LAYER_OF[module]][0]}) imports {other} "
        f"({LAYERS[LAYER_OF[other]][0]})"
        for module, imported in sorted(graph.items()) for other in sorted(imported)
        if LAYER_OF[other] > LAYER_OF[module]
    ]
    assert not upward, "imports against the layer order:\n" + "\n".join(upward)


def test_the_import_graph_has_no_cycle(graph):
    state: dict[str, str] = {}  # "open" while on the current path, "done" after
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        path.append(module)
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                return path[path.index(other):] + [other]
            if other not in state:
                cycle = visit(other)
                if cycle:
                    return cycle
        path.pop()
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_fitting_core_needs_no_fit_results_or_plotting(graph):
    """The cycle the refactor broke stays broken: irls knows nothing of fit or results,
    and results needs only the history (irls) and the problem."""
    assert graph["irls"] <= {"exceptions", "families", "linalg", "links", "problem"}
    assert "fit" not in graph["results"] and "fit" not in graph["irls"]
    assert graph["linalg"] == set() and graph["links"] == set()


def test_import_glmteach_is_light_and_fast():
    """In a fresh interpreter: under 1 s, and none of the heavy or optional stacks.  The
    time is the best of up to three fresh interpreters (the machine may be busy with
    other work; a genuinely slow import is slow every time)."""
    code = (
        "import json, sys, time\n"
        "t = time.perf_counter()\n"
        "import glmteach\n"
        "elapsed = time.perf_counter() - t\n"
        "heavy = [m for m in ('matplotlib', 'ipywidgets', 'pandas', 'dask', 'scipy.stats',"
        " 'formulaic') if m in sys.modules]\n"
        "print(json.dumps({'seconds': elapsed, 'heavy': heavy}))\n"
    )
    times = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=PACKAGE.parent)
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["heavy"] == [], f"import glmteach pulled in {report['heavy']}"
        times.append(report["seconds"])
        if report["seconds"] < 1.0:
            break
    assert min(times) < 1.0, f"import glmteach took {min(times):.2f} s (best of {times})"


def test_architecture_page_names_every_module():
    """docs/architecture.md describes every module of the package, each by its name in
    backquotes, so a new module cannot arrive without its line on that page."""
    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = sorted(name for name in _module_files() if f"`{name}`" not in page)
    assert not missing, f"docs/architecture.md does not describe: {', '.join(missing)}"
