"""Real-browser harness: a private JupyterLab server driven by Playwright + Debian's
Chromium (DESIGN.md section 6).

Environment variables:

- ``GLMTEACH_REQUIRE_BROWSER=1``: a missing browser (``/usr/bin/chromium``) or missing
  Playwright is a failure instead of a skip (CI sets it).
- ``GLMTEACH_CHROMIUM``: another Chromium binary (default ``/usr/bin/chromium``).
- ``GLMTEACH_E2E_NOTEBOOKS``: test the notebooks of another folder (default
  ``<repo>/notebooks``); used to try the harness on scratch notebooks.

The server runs on 127.0.0.1 with port 0 (the real port is read from its runtime file
``jpserver-<pid>.json``), a random token, fresh settings/workspaces/runtime/config/data
dirs and a temporary copy of the notebook folder, whose notebooks have their stored
outputs cleared (so every output the tests see was produced in the browser).  It is
shut down in a ``finally``: kernels deleted over REST, ``POST /api/shutdown``, then
SIGTERM / SIGKILL of the server's own PID and, last, of any process left in the
session it was started in.

A failing test leaves a screenshot in ``tests/e2e/artifacts/``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("GLMTEACH_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("GLMTEACH_REQUIRE_BROWSER", "") == "1"
NOTEBOOK_DIR = Path(os.environ.get("GLMTEACH_E2E_NOTEBOOKS", ROOT / "notebooks")).resolve()
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KERNEL_IDLE = "Python 3 (ipykernel) | Idle"
SERVER_START_TIMEOUT = 90  # s
NOTEBOOK_RUN_TIMEOUT = 240  # s for Run All Cells of one notebook

# JupyterLab user settings: no news / update pop-ups, start kernels without asking,
# render every cell (no windowing) so all outputs are in the DOM, no extension manager
# (it would query PyPI).
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
        "windowingMode": "none",
    },
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
    # Only the test saves (Lab.save), so no background save races a read of the file.
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"Playwright for Python is not installed ({exc}); pip install -e '.[test]'"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


# --------------------------------------------------------------------------- server
@dataclass
class LabServer:
    base_url: str
    token: str
    root: Path  # the server's root_dir: a temporary copy of the notebook folder
    process: subprocess.Popen
    log: Path
    workspace_counter: list[int] = field(default_factory=lambda: [0])

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10):
        """One REST call. A GET that meets a server error is tried twice more, 0.5 s
        apart (a read that races a save can fail once; a real fault fails all three)."""
        data = None if body is None else json.dumps(body).encode()
        attempts = 3 if method == "GET" else 1
        for attempt in range(attempts):
            req = urllib.request.Request(
                f"{self.base_url}{path}",
                data=data,
                method=method,
                headers={"Authorization": f"token {self.token}",
                         "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    text = resp.read().decode() or "null"
                return json.loads(text)
            except urllib.error.HTTPError as exc:
                if exc.code < 500 or attempt == attempts - 1:
                    raise
                time.sleep(0.5)

    def delete_kernels(self) -> None:
        for session in self.api("GET", "/api/sessions"):
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass
        for kernel in self.api("GET", "/api/kernels"):
            try:
                self.api("DELETE", f"/api/kernels/{kernel['id']}")
            except urllib.error.HTTPError:
                pass

    def url(self, notebook: str) -> str:
        """URL that opens ``notebook`` in a workspace of its own (no state carried over
        from an earlier test)."""
        self.workspace_counter[0] += 1
        ws = f"e2e{self.workspace_counter[0]}"
        path = urllib.parse.quote(notebook)
        return f"{self.base_url}/lab/workspaces/{ws}/tree/{path}?token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "<no server log>"


def clear_outputs(path: Path) -> None:
    """Drop stored outputs and execution counts (in the temporary copy only)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _write_settings(settings_dir: Path) -> None:
    for rel, value in USER_SETTINGS.items():
        target = settings_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value), encoding="utf-8")


def _stop(server: LabServer | None, process: subprocess.Popen) -> None:
    if server is not None:
        try:
            server.delete_kernels()
        except Exception:
            pass
        try:
            server.api("POST", "/api/shutdown", timeout=5)
        except Exception:
            pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    # Kernels the server started live in the session we created for it: end any left.
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@pytest.fixture(scope="session")
def browser_available() -> None:
    reason = browser_unavailable()
    if reason:
        if REQUIRE_BROWSER:
            pytest.fail(f"GLMTEACH_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(f"{reason}; GLMTEACH_REQUIRE_BROWSER=1 makes this a failure")


@pytest.fixture(scope="session")
def lab_server(browser_available, tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyterlab")
    dirs = {name: base / name for name in ("runtime", "settings", "workspaces", "config", "data")}
    for d in dirs.values():
        d.mkdir()
    _write_settings(dirs["settings"])
    root = base / "notebooks"
    if NOTEBOOK_DIR.is_dir():
        shutil.copytree(NOTEBOOK_DIR, root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    else:
        root.mkdir()
    for nb in root.glob("*.ipynb"):
        clear_outputs(nb)

    token = secrets.token_hex(24)
    env = dict(os.environ)
    env.update(
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={dirs['settings']}",
        f"--LabApp.workspaces_dir={dirs['workspaces']}",
    ]  # fmt: skip
    log = base / "server.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = None
    try:
        runtime_file = dirs["runtime"] / f"jpserver-{process.pid}.json"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {process.returncode}:\n{log.read_text()}")
            if runtime_file.is_file():
                try:
                    info = json.loads(runtime_file.read_text())
                    server = LabServer(
                        f"http://127.0.0.1:{info['port']}", token, root, process, log
                    )
                    server.api("GET", "/api/status", timeout=2)
                    break
                except (ValueError, KeyError, OSError):
                    server = None
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start in {SERVER_START_TIMEOUT} s:\n"
                            f"{log.read_text()}")  # fmt: skip
            time.sleep(0.2)
        yield server
    finally:
        _stop(server, process)


# --------------------------------------------------------------------------- browser
@pytest.fixture(scope="session")
def browser(browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


# --------------------------------------------------------------------------- timings
TIMING_PROPERTY = "browser timing"


@pytest.fixture
def record_timing(request):
    """``record_timing(label, seconds)``: printed in the terminal summary, so CI logs
    show how fast notebooks run and widgets answer in a real browser.  The timings travel
    as the test's ``user_properties``, which pytest-xdist passes from its workers to the
    controlling process that writes the summary."""

    def record(label: str, seconds: float) -> None:
        request.node.user_properties.append((TIMING_PROPERTY, (label, seconds)))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    timings = [
        value
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == TIMING_PROPERTY
    ]
    if timings:
        terminalreporter.section("browser timings")
        for label, seconds in timings:
            terminalreporter.write_line(f"{seconds:7.2f} s  {label}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(request, browser, lab_server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.console_errors = console_errors
    try:
        yield page
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
            try:
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                print(f"\nscreenshot: {ARTIFACTS / (name + '.png')}")
                if console_errors:
                    print("browser console errors:\n  " + "\n  ".join(console_errors[-20:]))
                print(f"server log (tail):\n{lab_server.log_tail()}")
            except Exception as exc:  # the page may be gone
                print(f"\nno screenshot: {exc}")
        context.close()
        try:
            lab_server.delete_kernels()
        except Exception:
            pass


# --------------------------------------------------------------------------- helpers
_RUN_DONE_JS = """([idle, first]) => {
    const status = [...document.querySelectorAll('.jp-StatusBar-TextItem')];
    if (!status.some(e => e.textContent.trim() === idle)) return false;
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return false;
    const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
        .map(e => e.textContent.trim());
    if (prompts.some(p => p.includes('*'))) return false;
    return first < 0 || /\\[\\d+\\]/.test(prompts[first] || '');
}"""

# Rendered stderr (streams *and* tracebacks share this mime type in JupyterLab 4) whose
# text is an exception, not a warning.
_TRACEBACK_RE = re.compile(
    r"Traceback \(most recent call last\)|^\s*[\w.]*(Error|Exception)\b(?!\w)", re.MULTILINE
)
# Digest of every image in a cell's outputs: length + a 32-bit FNV-1a hash of each src.
_IMAGES_JS = """cell => [...cell.querySelectorAll('.jp-Cell-outputArea img')].map(img => {
    const s = img.src;
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return s.length + ':' + (h >>> 0).toString(16);
}).join('|')"""
# [cell index, text] of every rendered stderr output in the visible notebook.
_STDERR_BY_CELL_JS = """selector => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return [];
    const found = [];
    panel.querySelectorAll('.jp-Notebook .jp-Cell').forEach((cell, index) => {
        cell.querySelectorAll(selector).forEach(out => found.push([index, out.innerText]));
    });
    return found;
}"""
STDERR_SELECTOR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class Lab:
    """Drive one notebook in JupyterLab (page + server of one test)."""

    def __init__(self, page, server: LabServer):
        self.page = page
        self.server = server
        self.name: str | None = None

    # -- notebook file ------------------------------------------------------------
    def notebook_json(self, name: str | None = None) -> dict:
        name = name or self.name
        return self.server.api("GET", f"/api/contents/{name}?content=1")["content"]

    def _first_code_index(self) -> int:
        """Index (among code cells) of the first code cell with any source."""
        nb = json.loads((self.server.root / self.name).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        for i, cell in enumerate(code):
            source = cell["source"]
            if ("".join(source) if isinstance(source, list) else source).strip():
                return i
        return -1

    # -- actions ------------------------------------------------------------------
    def menu(self, menu: str, command: str) -> None:
        label = self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$"))
        label.first.click()
        self.page.locator(f'.lm-Menu-item[data-command="{command}"]').first.click()

    def wait_idle(self, timeout: float = 90) -> None:
        self.page.get_by_text(KERNEL_IDLE, exact=True).first.wait_for(timeout=timeout * 1000)

    def open(self, name: str) -> None:
        self.name = name
        self.page.goto(self.server.url(name))
        self.page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for(timeout=60_000)
        self.wait_idle()

    def run_all(self, timeout: float = NOTEBOOK_RUN_TIMEOUT) -> float:
        """Run → Run All Cells, wait until every cell has run (or execution stopped at an
        error) and the kernel is idle; return the seconds it took."""
        first = self._first_code_index()
        start = time.perf_counter()
        self.menu("Run", "runmenu:run-all")
        self.page.wait_for_function(
            _RUN_DONE_JS, arg=[KERNEL_IDLE, first], timeout=timeout * 1000, polling=250
        )
        return time.perf_counter() - start

    def save(self) -> None:
        """File → Save, then wait until the write has finished.

        jupyter_server writes atomically: it keeps the old file as ``.~<name>`` until the
        new one is complete. A content request that arrives while that backup exists
        takes it for the remnant of a crashed save and tries to restore it (a 500 when
        the save then removes it), so wait for the new timestamp *and* the backup to go.
        """
        before = self.server.api("GET", f"/api/contents/{self.name}?content=0")["last_modified"]
        backup = (self.server.root / self.name).with_name(f".~{Path(self.name).name}")
        self.menu("File", "docmanager:save")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            now = self.server.api("GET", f"/api/contents/{self.name}?content=0")
            if now["last_modified"] != before and not backup.exists():
                return
            time.sleep(0.2)
        raise AssertionError(f"{self.name} was not saved within 30 s")

    # -- checks -------------------------------------------------------------------
    def _expected_error_cells(self) -> set[int]:
        """Cells tagged ``raises-exception``: their error is the lesson (JupyterLab runs
        on past them, as nbval and nbclient do)."""
        return {
            index
            for index, cell in enumerate(self.notebook_json()["cells"])
            if "raises-exception" in cell.get("metadata", {}).get("tags", [])
        }

    def saved_errors(self) -> list[str]:
        """Error outputs in the saved notebook (the authoritative record of a cell that
        raised), except in cells tagged ``raises-exception``."""
        expected = self._expected_error_cells()
        found = []
        for index, cell in enumerate(self.notebook_json()["cells"]):
            if index in expected:
                continue
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    found.append(f"cell {index}: {out.get('ename')}: {out.get('evalue')}")
        return found

    def rendered_errors(self) -> list[str]:
        """Tracebacks shown in the notebook, widget Output areas included (a widget
        callback's exception never reaches the saved file), except in cells tagged
        ``raises-exception``; and widgets that failed to display."""
        expected = self._expected_error_cells()
        shown = self.page.evaluate(_STDERR_BY_CELL_JS, STDERR_SELECTOR)
        found = [
            f"cell {index}: {text.strip()[-600:]}"
            for index, text in shown
            if index not in expected and _TRACEBACK_RE.search(text)
        ]
        for marker in ("Error displaying widget", "Error rendering output item"):
            if self.page.get_by_text(marker).count():
                found.append(f"page shows {marker!r}")
        return found

    def unrendered_widgets(self) -> int:
        """How many widget outputs of the saved notebook have no rendered widget (the
        ipywidgets front-end extension missing or failing)."""
        expected = sum(
            1
            for cell in self.notebook_json()["cells"]
            for out in cell.get("outputs", [])
            if WIDGET_VIEW in out.get("data", {})
        )
        rendered = self.page.locator(
            ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets"
        ).count()
        return max(0, expected - rendered)

    # -- widgets ------------------------------------------------------------------
    def widget_cell(self, kind: str, description: str):
        """The code cell whose output holds a widget of ``kind`` (``slider``,
        ``dropdown``...) labelled ``description``."""
        widget = self.page.locator(
            f".widget-{kind}:has(> .widget-label:text-is({json.dumps(description)}))"
        )
        cell = self.page.locator(".jp-Notebook .jp-CodeCell", has=widget).first
        cell.wait_for(timeout=30_000)
        return cell, cell.locator(
            f".widget-{kind}:has(> .widget-label:text-is({json.dumps(description)}))"
        ).first

    @staticmethod
    def images_signature(cell) -> str:
        """A digest of every image shown in the cell's outputs (plots are ``img`` with a
        base64 ``src``)."""
        return cell.evaluate(f"cell => ({_IMAGES_JS})(cell)")

    def wait_images_change(self, cell, before: str, timeout: float = 30) -> float:
        start = time.perf_counter()
        self.page.wait_for_function(
            f"([cell, before]) => {{ const s = ({_IMAGES_JS})(cell);"
            " return s !== '' && s !== before; }",
            arg=[cell.element_handle(), before],
            timeout=timeout * 1000,
            polling=50,
        )
        return time.perf_counter() - start


@pytest.fixture
def lab(page, lab_server):
    return Lab(page, lab_server)
