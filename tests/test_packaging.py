"""Packaging checks: pip and conda environments agree, the extras fit their users, the
wheel carries the data sets, ``import glmteach`` stays light, and the CI workflow runs the
README's test command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# conda-forge name -> PyPI name, where they differ.  Add a line here whenever
# environment.yml needs a conda-only spelling (e.g. matplotlib-base).
CONDA_TO_PIP = {
    "matplotlib-base": "matplotlib",
    "pytables": "tables",
    "python-graphviz": "graphviz",
    "pytorch": "torch",
}
# Entries of environment.yml that are not Python packages of glmteach's own.
CONDA_ONLY = {"python", "pip"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


# The extras environment.yml (the conda / Binder environment of readers) installs besides
# the core dependencies.  The test and book tools stay out of it.
CONDA_EXTRAS = ("lab", "dask")  # dask: chapter 13 runs a LocalCluster


def _names(lines) -> set[str]:
    return {canonicalize_name(Requirement(line).name) for line in lines}


def pip_requirements() -> dict[str, SpecifierSet]:
    """Core dependencies + the extras of ``CONDA_EXTRAS``; requirements with an
    environment marker (back-ports such as ``tomli`` for Python 3.10) are left out: conda
    resolves those itself."""
    project = _pyproject()["project"]
    lines = list(project["dependencies"])
    for extra in CONDA_EXTRAS:
        lines += list(project["optional-dependencies"][extra])
    reqs = {}
    for line in lines:
        req = Requirement(line)
        if req.marker is not None:
            continue
        name = canonicalize_name(req.name)
        assert name not in reqs, f"{req.name} listed twice in pyproject.toml"
        reqs[name] = req.specifier
    return reqs


def conda_requirements() -> dict[str, SpecifierSet]:
    reqs = {}
    for entry in _environment()["dependencies"]:
        if not isinstance(entry, str):
            continue  # the pip: sub-list
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", entry)
        assert match, f"cannot parse environment.yml entry {entry!r}"
        conda_name, spec = match.groups()
        if conda_name in CONDA_ONLY:
            continue
        name = canonicalize_name(CONDA_TO_PIP.get(conda_name, conda_name))
        assert name not in reqs, f"{conda_name} listed twice in environment.yml"
        reqs[name] = SpecifierSet(spec.replace(" ", ""))
    return reqs


def test_pip_and_conda_name_the_same_packages():
    pip, conda = pip_requirements(), conda_requirements()
    assert set(pip) == set(conda), (
        f"only in pyproject.toml: {sorted(set(pip) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(pip))}"
    )


def test_pip_and_conda_lower_bounds_agree():
    pip, conda = pip_requirements(), conda_requirements()
    differ = {
        name: (str(pip[name]), str(conda[name]))
        for name in set(pip) & set(conda)
        if pip[name] != conda[name]
    }
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"


def test_core_dependencies_are_the_notebooks_stack():
    core = _names(_pyproject()["project"]["dependencies"])
    needed = {
        "numpy", "scipy", "pandas", "formulaic", "statsmodels", "matplotlib", "ipywidgets",
    }  # fmt: skip
    assert needed <= core, f"missing core dependencies: {sorted(needed - core)}"


def test_plain_install_pulls_in_no_lab_test_or_book_tools():
    """``pip install glmteach`` is the package alone (it must also install in Pyodide,
    where JupyterLab cannot): JupyterLab, the test tools and the book tools are extras."""
    project = _pyproject()["project"]
    core = _names(project["dependencies"])
    extras = project["optional-dependencies"]
    tools = {"jupyterlab", "notebook"} | _names(extras["test"]) | _names(extras["book"])
    assert not core & tools, f"core dependencies that belong in an extra: {sorted(core & tools)}"
    assert "jupyterlab" in _names(extras["lab"])
    assert {"playwright", "pytest", "nbval"} <= _names(extras["test"])
    assert {"sphinx", "myst-nb", "sphinx-book-theme", "sphinx-mathjax-offline"} <= _names(
        extras["book"]
    )


def test_environment_for_readers_has_no_test_or_book_tools():
    """Binder builds environment.yml for readers: JupyterLab yes, the browser-test tools
    (conda-forge's ``playwright`` is even the Node.js package) and the book tools no."""
    conda = set(conda_requirements())
    extras = _pyproject()["project"]["optional-dependencies"]
    tools = _names(extras["test"]) | _names(extras["book"])
    assert "jupyterlab" in conda
    assert not conda & tools, f"test / book tools in environment.yml: {sorted(conda & tools)}"


def test_license_is_an_spdx_string():
    """A TOML table for ``project.license`` is deprecated (setuptools warns at every
    install); PEP 639 wants an SPDX expression, which needs setuptools >= 77."""
    pyproject = _pyproject()
    assert pyproject["project"]["license"] == "MIT"
    build = [Requirement(r) for r in pyproject["build-system"]["requires"]]
    setuptools = next(r for r in build if canonicalize_name(r.name) == "setuptools")
    assert not setuptools.specifier.contains("76.9"), f"{setuptools} allows setuptools < 77"


def test_make_targets_install_the_extras_they_use():
    """``make lab`` needs JupyterLab, ``make test`` the test tools, JupyterLab (browser
    tests) and the book tools (it builds the book): the venv the Makefile creates has all."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r'pip install [^\n]*-e "\.\[([a-z,]+)\]"', makefile)
    assert match, "the Makefile does not pip install the checkout with extras"
    assert {"lab", "test", "book"} <= set(match.group(1).split(",")), match.group(0)
    for target in ("lab", "test", "book"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"no `make {target}`"


def _readme_test_command() -> str:
    """The command in the first code block of the README's "Checking everything"."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Checking everything", 1)
    assert len(section) == 2, "README.md has no '## Checking everything' section"
    block = re.search(r"```(?:bash|sh)?\n(.*?)```", section[1], re.DOTALL)
    assert block, "no code block under '## Checking everything'"
    lines = [ln.strip() for ln in block.group(1).splitlines() if ln.strip()]
    return lines[0]


def test_ci_workflow_runs_the_readme_test_command():
    """Forks run ``.github/workflows/test.yml``: it installs Debian's Chromium, makes a
    missing browser a failure, and runs the very command the README gives for checking
    everything."""
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    command = _readme_test_command()
    assert command == "make test", f"README's test command changed to {command!r}"
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = [line.strip() for step in steps for line in step.get("run", "").splitlines()]
    assert command in runs, f"the workflow never runs {command!r}: {runs}"
    install = runs.index(next(line for line in runs if "apt-get install" in line))
    assert "chromium" in runs[install] and install < runs.index(command)
    env = {k: v for job in workflow["jobs"].values() for k, v in job.get("env", {}).items()}
    assert env.get("GLMTEACH_REQUIRE_BROWSER") == "1", "the browser tests would only skip"


def test_binder_postbuild_installs_the_lab_settings(tmp_path):
    """repo2docker runs ``postBuild`` after building environment.yml; it must put the
    project's JupyterLab settings where JupyterLab reads them, in the Binder prefix."""
    script = ROOT / "postBuild"
    assert script.is_file() and script.stat().st_mode & 0o111, "postBuild must be executable"
    proc = subprocess.run(
        ["bash", str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "NB_PYTHON_PREFIX": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    installed = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.read_bytes() == (ROOT / "lab-settings" / "overrides.json").read_bytes()


def test_environment_installs_glmteach_itself():
    env = _environment()
    assert env["channels"] == ["conda-forge"]
    pip_sections = [e["pip"] for e in env["dependencies"] if isinstance(e, dict) and "pip" in e]
    assert pip_sections, "environment.yml has no pip: section"
    assert any(line in ("-e .", ".") for line in pip_sections[0]), (
        "environment.yml must pip-install the checkout (`- -e .`) so Binder has glmteach"
    )


def test_import_is_light_and_fast():
    """``import glmteach`` must not pull in matplotlib or ipywidgets (they load only with
    ``glmteach.plotting`` / ``glmteach.widgets``) and must take under a second.  Measured
    in a fresh interpreter; the best of two runs, since the first may also write the
    package's ``__pycache__``."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import glmteach\n"
        "dt = time.perf_counter() - t0\n"
        "heavy = sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules)\n"
        "print(json.dumps({'seconds': dt, 'heavy': heavy}))\n"
    )
    runs = []
    for _ in range(2):
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"import glmteach failed:\n{proc.stderr}"
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert runs[-1]["heavy"] == [], f"import glmteach imported {runs[-1]['heavy']}"
    best = min(r["seconds"] for r in runs)
    assert best < 1.0, f"import glmteach took {best:.2f} s (limit 1 s)"


def test_build_includes_modules_and_datasets(tmp_path):
    """What setuptools' ``build_py`` (the step that fills a wheel) collects from a copy of
    the project: every module and the CSV data sets.  Offline: no build isolation."""
    pytest.importorskip("setuptools", reason="the build check needs setuptools in the env")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "glmteach", src / "glmteach", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp_path / "lib"
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import setuptools; setuptools.setup()",
            "-q",
            "build_py",
            "-d",
            str(out),
        ],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"build_py failed:\n{proc.stdout}\n{proc.stderr}"
    built = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    expected = {
        p.relative_to(src).as_posix()
        for pattern in ("glmteach/**/*.py", "glmteach/datasets/*.csv")
        for p in src.glob(pattern)
    }
    assert any(name.endswith(".csv") for name in expected), "no data sets in glmteach/datasets"
    missing = sorted(expected - built)
    assert not missing, f"missing from the build: {missing}"


def test_jupyterlab_project_settings_turn_the_news_off():
    """`make lab` installs lab-settings/overrides.json where JupyterLab reads project
    defaults, so no news pop-up greets a student at the first start."""
    repo = ROOT / "lab-settings" / "overrides.json"
    settings = json.loads(repo.read_text(encoding="utf-8"))
    notification = settings["@jupyterlab/apputils-extension:notification"]
    assert notification["fetchNews"] == "false"
    assert notification["checkForUpdates"] is False
    installed = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert installed.is_file(), "run `make venv`: the overrides are installed with the venv"
    assert json.loads(installed.read_text(encoding="utf-8")) == settings
