"""glmteach.frames: the IRLS stepper's pre-rendered frames for static pages.

The stepper's display bundle must keep the live widget view and add a self-contained
``text/html`` with one frame per (method, iteration), drawn by the stepper itself, that
survives the notebook normaliser byte for byte and is the same on every run."""

from __future__ import annotations

import base64
import html
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")
PIL = pytest.importorskip("PIL.Image")

import glmteach as gt  # noqa: E402
from glmteach import frames, widgets  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import run_notebooks  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_IMG = re.compile(r"<img src='data:image/png;base64,([^']*)'")


def _data(seed: int = 3, n: int = 120):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return np.column_stack([np.ones(n), x]), x, rng


@pytest.fixture(scope="module")
def poisson_fit():
    X, x, rng = _data()
    return gt.fit(X, rng.poisson(np.exp(0.4 + 0.6 * x)), family=gt.Poisson())


@pytest.fixture(scope="module")
def gamma_fit():
    """Non-canonical link: the stepper has both Fisher scoring and Newton-Raphson."""
    X, x, rng = _data(seed=5)
    y = rng.gamma(3.0, np.exp(0.2 + 0.3 * x) / 3.0)
    return gt.fit(X, y, family=gt.Gamma(link=gt.links.Log()))


def _stepper(res):
    return frames.attach_static_frames(widgets.IRLSStepper(res))


@pytest.fixture(scope="module")
def poisson_shown(poisson_fit):
    """A stepper and its display bundle (drawn once for the tests that only read)."""
    stepper = _stepper(poisson_fit)
    return stepper, stepper._repr_mimebundle_()


@pytest.fixture(scope="module")
def gamma_shown(gamma_fit):
    stepper = _stepper(gamma_fit)
    return stepper, stepper._repr_mimebundle_()


def _pngs(static_html: str) -> list[bytes]:
    return [base64.b64decode(html.unescape(src)) for src in _IMG.findall(static_html)]


def test_bundle_keeps_the_live_widget_and_adds_the_frames(poisson_fit, poisson_shown):
    stepper, bundle = poisson_shown
    plain = ipywidgets.Widget._repr_mimebundle_(stepper)  # the bundle without frames
    assert WIDGET_VIEW in bundle, "JupyterLab would lose the live widget"
    assert bundle["text/plain"] == plain["text/plain"]
    static = bundle["text/html"]
    assert f"class='{frames.STATIC_CLASS}'" in static
    K = poisson_fit.n_iter
    assert static.count("class='gt-frame'") == K + 1
    assert f"max='{K}'" in static and "class='gt-play'" in static
    assert "type='radio'" not in static, "a canonical link has one method: no switch"
    # exactly one frame is visible without JavaScript: iteration 0
    assert static.count("class='gt-frame' data-m='0' data-k='0'>") == 1
    assert static.count(" hidden style='display:none'>") == K  # the other frames


def test_each_frame_is_what_the_stepper_draws_at_that_iteration(poisson_fit):
    stepper = widgets.IRLSStepper(poisson_fit)
    found = frames.stepper_frames(stepper)
    assert [f.iteration for f in found] == list(range(poisson_fit.n_iter + 1))
    stepper.slider.value = 2
    live_table = stepper.readout.value
    assert found[2].table_html == live_table
    width, height = stepper.figure.canvas.get_width_height(physical=True)
    for frame in found:
        image = PIL.open(io.BytesIO(frame.png))
        assert image.size == (width, height)
    assert len({f.png for f in found}) == len(found), "two iterations drew the same figure"
    assert len({f.table_html for f in found}) == len(found)


def test_controls_are_put_back_after_drawing_the_frames(gamma_fit):
    stepper = _stepper(gamma_fit)
    stepper.slider.value = 1
    stepper.method.value = "Newton-Raphson"
    stepper._repr_mimebundle_()
    assert stepper.current == "Newton-Raphson"
    assert stepper.method.value == "Newton-Raphson"
    assert stepper.slider.value == 1


def test_two_methods_give_a_method_switch_and_frames_for_both(gamma_shown):
    stepper, bundle = gamma_shown
    static = bundle["text/html"]
    assert static.count("type='radio'") == 2
    n_frames = sum(res.n_iter + 1 for res in stepper.fits.values())
    assert static.count("class='gt-frame'") == n_frames
    maxima = json.loads(html.unescape(re.search(r"data-maxima='([^']*)'", static).group(1)))
    assert maxima == {str(i): res.n_iter for i, res in enumerate(stepper.fits.values())}
    assert len(_pngs(static)) == n_frames


def test_output_is_deterministic_and_survives_the_normaliser(poisson_fit, poisson_shown):
    first = poisson_shown[1]
    second = _stepper(poisson_fit)._repr_mimebundle_()
    assert first["text/html"] == second["text/html"]
    static = first["text/html"]
    assert "0x" not in static, "the sanitiser would rewrite it as a memory address"
    patterns = run_notebooks.load_patterns()
    assert run_notebooks._sanitize(static, patterns) == static
    # no long unbroken run: the sanitiser's `[^\s...]*` patterns are quadratic on one
    longest = max(len(run) for run in re.split(r"\s", static))
    assert longest < 1000, f"a run of {longest} characters without white space"
    # what tools/run_notebooks.py stores: the widget view goes, text/html stays
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("widgets.irls_stepper(res)")
    cell.outputs = [nbformat.v4.new_output("execute_result", data=first, execution_count=1)]
    nb.cells = [cell]
    run_notebooks.normalise(nb, patterns)
    kept = nb.cells[0].outputs[0]["data"]
    assert set(kept) == {"text/plain", "text/html"}
    assert kept["text/html"] == static


def test_data_urls_decode_to_the_frames(poisson_shown):
    stepper = poisson_shown[0]
    found = frames.stepper_frames(stepper)
    static = frames.static_stepper_html(stepper, found)
    assert _pngs(static) == [f.png for f in found]
    assert static == poisson_shown[1]["text/html"]


def test_a_frame_failure_leaves_the_live_widget(poisson_shown, monkeypatch):
    stepper = poisson_shown[0]

    def broken(_stepper):
        raise RuntimeError("cannot draw")

    monkeypatch.setattr(frames, "static_stepper_html", broken)
    bundle = stepper._repr_mimebundle_()
    assert WIDGET_VIEW in bundle and "text/html" not in bundle


def test_bad_arguments_raise_clear_errors(poisson_fit):
    with pytest.raises(ValueError, match="stepper must be a glmteach IRLSStepper"):
        frames.stepper_frames(widgets.link_explorer())
    with pytest.raises(ValueError, match="frames must hold at least one Frame"):
        frames.static_stepper_html(widgets.IRLSStepper(poisson_fit), [])


def test_irls_stepper_ships_its_frames(poisson_fit):
    """What the notebooks call: ``widgets.irls_stepper`` returns a stepper whose display
    output holds the frames."""
    bundle = widgets.irls_stepper(poisson_fit)._repr_mimebundle_()
    assert WIDGET_VIEW in bundle
    assert f"class='{frames.STATIC_CLASS}'" in bundle["text/html"]
