"""Widgets of glmteach.widgets, driven programmatically (no browser, Agg backend).

Each test moves a control the way the browser would (setting the trait value, which
runs the widget's observers synchronously) and checks what the user would see: the
PNG in the output area, the figure's artists, the readout text, or a message.
"""

from __future__ import annotations

import base64
import importlib

import matplotlib

matplotlib.use("Agg", force=True)

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glmteach as gt  # noqa: E402
from glmteach import plotting as gp  # noqa: E402
from glmteach import traces  # noqa: E402
from glmteach import widgets as gw  # noqa: E402
from glmteach.fit import fit_problem  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(widget) -> bytes | None:
    """The PNG currently shown in the widget's output area (None when only a message)."""
    for item in widget.output.outputs:
        data = item.get("data", {})
        if "image/png" in data:
            return base64.b64decode(data["image/png"])
    return None


def _texts(widget) -> str:
    return "\n".join(item.get("data", {}).get("text/plain", "") for item in widget.output.outputs)


# ======================================================================================
# IRLS stepper
# ======================================================================================
def test_stepper_structure(poisson2):
    st = gw.irls_stepper(poisson2)
    assert isinstance(st, W.VBox)
    assert isinstance(st.slider, W.IntSlider) and st.slider.description == "iteration"
    assert (st.slider.min, st.slider.max, st.slider.value) == (0, poisson2.n_iter, 0)
    assert isinstance(st.play, W.Play) and st.play.max == poisson2.n_iter
    assert st.method is None  # canonical link: Fisher scoring is Newton-Raphson
    assert len(st.figure.axes) == 4  # (a), (b), (c) and the key
    assert set(st.panels) == {"path", "convergence", "wls"}
    assert st.n_draws == 1
    assert _png(st).startswith(PNG_MAGIC)
    assert "IRLSStepper" in repr(st) and len(repr(st)) < 110


def test_stepper_iteration_zero_is_the_start(poisson2):
    st = gw.irls_stepper(poisson2)
    assert "start: mean from the data" in st.readout.value
    path = st.panels["path"]
    assert path.start_note.get_visible()
    assert len(path.point.get_xdata()) == 0  # no coefficients, no point


def test_stepper_slider_redraws_every_panel(poisson2):
    st = gw.irls_stepper(poisson2)
    before = _png(st)
    draws = st.n_draws
    st.slider.value = 2
    assert st.n_draws == draws + 1
    assert _png(st) != before
    state = poisson2.history[2]
    path, conv, wls = (st.panels[k] for k in ("path", "convergence", "wls"))
    # (a) the current point is beta_2
    np.testing.assert_allclose([path.point.get_xdata()[0], path.point.get_ydata()[0]],
                               state.params)
    assert not path.start_note.get_visible()
    # (b) the marker sits on D_2
    np.testing.assert_allclose(conv.vline.get_xdata(), [2, 2])
    assert conv.point.get_ydata()[0] == pytest.approx(state.deviance)
    # (c) the points are (eta - offset, z) of iteration 2
    offsets = wls.points.get_offsets()
    np.testing.assert_allclose(offsets[:, 0], state.eta - poisson2.problem.offset)
    np.testing.assert_allclose(offsets[:, 1], state.z)
    # (d) the table shows beta_2 and D_2
    assert f"{state.params[0]:.8g}" in st.readout.value
    assert f"{state.deviance:.10g}" in st.readout.value
    assert "iteration 2" in st.readout.value


def test_stepper_last_iteration_readout(poisson2):
    st = gw.irls_stepper(poisson2)
    st.slider.value = poisson2.n_iter
    assert "converged" in st.readout.value
    assert f"{poisson2.llf:.10g}" in st.readout.value


def test_stepper_figure_savefig_draws_the_current_state(poisson2, tmp_path):
    st = gw.irls_stepper(poisson2)
    st.slider.value = 1
    out = tmp_path / "stepper.png"
    st.figure.savefig(out)
    assert out.read_bytes().startswith(PNG_MAGIC)


def test_stepper_play_is_linked_to_slider(poisson2):
    st = gw.irls_stepper(poisson2)
    st.play.value = 3
    assert st.slider.value == 3
    st.slider.value = 1
    assert st.play.value == 1


# Everything a refit runs through, where it is bound: the fit entry points, the loop,
# the two steps and the weighted least squares solver.
# (importlib: the attribute glmteach.fit is the function gt.fit, not the module)
FIT_MODULES = tuple(importlib.import_module(f"glmteach.{name}")
                    for name in ("fit", "irls", "linalg", "problem", "traces"))
FIT_FUNCTIONS = ("fit", "fit_problem", "iterate", "irls_step", "newton_step",
                 "initial_state", "solve_weighted_least_squares",
                 "weighted_normal_equations", "cholesky_solver")


def _forbid_fitting(monkeypatch) -> list[str]:
    """Replace every function of FIT_FUNCTIONS in FIT_MODULES by one that records its
    name and raises; returns the list of recorded names."""
    calls: list[str] = []

    def forbidden(name):
        def refit(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called: a slider move must not refit")
        return refit

    for module in FIT_MODULES:
        for name in FIT_FUNCTIONS:
            if callable(getattr(module, name, None)):
                monkeypatch.setattr(module, name, forbidden(f"{module.__name__}.{name}"))
    return calls


@pytest.mark.parametrize("fixture", ["poisson2", "gamma_log"])
def test_stepper_does_not_refit(fixture, request, monkeypatch):
    res = request.getfixturevalue(fixture)
    st = gw.irls_stepper(res)
    unpatched_fit = FIT_MODULES[0].fit_problem
    calls = _forbid_fitting(monkeypatch)
    # the guard is real: a refit through the untouched entry point trips it
    with pytest.raises(AssertionError, match="must not refit"):
        unpatched_fit(res.problem, method=res.method)
    assert calls, "no fitting function was intercepted"
    calls.clear()
    draws = st.n_draws
    methods = list(st.fits) if st.method is not None else [st.current]
    for method in methods:
        if st.method is not None:
            st.method.value = method
        for k in range(st.results.n_iter + 1):
            st.slider.value = k
            assert st.message == "", st.message
    assert calls == []
    assert st.n_draws >= draws + sum(f.n_iter for f in st.fits.values())


def test_stepper_many_coefficients(binomial4):
    st = gw.irls_stepper(binomial4)
    st.slider.value = 2
    path = st.panels["path"]
    np.testing.assert_allclose(path.vline.get_xdata(), [2, 2])
    np.testing.assert_allclose(path.point.get_ydata(), binomial4.history[2].params)
    assert len(st.axes["path"].get_lines()) >= 4  # one line per coefficient
    st.slider.value = 0
    assert len(path.point.get_xdata()) == 0
    assert path.start_note.get_visible()


def test_stepper_method_switch_for_non_canonical_link(gamma_log):
    assert not gamma_log.family.is_canonical
    st = gw.irls_stepper(gamma_log)
    assert isinstance(st.method, W.ToggleButtons)
    assert st.method.description == "method"
    assert tuple(st.method.options) == ("Fisher scoring", "Newton-Raphson")
    assert st.method.value == "Fisher scoring"
    newton = fit_problem(gamma_log.problem, method="newton")
    st.slider.value = 1
    fisher_png = _png(st)
    st.method.value = "Newton-Raphson"
    assert st.results.method == "newton"
    assert st.slider.max == newton.n_iter
    assert "Newton-Raphson" in st.readout.value
    point = st.panels["path"].point
    np.testing.assert_allclose([point.get_xdata()[0], point.get_ydata()[0]],
                               newton.history[st.slider.value].params)
    assert _png(st) != fisher_png
    # the two methods took different first steps from the same start
    assert not np.allclose(newton.history[1].params, gamma_log.history[1].params)
    st.method.value = "Fisher scoring"
    assert st.results is gamma_log


def test_stepper_compare_argument_is_used(gamma_log):
    newton = fit_problem(gamma_log.problem, method="newton")
    st = gw.irls_stepper(gamma_log, compare=newton)
    assert st.fits["Newton-Raphson"] is newton
    st.method.value = "Newton-Raphson"
    assert st.results is newton


def test_stepper_compare_of_another_problem_is_reported(gamma_log, poisson2):
    st = gw.irls_stepper(gamma_log, compare=poisson2)
    assert "compare= ignored" in st.message
    assert st.fits["Newton-Raphson"] is not poisson2  # computed from the problem instead
    st.method.value = "Newton-Raphson"
    assert st.results.method == "newton"


def test_stepper_slider_clamped_when_switching_to_shorter_history(gamma_log):
    st = gw.irls_stepper(gamma_log)
    other = st.fits["Newton-Raphson"]
    st.slider.value = st.slider.max
    st.method.value = "Newton-Raphson"
    assert st.slider.value <= other.n_iter
    assert st.play.max == other.n_iter


def test_stepper_iteration_without_vectors_shows_message(big_poisson):
    st = gw.irls_stepper(big_poisson, max_points=500)
    st.slider.value = 1
    assert "no working vectors" in st.message
    assert "no working vectors" in _texts(st)
    assert _png(st) is not None  # the other panels are still drawn
    assert st.panels["wls"].missing.get_visible()
    st.slider.value = big_poisson.n_iter
    assert st.message == ""
    assert st.panels["wls"].points.get_offsets().shape == (500, 2)


def test_stepper_errors_become_messages(poisson2, monkeypatch):
    st = gw.irls_stepper(poisson2)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(traces, "working_regression_data", broken)
    st.slider.value = 3  # must not raise
    assert "boom" in st.message and "RuntimeError" in st.message
    assert _png(st) is None


# ======================================================================================
# Family explorer
# ======================================================================================
def test_family_explorer_defaults():
    fe = gw.family_explorer()
    assert isinstance(fe.family, W.Dropdown) and fe.family.description == "family"
    assert tuple(fe.family.options) == gp.FAMILY_NAMES
    assert fe.family.value == "Poisson"
    assert fe.mean.description == "mean" and fe.phi.description == "phi"
    assert fe.phi.disabled  # phi = 1 for the Poisson
    assert "φ = 1" in fe.note.value
    assert _png(fe).startswith(PNG_MAGIC)
    assert fe.message == ""


@pytest.mark.parametrize("name", gp.FAMILY_NAMES)
def test_family_explorer_every_family_draws(name):
    fe = gw.family_explorer("Gaussian" if name != "Gaussian" else "Poisson")
    draws = fe.n_draws
    fe.family.value = name
    assert fe.n_draws == draws + 1
    assert fe.message == ""
    assert _png(fe) is not None
    ax = fe.figure.axes[0]
    mean_line = [ln for ln in ax.get_lines() if ln.get_label().startswith("mean")][0]
    assert mean_line.get_xdata()[0] == pytest.approx(fe.mean.value)
    assert fe.phi.disabled == (name in ("Binomial", "Poisson", "NegativeBinomial"))
    assert "θ" in fe.readout.value


def test_family_explorer_mean_slider_changes_the_figure():
    fe = gw.family_explorer("Gamma")
    before = _png(fe)
    fe.mean.value = 5.0
    assert _png(fe) != before
    ax = fe.figure.axes[0]
    mean_line = [ln for ln in ax.get_lines() if ln.get_label().startswith("mean")][0]
    assert mean_line.get_xdata()[0] == pytest.approx(5.0)
    theta = -1 / 5.0
    assert f"{theta:.6g}" in fe.readout.value


@pytest.mark.parametrize("name", gp.FAMILY_NAMES)
def test_family_explorer_theta_slider_moves_the_mean_to_b_prime_theta(name):
    fe = gw.family_explorer(name)
    fam = fe.current_family()
    assert fe.theta.description == "theta"
    assert fe.theta.value == pytest.approx(float(fam.theta(fe.mean.value)))
    draws = fe.n_draws
    theta = fe.theta.min + 0.3 * (fe.theta.max - fe.theta.min)
    fe.theta.value = theta
    assert fe.n_draws == draws + 1 and fe.message == ""
    mean = float(fam.b_prime(theta))
    assert fe.mean.value == pytest.approx(mean, rel=1e-12)
    assert fe.theta.value == pytest.approx(theta, rel=1e-9, abs=1e-12)
    ax = fe.figure.axes[0]
    mean_line = [ln for ln in ax.get_lines() if ln.get_label().startswith("mean")][0]
    assert mean_line.get_xdata()[0] == pytest.approx(mean, rel=1e-12)


def test_family_explorer_mean_slider_moves_theta_and_alpha_its_range():
    fe = gw.family_explorer("NegativeBinomial")
    fe.mean.value = 10.0
    alpha = fe.alpha.value
    assert fe.theta.value == pytest.approx(np.log(alpha * 10 / (1 + alpha * 10)))
    before = (fe.theta.min, fe.theta.max)
    fe.alpha.value = 2.0
    assert (fe.theta.min, fe.theta.max) != before
    assert fe.theta.value == pytest.approx(np.log(20 / 21))
    fe.mean.value = 0.0  # invalid (message), theta parks at its lower end
    assert "positive" in fe.message and fe.theta.value == fe.theta.min


def test_family_explorer_phi_changes_the_spread():
    fe = gw.family_explorer("Gaussian")
    fe.phi.value = 4.0
    band = [p for p in fe.figure.axes[0].patches if p.get_label().startswith("± sd")][0]
    assert band.get_width() == pytest.approx(2 * 2.0)


def test_family_explorer_binomial_trials():
    fe = gw.family_explorer("Binomial")
    fe.trials.value = 4
    assert fe.trials.layout.display is None and fe.alpha.layout.display == "none"
    ax = fe.figure.axes[0]
    stems = [ln for ln in ax.get_lines() if ln.get_label().startswith("$P(Y = y)$")][0]
    np.testing.assert_allclose(stems.get_xdata(), np.arange(5) / 4)
    assert "n = 4" in ax.get_title()


@pytest.mark.parametrize("name,slider,value,match", [
    ("Binomial", "mean", 1.0, "strictly between 0 and 1"),
    ("Binomial", "mean", 0.0, "strictly between 0 and 1"),
    ("Poisson", "mean", 0.0, "positive mean"),
    ("Gamma", "phi", 0.0, "dispersion must be positive"),
    ("Tweedie", "power", 2.0, "1 < p < 2"),
])
def test_family_explorer_bad_values_show_a_message(name, slider, value, match):
    fe = gw.family_explorer(name)
    getattr(fe, slider).value = value  # must not raise
    assert match in fe.message
    assert _png(fe) is None
    assert match in _texts(fe)
    # and it recovers
    good = {"mean": 0.5 if name == "Binomial" else 2.0, "phi": 1.0, "power": 1.5}
    getattr(fe, slider).value = good[slider]
    assert fe.message == "" and _png(fe) is not None


def test_family_explorer_accepts_family_instances():
    fe = gw.family_explorer(gt.NegativeBinomial(alpha=2.0))
    assert fe.family.value == "NegativeBinomial"
    assert fe.alpha.value == pytest.approx(2.0)
    assert "α = 2" in fe.figure.axes[0].get_title()
    fe.alpha.value = 0.5
    assert "α = 0.5" in fe.figure.axes[0].get_title()


# ======================================================================================
# Link explorer
# ======================================================================================
def test_link_explorer_eta_moves_the_points():
    le = gw.link_explorer()
    assert le.eta.description == "eta"
    before = _png(le)
    le.eta.value = -1.5
    assert _png(le) != before
    ax = le.figure.axes[0]
    logit_mark = [ln for ln in ax.get_lines() if ln.get_marker() == "o"
                  and ln.get_color() == "C0"][0]
    assert logit_mark.get_xdata()[0] == pytest.approx(-1.5)
    mu = 1 / (1 + np.exp(1.5))
    assert logit_mark.get_ydata()[0] == pytest.approx(mu)
    assert f"{mu * (1 - mu):.4g}" in le.readout.value


def test_link_explorer_more_links_and_notes():
    le = gw.link_explorer()
    le.more.value = True
    curves = [ln.get_label() for ln in le.figure.axes[0].get_lines()]
    assert {"logit", "probit", "cloglog", "log", "identity"} <= set(curves)
    le.eta.value = -2.0
    assert "identity" in le.message and "not a probability" in le.message
    assert _png(le) is not None


# ======================================================================================
# Tweedie explorer
# ======================================================================================
def test_tweedie_explorer_sliders_and_readout():
    te = gw.tweedie_explorer()
    lam, alpha, gamma = gp.tweedie_poisson_gamma(te.mu.value, te.phi.value, te.p.value)
    assert f"{np.exp(-lam):.4g}" in te.readout.value
    before = _png(te)
    te.p.value = 1.8
    assert _png(te) != before
    lam2, _, _ = gp.tweedie_poisson_gamma(te.mu.value, te.phi.value, 1.8)
    mass = [ln for ln in te.figure.axes[0].get_lines()
            if ln.get_label().startswith("$P(Y = 0)")][0]
    assert mass.get_ydata()[0] == pytest.approx(np.exp(-lam2))


def test_tweedie_explorer_claims_parametrisation():
    te = gw.tweedie_explorer(mu=2.0, phi=1.5, power=1.4)
    te.parametrisation.value = te.CLAIM_PARAMS
    lam, alpha, gamma = gp.tweedie_poisson_gamma(2.0, 1.5, 1.4)
    assert te.lam.value == pytest.approx(lam, abs=0.03)
    assert te.alpha.value == pytest.approx(alpha, abs=0.03)
    assert te.gamma.value == pytest.approx(gamma, abs=0.03)
    assert te.claim_box.layout.display is None and te.mean_box.layout.display == "none"
    te.lam.value = 1.0
    mu, phi, p = te.values()
    assert gp.tweedie_poisson_gamma(mu, phi, p)[0] == pytest.approx(1.0)
    mass = [ln for ln in te.figure.axes[0].get_lines()
            if ln.get_label().startswith("$P(Y = 0)")][0]
    assert mass.get_ydata()[0] == pytest.approx(np.exp(-1.0))
    te.parametrisation.value = te.MEAN_PARAMS
    assert te.mu.value == pytest.approx(mu, abs=0.03)


@pytest.mark.parametrize("slider,value,match", [
    ("p", 2.0, "between 1 and 2"), ("p", 1.0, "between 1 and 2"), ("phi", 0.0, "phi"),
    ("mu", 0.0, "mu"),
])
def test_tweedie_explorer_bad_values_show_a_message(slider, value, match):
    te = gw.tweedie_explorer()
    getattr(te, slider).value = value
    assert match in te.message
    assert _png(te) is None


def test_tweedie_explorer_bad_claims_values():
    te = gw.tweedie_explorer()
    te.parametrisation.value = te.CLAIM_PARAMS
    te.alpha.value = 0.0
    assert "alpha" in te.message


# ======================================================================================
# explore()
# ======================================================================================
def test_explore_builds_controls_and_passes_values():
    calls = []

    def draw(ax, a, n, kind, flag):
        calls.append((a, n, kind, flag))
        ax.plot([0, 1], [0, a * n])
        ax.set_title(f"{kind} {flag}")

    ex = gw.explore(draw, a=(0.0, 2.0, 0.5), n=(1, 5), kind=["x", "y"], flag=True)
    assert isinstance(ex.controls["a"], W.FloatSlider)
    assert isinstance(ex.controls["n"], W.IntSlider)
    assert isinstance(ex.controls["kind"], W.Dropdown)
    assert isinstance(ex.controls["flag"], W.Checkbox)
    assert [c.description for c in ex.controls.values()] == ["a", "n", "kind", "flag"]
    assert len(calls) == 1
    ex.controls["kind"].value = "y"
    assert calls[-1][2] == "y"
    assert ex.figure.axes[0].get_title() == f"y {ex.controls['flag'].value}"
    ex.controls["a"].value = 2.0
    line = ex.figure.axes[0].get_lines()[0]
    assert line.get_ydata()[1] == pytest.approx(2.0 * ex.controls["n"].value)
    assert len(ex.figure.axes) == 1  # a fresh Axes each time, not a new one added


def test_explore_accepts_widgets():
    slider = W.FloatSlider(value=0.3, min=0, max=1)
    ex = gw.explore(lambda ax, p: ax.plot([0, 1], [p, p]), p=slider)
    assert ex.controls["p"] is slider and slider.description == "p"
    slider.value = 0.7
    assert ex.figure.axes[0].get_lines()[0].get_ydata()[0] == pytest.approx(0.7)


def test_explore_errors_in_draw_become_messages():
    def draw(ax, b):
        if b < 0:
            raise ZeroDivisionError("b must not be negative")
        ax.plot([0, 1], [0, b])

    ex = gw.explore(draw, b=(-2, 2))
    ex.controls["b"].value = -1  # must not raise
    assert "ZeroDivisionError" in ex.message and "b must not be negative" in ex.message
    assert _png(ex) is None
    ex.controls["b"].value = 1
    assert ex.message == "" and _png(ex) is not None


def test_explore_rejects_bad_specs():
    with pytest.raises(ValueError, match="z"):
        gw.explore(lambda ax, z: None, z=object())
    with pytest.raises(TypeError, match="draw"):
        gw.explore("not a function", a=(0, 1))


# ======================================================================================
# The stepper draws panel (c) right, legibly, without a gap (issue 11)
# ======================================================================================
def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


@pytest.mark.parametrize("fixture", ["poisson2", "gamma_log"])
def test_stepper_wls_line_is_the_weighted_least_squares_fit(fixture, request):
    """The line in panel (c) is the WLS fit of z on x'beta_k, computed here on its own."""
    res = request.getfixturevalue(fixture)
    st = gw.irls_stepper(res)
    (line,) = _by_gid(st.axes["wls"], "wls-line")
    for k in range(res.n_iter + 1):
        st.slider.value = k
        state = res.history[k]
        x = state.eta - res.problem.offset
        slope, icpt = np.polyfit(x, state.z, 1, w=np.sqrt(state.w))
        xs, ys = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert len(xs) == 2 and xs[1] > xs[0]
        np.testing.assert_allclose(ys, icpt + slope * xs, rtol=1e-7, atol=1e-8)
        assert f"{slope:.4f}" in st.axes["wls"].get_title()


@pytest.mark.parametrize("fixture", ["poisson2", "gamma_log"])
def test_stepper_panel_c_is_the_static_working_regression_panel(fixture, request):
    """One WLS panel: the stepper moves the artists of plotting.working_regression_panel,
    and at every iteration they hold what the static figure of that iteration draws."""
    import matplotlib.pyplot as plt

    res = request.getfixturevalue(fixture)
    st = gw.irls_stepper(res)
    assert isinstance(st.panels["wls"], gp.WorkingRegressionArtists)
    assert st.panels["wls"].ax is st.axes["wls"]
    for k in range(res.n_iter + 1):
        st.slider.value = k
        static = gp.working_regression_panel(res, iteration=k, max_points=st.max_points)
        live = st.panels["wls"]
        np.testing.assert_array_equal(live.points.get_offsets(), static.points.get_offsets())
        np.testing.assert_array_equal(live.points.get_sizes(), static.points.get_sizes())
        slopes = [np.diff(np.asarray(a.line.get_ydata(), float))
                  / np.diff(np.asarray(a.line.get_xdata(), float)) for a in (live, static)]
        np.testing.assert_allclose(slopes[0], slopes[1], rtol=1e-12)
        assert static.equation.get_text() in live.equation.get_text()
        plt.close(static.ax.figure)


def _png_size_and_dpi(widget):
    from PIL import Image

    image = Image.open(__import__("io").BytesIO(_png(widget)))
    return image.size, image.info.get("dpi")


def test_stepper_is_legible_in_a_700_px_column_and_leaves_no_gap(poisson2):
    from matplotlib.text import Text

    st = gw.irls_stepper(poisson2)
    (width, height), dpi = _png_size_and_dpi(st)
    assert width <= 720 and round(dpi[0]) >= 100 and st.figure.dpi >= 100
    texts = [t for t in st.figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert min(t.get_fontsize() for t in texts) >= 9.0
    # shown at its natural width in a 700 px column, the smallest text is >= 12 px
    assert 9.0 * round(dpi[0]) / 72 * min(1.0, 700 / width) >= 12.0
    # no fixed height: the output area shrinks with the image, no blank gap below it
    assert st.output.layout.min_height is None and st.output.layout.height is None


def test_explorers_draw_at_100_dpi_without_fixed_height():
    for widget in (gw.family_explorer(), gw.link_explorer(), gw.tweedie_explorer(),
                   gw.explore(lambda ax, a: ax.plot([0, a]), a=(1, 3))):
        (width, _), _ = _png_size_and_dpi(widget)
        assert widget.figure.dpi >= 100 and width <= 720
        assert widget.output.layout.min_height is None


# ======================================================================================
# Issue 12, item 6: widget factories that raised
# ======================================================================================
def test_stepper_of_a_glm_problem_fits_it(poisson2):
    problem = gt.GLMProblem(poisson2.problem.X, poisson2.problem.y, family=gt.Poisson())
    st = gw.irls_stepper(problem)  # raised AttributeError 'GLMProblem' ... 'method'
    assert isinstance(st, gw.IRLSStepper)
    assert "GLMProblem" in st.message and "fitted here" in st.message
    np.testing.assert_allclose(st.results.params, poisson2.params, rtol=1e-8)
    assert st.slider.max == st.results.n_iter and _png(st) is not None


@pytest.mark.parametrize("bad", [42, "results", None, np.zeros(3)])
def test_stepper_of_something_else_shows_a_message(bad):
    w = gw.irls_stepper(bad)  # must not raise
    assert isinstance(w, gw.MessageWidget)
    assert "gt.fit" in w.message and "GLMProblem" in w.message
    assert _png(w) is None and "gt.fit" in _texts(w)


def test_stepper_compare_newton_by_name(poisson2, gamma_log):
    st = gw.irls_stepper(poisson2, compare="newton")  # raised AttributeError
    assert st.fits["Newton-Raphson"].method == "newton"
    assert isinstance(st.method, W.ToggleButtons) and not st.method.disabled
    st.method.value = "Newton-Raphson"
    assert st.results.method == "newton" and st.message == ""
    np.testing.assert_allclose(st.results.params, poisson2.params, rtol=1e-8)
    st2 = gw.irls_stepper(gamma_log, compare="irls")  # its own method: nothing to add
    assert "nothing to compare" in st2.message
    st3 = gw.irls_stepper(gamma_log, compare="bfgs")
    assert "compare='bfgs' ignored" in st3.message
    assert st3.fits["Newton-Raphson"].method == "newton"  # still the usual switch
    st4 = gw.irls_stepper(gamma_log, compare=3.0)
    assert "compare= ignored" in st4.message and "float" in st4.message


@pytest.mark.parametrize("figsize", [(0, 0), (-3, 4), (1e6, 3), "big", (float("nan"), 4)])
def test_stepper_impossible_figsize_gives_a_message(poisson2, figsize):
    st = gw.irls_stepper(poisson2, figsize=figsize)  # (0, 0) raised LinAlgError
    assert f"figsize={figsize!r} cannot be drawn" in st.message
    (width, _), _ = _png_size_and_dpi(st)
    assert width == round(gw.STEPPER_FIGSIZE[0] * gw.DEFAULT_DPI)  # drawn at the default
    st.slider.value = 1
    assert "figsize" in st.message  # the note stays with every redraw


def test_stepper_impossible_dpi_gives_a_message(poisson2):
    st = gw.irls_stepper(poisson2, dpi=0)
    assert "dpi=0 cannot be drawn" in st.message and _png(st) is not None


def test_explorers_impossible_figsize_draw_the_default_with_a_message():
    for factory in (gw.family_explorer, gw.link_explorer, gw.tweedie_explorer):
        w = factory(figsize=(0, 0))
        assert "figsize=(0, 0) cannot be drawn" in w.message
        assert _png(w) is not None  # the old explorers showed only an error


def test_family_explorer_unknown_family_shows_a_message():
    fe = gw.family_explorer("Weibull")  # raised ValueError
    assert "Weibull" in fe.message and "Poisson" in fe.message
    assert fe.family.value == "Poisson" and _png(fe) is not None
    fe.family.value = "Gamma"
    assert fe.message == ""


# ======================================================================================
# Issue 12, item 19: requested values are drawn, or a message says what was drawn
# ======================================================================================
def test_family_explorer_draws_the_requested_alpha():
    fe = gw.family_explorer(gt.NegativeBinomial(alpha=10))  # drew alpha = 3
    assert fe.alpha.value == pytest.approx(10.0) and fe.alpha.max >= 10
    assert "α = 10" in fe.figure.axes[0].get_title()
    assert fe.current_family().alpha == pytest.approx(10.0)
    fe2 = gw.family_explorer(gt.NegativeBinomial(alpha=0.01))
    assert fe2.alpha.value == pytest.approx(0.01)


def test_family_explorer_says_which_tweedie_power_it_drew():
    fe = gw.family_explorer(gt.Tweedie(power=3))  # drew p = 1.5 without a word
    assert "Tweedie(power=3)" in fe.message and "Drawn: p = 1.5" in fe.message
    assert "InverseGaussian" in fe.message
    assert "p = 1.5" in fe.figure.axes[0].get_title()
    fe.power.value = 1.7  # the user moved on: the note goes
    assert fe.message == "" and "p = 1.7" in fe.figure.axes[0].get_title()


def test_link_explorer_draws_the_requested_eta():
    le = gw.link_explorer(eta=8)  # drew eta = 5
    assert le.eta.value == pytest.approx(8.0) and le.eta.max >= 8 and le.eta.min <= -8
    ax = le.figure.axes[0]
    marks = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert marks and all(ln.get_xdata()[0] == pytest.approx(8.0) for ln in marks)
    assert ax.get_xlim()[1] >= 8.0
    assert "at η = 8" in le.readout.value
    nan = gw.link_explorer(eta=float("nan"))
    assert "not a finite number" in nan.message and nan.eta.value == pytest.approx(0.5)


def test_tweedie_explorer_draws_the_requested_mean():
    te = gw.tweedie_explorer(mu=50)  # drew mu = 10
    assert te.mu.value == pytest.approx(50.0) and te.mu.max >= 50
    mean = [ln for ln in te.figure.axes[0].get_lines()
            if ln.get_label().startswith("mean")][0]
    assert mean.get_xdata()[0] == pytest.approx(50.0)
    te2 = gw.tweedie_explorer(phi=8.0)
    assert te2.phi.value == pytest.approx(8.0)
    te3 = gw.tweedie_explorer(power=3.0)  # cannot be drawn: a note says what was
    assert "power=3 cannot be drawn" in te3.message and "Drawn: p = 1.4" in te3.message
    assert te3.p.value == pytest.approx(1.4)
