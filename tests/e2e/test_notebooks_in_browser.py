"""End-to-end: the chapter notebooks in JupyterLab, in a real (headless) Chromium.

- every ``notebooks/*.ipynb``: Run All Cells works, no cell raises, no traceback is
  shown, every widget renders;
- chapter 3 (``notebooks/03_*.ipynb``): the IRLS stepper (IntSlider ``iteration`` +
  Play) redraws the plot when the slider moves, and Play advances the slider;
- chapter 1 (``notebooks/01_*.ipynb``): the family explorer (Dropdown ``family``)
  redraws the plot when the family changes;
- the harness itself, on notebooks generated here (so it is tested before and
  independently of the chapters): widgets drive a plot; errors, including a widget
  callback's, are detected.

Widgets are found by their description label, not by position, so a chapter can be
re-arranged freely.  The harness lives in ``conftest.py``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Same rule as conftest.py (GLMTEACH_E2E_NOTEBOOKS points the suite at scratch notebooks).
NOTEBOOK_DIR = Path(os.environ.get("GLMTEACH_E2E_NOTEBOOKS", ROOT / "notebooks")).resolve()


def chapter(prefix: str):
    matches = sorted(NOTEBOOK_DIR.glob(f"{prefix}_*.ipynb"))
    return matches[0] if matches else None


def write_notebook(root, name: str, cells: list) -> str:
    """Write a notebook of code cells; an entry is the source, or (source, [tags])."""
    entries = [c if isinstance(c, tuple) else (c, []) for c in cells]
    nb = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}",
             "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": src}
            for i, (src, tags) in enumerate(entries)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    (root / name).write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return name


def run_clean(lab, record_timing, name: str) -> None:
    """Open ``name``, run all cells, and assert nothing failed."""
    lab.open(name)
    took = lab.run_all()
    record_timing(f"Run All Cells: {name}", took)
    lab.save()
    errors = lab.saved_errors() + lab.rendered_errors()
    assert not errors, f"{name}: errors after Run All Cells:\n" + "\n".join(errors)
    lab.page.wait_for_timeout(300)
    missing = lab.unrendered_widgets()
    deadline = time.monotonic() + 15
    while missing and time.monotonic() < deadline:
        lab.page.wait_for_timeout(500)
        missing = lab.unrendered_widgets()
    assert missing == 0, f"{name}: {missing} widget output(s) did not render as widgets"


def slider_value(handle) -> float:
    return float(handle.get_attribute("aria-valuenow"))


def wait_slider(lab, handle, predicate_js: str, timeout: float = 20) -> None:
    lab.page.wait_for_function(
        f"h => {{ const v = parseFloat(h.getAttribute('aria-valuenow')); return {predicate_js}; }}",
        arg=handle.element_handle(),
        timeout=timeout * 1000,
        polling=50,
    )


def check_stepper(lab, record_timing, label: str) -> None:
    """The ``iteration`` slider redraws the plot; its Play button advances it."""
    cell, slider = lab.widget_cell("slider", "iteration")
    handle = slider.locator(".noUi-handle[role=slider]")
    readout = slider.locator(".widget-readout")
    lab.wait_idle()
    lo = float(handle.get_attribute("aria-valuemin"))
    hi = float(handle.get_attribute("aria-valuemax"))
    assert hi > lo, f"{label}: the iteration slider has a single value ({lo})"
    if slider_value(handle) >= hi:  # make room to move right
        handle.press("Home")
        wait_slider(lab, handle, f"v === {lo}")
        lab.wait_idle()
    start_value = slider_value(handle)
    before_img = lab.images_signature(cell)
    before_readout = readout.inner_text()

    t0 = time.perf_counter()
    handle.press("ArrowRight")
    lab.wait_images_change(cell, before_img)
    seconds = time.perf_counter() - t0
    record_timing(f"slider -> new plot: {label}", seconds)
    print(f"{label}: slider -> new plot in {seconds:.2f} s")

    assert slider_value(handle) > start_value, f"{label}: ArrowRight did not move the slider"
    assert readout.inner_text() != before_readout, f"{label}: the slider readout did not change"
    lab.wait_idle()
    assert not lab.rendered_errors(), "\n".join(lab.rendered_errors())

    # Play: from below the maximum, the value must advance by itself.
    play = cell.locator(".widget-play")
    assert play.count(), f"{label}: no Play widget in the cell of the iteration slider"
    if slider_value(handle) >= hi:
        handle.press("Home")
        wait_slider(lab, handle, f"v === {lo}")
    before_play = slider_value(handle)
    play.locator("button:has(.fa-play)").first.click()
    wait_slider(lab, handle, f"v > {before_play}")
    stop = play.locator("button:has(.fa-stop), button:has(.fa-pause)")
    if stop.count():
        stop.first.click()
    lab.wait_idle()
    assert not lab.rendered_errors(), "\n".join(lab.rendered_errors())


def check_family_dropdown(lab, record_timing, label: str) -> None:
    """Choosing another family in the ``family`` dropdown redraws the plot."""
    cell, dropdown = lab.widget_cell("dropdown", "family")
    select = dropdown.locator("select")
    lab.wait_idle()
    values = [o.get_attribute("value") for o in select.locator("option").all()]
    current = select.input_value()
    others = [v for v in values if v != current]
    assert others, f"{label}: the family dropdown offers a single choice"
    before_img = lab.images_signature(cell)
    t0 = time.perf_counter()
    select.select_option(value=others[0])
    lab.wait_images_change(cell, before_img)
    seconds = time.perf_counter() - t0
    record_timing(f"family dropdown -> new plot: {label}", seconds)
    print(f"{label}: family {current!r} -> {others[0]!r}: new plot in {seconds:.2f} s")
    lab.wait_idle()
    assert not lab.rendered_errors(), "\n".join(lab.rendered_errors())


def check_theta_slider(lab, record_timing, label: str) -> None:
    """A click near the right end of the family explorer's ``theta`` slider moves the
    ``mean`` slider up (mu = b'(theta)) and redraws the plot.  (A click, not the End
    key: after a change of family, the slider's Home/End keys went to the ends of
    the range it was first drawn with in our runs, while the mouse used the new one.)"""
    cell, theta = lab.widget_cell("slider", "theta")
    mean = cell.locator('.widget-slider:has(> .widget-label:text-is("mean"))').first
    mean_handle = mean.locator(".noUi-handle[role=slider]")
    track = theta.locator(".noUi-base").first
    lab.wait_idle()
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    before_mean = slider_value(mean_handle)
    before_img = lab.images_signature(cell)
    t0 = time.perf_counter()
    lab.page.mouse.click(box["x"] + 0.95 * box["width"], box["y"] + box["height"] / 2)
    lab.wait_images_change(cell, before_img)
    seconds = time.perf_counter() - t0
    record_timing(f"theta slider -> new plot: {label}", seconds)
    wait_slider(lab, mean_handle, f"v > {before_mean}")
    print(f"{label}: theta click: mean {before_mean:g} -> {slider_value(mean_handle):g}, "
          f"new plot in {seconds:.2f} s")
    lab.wait_idle()
    assert not lab.rendered_errors(), "\n".join(lab.rendered_errors())


# --------------------------------------------------------------------------- chapters
@pytest.mark.parametrize("name", [p.name for p in sorted(NOTEBOOK_DIR.glob("*.ipynb"))])
def test_notebook_runs_in_browser(lab, record_timing, name):
    run_clean(lab, record_timing, name)


def test_irls_stepper_widget(lab, record_timing):
    path = chapter("03")
    if path is None:
        pytest.skip("notebook not written yet: notebooks/03_*.ipynb")
    run_clean(lab, record_timing, path.name)
    check_stepper(lab, record_timing, path.name)


def test_family_explorer_widget(lab, record_timing):
    path = chapter("01")
    if path is None:
        pytest.skip("notebook not written yet: notebooks/01_*.ipynb")
    run_clean(lab, record_timing, path.name)
    check_family_dropdown(lab, record_timing, path.name)
    check_theta_slider(lab, record_timing, path.name)


# --------------------------------------------------------------------------- harness
HARNESS_WIDGETS = [
    "import matplotlib.pyplot as plt\nimport numpy as np\nimport ipywidgets as widgets",
    """\
iteration = widgets.IntSlider(value=0, min=0, max=4, description="iteration")
play = widgets.Play(value=0, min=0, max=4, interval=400, description="play")
widgets.jslink((play, "value"), (iteration, "value"))
family = widgets.Dropdown(options=["poisson", "gamma"], value="poisson", description="family")
out = widgets.Output()


def draw(*_):
    with out:
        out.clear_output(wait=True)
        fig, ax = plt.subplots(figsize=(3, 2))
        x = np.linspace(0, 1, 20)
        power = 1 if family.value == "poisson" else 2
        ax.plot(x, (iteration.value + 1) * x**power)
        ax.set_title(f"{family.value}, iteration {iteration.value}")
        plt.show()


iteration.observe(draw, names="value")
family.observe(draw, names="value")
draw()
widgets.VBox([widgets.HBox([play, iteration]), family, out])""",
]

HARNESS_ERRORS = [
    """\
import ipywidgets as widgets
out = widgets.Output()
boom = widgets.IntSlider(value=0, min=0, max=3, description="boom")


def explode(change):
    with out:
        raise ValueError(f"boom at {change['new']}")


boom.observe(explode, names="value")
widgets.VBox([boom, out])""",
    "print('before the error')",
    ("raise KeyError('an expected error, part of the lesson')", ["raises-exception"]),
    "1 / 0",
    "print('never runs')",
]


def test_harness_widgets_drive_a_plot(lab, lab_server, record_timing):
    """The harness on a generated notebook: widgets render in this JupyterLab, the
    slider, Play and dropdown checks pass."""
    name = write_notebook(lab_server.root, "_e2e_harness_widgets.ipynb", HARNESS_WIDGETS)
    run_clean(lab, record_timing, name)
    check_stepper(lab, record_timing, name)
    check_family_dropdown(lab, record_timing, name)


def test_harness_detects_errors(lab, lab_server):
    """The error checks can fail: a raising cell stops Run All and is reported from the
    saved file and the page; a cell tagged ``raises-exception`` is not an error; a
    widget callback's traceback is seen in the page."""
    name = write_notebook(lab_server.root, "_e2e_harness_errors.ipynb", HARNESS_ERRORS)
    lab.open(name)
    lab.run_all()
    lab.save()
    saved = lab.saved_errors()
    assert saved == ["cell 3: ZeroDivisionError: division by zero"], saved
    shown = lab.rendered_errors()
    assert any("ZeroDivisionError" in e for e in shown), shown
    assert not any("KeyError" in e for e in shown), shown
    cells = lab.notebook_json()["cells"]
    assert [o["output_type"] for o in cells[2]["outputs"]] == ["error"]
    assert cells[4]["execution_count"] is None and not cells[4]["outputs"], "ran past the error"

    cell, slider = lab.widget_cell("slider", "boom")
    slider.locator(".noUi-handle[role=slider]").press("ArrowRight")
    lab.page.wait_for_function(
        "() => [...document.querySelectorAll('.widget-output')]"
        ".some(o => o.innerText.includes('ValueError'))",
        timeout=20_000,
    )
    assert any("ValueError: boom at 1" in e for e in lab.rendered_errors()), lab.rendered_errors()
