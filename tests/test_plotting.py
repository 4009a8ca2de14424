"""Static figures of glmteach.plotting: they draw what their docstrings claim."""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import integrate  # noqa: E402

import glmteach as gt  # noqa: E402
from glmteach import plotting as gp  # noqa: E402
from glmteach import traces  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _lines(ax):
    return [ln for ln in ax.get_lines()]


def _visible_texts(ax):
    return [t for t in ax.texts if t.get_visible()]


# --------------------------------------------------------------------------------------
# import hygiene
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("module", ["glmteach", "glmteach.traces"])
def test_import_does_not_import_matplotlib_or_ipywidgets(module):
    """glmteach and the computations behind the figures (traces) draw nothing."""
    code = (f"import sys, {module}; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------------------
# convergence
# --------------------------------------------------------------------------------------
def test_convergence_draws_deviance_and_change_on_log_scale(poisson2):
    ax = gp.convergence(poisson2)
    lines = _lines(ax)
    assert len(lines) == 2
    dev = np.array([s.deviance for s in poisson2.history])
    np.testing.assert_allclose(lines[0].get_xdata(), np.arange(len(dev)))
    np.testing.assert_allclose(lines[0].get_ydata(), dev)
    change = np.abs(np.diff(dev))
    shown = lines[1].get_ydata()
    np.testing.assert_allclose(lines[1].get_xdata(), np.arange(1, len(dev)))
    np.testing.assert_allclose(shown[change > 0], change[change > 0])
    assert ax.get_yscale() == "log"
    assert lines[0].get_label() == r"deviance $D_k$"
    assert lines[1].get_label() == r"$|D_k - D_{k-1}|$"
    assert ax.get_xlabel() == r"iteration $k$"


def test_convergence_change_falls_fast_near_the_optimum(poisson2):
    """Quadratic convergence: the last changes shrink much faster than linearly."""
    dev = traces.history_deviances(poisson2)
    change = np.abs(np.diff(dev))[1:]  # from iteration 2 on (iteration 0 is the start)
    change = change[change > 0]
    assert len(change) >= 2
    assert change[-1] < 1e-3 * change[-2]


def test_convergence_current_and_tol_lines(poisson2):
    ax = gp.convergence(poisson2, current=2, tol=1e-8)
    lines = _lines(ax)
    assert len(lines) == 5  # D, |change|, tol, and the marker's line and circle
    tol_line = [ln for ln in lines if ln.get_label().startswith("R's stop")][0]
    assert tol_line.get_ydata()[0] == pytest.approx(1e-8 * (abs(poisson2.deviance) + 0.1))
    (vline,) = _by_gid(ax, "conv-current-line")
    np.testing.assert_allclose(vline.get_xdata(), [2, 2])
    (circle,) = _by_gid(ax, "conv-current")
    assert circle.get_ydata()[0] == pytest.approx(poisson2.history[2].deviance)


def test_convergence_uses_given_axes(poisson2):
    fig, ax = plt.subplots()
    assert gp.convergence(poisson2, ax=ax) is ax


# --------------------------------------------------------------------------------------
# coefficient path and likelihood surface
# --------------------------------------------------------------------------------------
def test_history_params_marks_missing_start(poisson2):
    P = traces.history_params(poisson2)
    assert P.shape == (poisson2.n_iter + 1, 2)
    assert np.isnan(P[0]).all()  # started from the data: no coefficients
    np.testing.assert_allclose(P[-1], poisson2.params)


def test_coefficient_path_two_coefficients_over_contours(poisson2):
    ax = gp.coefficient_path(poisson2)
    assert len(ax.collections) >= 2  # the contour sets
    (path,) = _by_gid(ax, "path")
    P = traces.history_params(poisson2)[1:]
    np.testing.assert_allclose(path.get_xdata(), P[:, 0])
    np.testing.assert_allclose(path.get_ydata(), P[:, 1])
    assert ax.get_xlabel().startswith("x0") and ax.get_ylabel().startswith("x1")
    (star,) = _by_gid(ax, "path-final")
    np.testing.assert_allclose([star.get_xdata()[0], star.get_ydata()[0]], poisson2.params)


def test_coefficient_path_iteration_zero_has_no_point(poisson2):
    ax = gp.coefficient_path(poisson2, upto=0)
    (path,) = _by_gid(ax, "path")
    assert len(path.get_xdata()) == 0
    assert any("start: mean from the data" in t.get_text() for t in _visible_texts(ax))


def test_coefficient_path_upto_truncates(poisson2):
    ax = gp.coefficient_path(poisson2, upto=2)
    (path,) = _by_gid(ax, "path")
    np.testing.assert_allclose(path.get_xdata(), traces.history_params(poisson2)[1:3, 0])
    assert not any("start" in t.get_text() for t in _visible_texts(ax))
    (current,) = _by_gid(ax, "path-current")
    np.testing.assert_allclose([current.get_xdata()[0], current.get_ydata()[0]],
                               poisson2.history[2].params)


def test_coefficient_path_many_coefficients_against_iteration(gamma3):
    ax = gp.coefficient_path(gamma3)
    lines = _lines(ax)
    assert len(lines) == 3
    P = traces.history_params(gamma3)
    for j, line in enumerate(lines):
        np.testing.assert_allclose(line.get_xdata(), np.arange(gamma3.n_iter + 1))
        np.testing.assert_allclose(line.get_ydata(), P[:, j])
        assert line.get_label() == f"x{j}"
    assert ax.get_xlabel() == r"iteration $k$"
    ax2 = gp.coefficient_path(gamma3, upto=1)
    assert len(_lines(ax2)) == 5  # + the marker: a vertical line at k = 1 and circles
    (vline,) = _by_gid(ax2, "path-current-line")
    np.testing.assert_allclose(vline.get_xdata(), [1, 1])
    (circles,) = _by_gid(ax2, "path-current")
    np.testing.assert_allclose(circles.get_ydata(), gamma3.history[1].params)


def test_likelihood_surface_is_the_log_likelihood_drop(poisson2):
    surf = traces.likelihood_surface(poisson2, size=15)
    assert surf.delta.shape == (15, 15)
    problem = poisson2.problem
    for i, j in [(0, 0), (7, 3), (14, 9)]:
        beta = np.array([surf.b0[j], surf.b1[i]])
        mu = np.exp(problem.X @ beta)
        drop = poisson2.llf - problem.loglike(mu)  # Poisson: phi = 1
        assert surf.delta[i, j] == pytest.approx(drop, rel=1e-9, abs=1e-9)
    assert np.nanmin(surf.delta) >= 0
    # the grid covers the whole path and beta-hat
    P = traces.history_params(poisson2)[1:]
    assert surf.b0[0] <= P[:, 0].min() and P[:, 0].max() <= surf.b0[-1]
    assert surf.b1[0] <= P[:, 1].min() and P[:, 1].max() <= surf.b1[-1]
    assert traces.LR_95_LEVEL == pytest.approx(5.991464547107979 / 2)
    levels = surf.levels()
    assert levels[0] == 0.5 and levels.max() < np.nanmax(surf.delta)
    nice = {m * 10.0**e for e in range(-1, 16) for m in (1.0, 2.0, 5.0)}
    assert all(v in nice for v in levels)


def test_likelihood_surface_needs_two_coefficients(gamma3):
    with pytest.raises(ValueError, match="exactly 2 coefficients"):
        traces.likelihood_surface(gamma3)


# --------------------------------------------------------------------------------------
# working regression
# --------------------------------------------------------------------------------------
def _by_gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


@pytest.mark.parametrize("k", [0, 1, 2])
def test_working_regression_points_are_the_history_vectors(poisson2, k):
    ax = gp.working_regression(poisson2, k)
    state = poisson2.history[k]
    (points,) = _by_gid(ax, "wls-points")
    offsets = points.get_offsets()
    np.testing.assert_allclose(offsets[:, 0], state.eta - poisson2.problem.offset)
    np.testing.assert_allclose(offsets[:, 1], state.z)
    sizes = points.get_sizes()
    order = np.argsort(state.w)
    assert np.all(np.diff(sizes[order]) >= -1e-12)  # size grows with the working weight
    assert ax.get_ylabel() == r"working response $z_i$"
    assert ax.get_title().startswith(f"Iteration {k}:")


def test_working_regression_line_is_weighted_least_squares(poisson2):
    data = traces.working_regression_data(poisson2, 1)
    state = poisson2.history[1]
    x = state.eta - poisson2.problem.offset
    slope, icpt = np.polyfit(x, state.z, 1, w=np.sqrt(state.w))
    assert data.slope == pytest.approx(slope, rel=1e-8)
    assert data.intercept == pytest.approx(icpt, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("fixture", ["poisson2", "gamma3"])
def test_working_regression_panel_line_is_the_weighted_fit_of_z_on_x(fixture, request):
    """The drawn line (the artists the stepper moves, too) is the WLS fit of z on
    x'beta_k with the working weights W of that iteration, computed here independently."""
    res = request.getfixturevalue(fixture)
    for k in range(1, res.n_iter + 1):
        for fixed in (False, True):
            artists = gp.working_regression_panel(res, iteration=k, fixed_limits=fixed)
            state = res.history[k]
            x = state.eta - res.problem.offset
            slope, icpt = np.polyfit(x, state.z, 1, w=np.sqrt(state.w))
            xs = np.asarray(artists.line.get_xdata(), dtype=float)
            ys = np.asarray(artists.line.get_ydata(), dtype=float)
            assert len(xs) == 2 and xs[1] > xs[0]
            np.testing.assert_allclose((ys[1] - ys[0]) / (xs[1] - xs[0]), slope, rtol=1e-8)
            np.testing.assert_allclose(ys, icpt + slope * xs, rtol=1e-8, atol=1e-10)
            assert f"{slope:.4f}" in artists.equation.get_text()
            plt.close(artists.ax.figure)


def test_working_regression_is_the_diagonal_at_convergence(poisson2):
    data = traces.working_regression_data(poisson2, poisson2.n_iter)
    assert data.slope == pytest.approx(1.0, abs=1e-6)
    assert data.intercept == pytest.approx(0.0, abs=1e-6)
    ax = gp.working_regression(poisson2, poisson2.n_iter)
    (line,) = _by_gid(ax, "wls-line")
    x, z = line.get_xdata(), line.get_ydata()
    np.testing.assert_allclose(z, x, atol=1e-5)


def test_working_regression_subsamples_large_data(big_poisson):
    k = big_poisson.n_iter
    ax = gp.working_regression(big_poisson, k, max_points=500)
    (points,) = _by_gid(ax, "wls-points")
    assert points.get_offsets().shape == (500, 2)
    assert "500 of 20,050 shown" in points.get_label()


def test_working_regression_without_vectors_shows_a_note(big_poisson):
    assert big_poisson.history[1].z is None
    ax = gp.working_regression(big_poisson, 1)
    (note,) = _by_gid(ax, "wls-missing")
    assert "keep_vectors=True" in note.get_text() and note.get_visible()
    (points,) = _by_gid(ax, "wls-points")
    assert len(points.get_offsets()) == 0
    assert traces.working_regression_data(big_poisson, 1) is None


def test_working_regression_rejects_bad_iteration(poisson2):
    with pytest.raises(ValueError, match="iteration"):
        gp.working_regression(poisson2, poisson2.n_iter + 1)


# --------------------------------------------------------------------------------------
# small multiples
# --------------------------------------------------------------------------------------
def test_small_multiples_default_iterations(poisson2):
    fig = gp.irls_small_multiples(poisson2)
    K = poisson2.n_iter
    expected = sorted({0, 1, 2, K})
    m = len(expected)
    assert len(fig.axes) == 2 * m + 2  # one row per iteration, then the key
    wls, paths = fig.axes[0:2 * m:2], fig.axes[1:2 * m:2]
    for k, ax_w, ax_p in zip(expected, wls, paths, strict=True):
        assert ax_w.get_title().startswith(f"Iteration {k}:")
        assert ax_p.get_title().endswith(f"path up to iteration {k}")
        (path,) = _by_gid(ax_p, "path")
        assert len(path.get_xdata()) == k  # iterations 1..k (iteration 0 has no β)
        assert ax_w.get_legend() is None and ax_p.get_legend() is None
    key = [ax for ax in fig.axes[2 * m:] if ax.get_legend() is not None]
    labels = " ".join(t.get_text() for ax in key for t in ax.get_legend().get_texts())
    assert traces.likelihood_surface(poisson2).levels_text() in labels  # contours explained
    assert "95 % LR region" in labels and "WLS line" in labels


def test_small_multiples_chosen_iterations_and_missing_vectors(big_poisson):
    fig = gp.irls_small_multiples(big_poisson, iterations=[1, big_poisson.n_iter],
                                  max_points=300)
    assert len(fig.axes) == 6  # two rows and the key
    texts = [t.get_text() for ax in fig.axes for t in _visible_texts(ax)]
    assert any("keep_vectors=True" in t for t in texts)
    fig_default = gp.irls_small_multiples(big_poisson, max_points=300)
    assert len(fig_default.axes) == 4  # only the last iteration kept its vectors
    with pytest.raises(ValueError, match="iterations"):
        gp.irls_small_multiples(big_poisson, iterations=[99])


# --------------------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------------------
FAMILY_CASES = [
    ("Gaussian", 1.5, 2.0, 1),
    ("Binomial", 0.3, 1.0, 12),
    ("Poisson", 4.0, 1.0, 1),
    ("Gamma", 3.0, 0.5, 1),
    ("InverseGaussian", 2.0, 0.2, 1),
    ("NegativeBinomial", 4.0, 1.0, 1),
]


def _logf(fam, y, mean, phi=1.0, trials=1):
    """ln f(y) as the panels evaluate it: the family's loglike_obs at the dispersion of
    traces.density_dispersion (binomial: proportions of n trials, phi = 1/n)."""
    scale, weights = traces.density_dispersion(fam, phi, trials)
    return fam.loglike_obs(np.asarray(y, dtype=float), mean, scale, weights)


@pytest.mark.parametrize("name,mean,phi,trials", FAMILY_CASES)
def test_family_panel_curve_is_built_from_theta_b_and_s(name, mean, phi, trials):
    """The drawn curve is exp((y theta - b(theta)) / phi + S(y, phi)) (equation 13.2),
    computed here from the family's components, with phi = 1/n for the binomial and 1
    for Poisson and the negative binomial."""
    fam = gp.make_family(name)
    ax = gp.family_panel(fam, mean, phi, trials=trials, show_sample=False)
    (curve,) = [ln for ln in ax.get_lines() if "from $\\theta$" in ln.get_label()]
    y = np.asarray(curve.get_xdata(), dtype=float)
    phi_eq = 1.0 / trials if name == "Binomial" else (1.0 if fam.scale_is_fixed else phi)
    theta = fam.theta(mean)
    expected = np.exp((y * theta - fam.b(theta)) / phi_eq + fam.S(y, phi_eq))
    np.testing.assert_allclose(curve.get_ydata(), expected, rtol=1e-9, atol=1e-300)
    if name == "Binomial":
        np.testing.assert_allclose(y, np.arange(trials + 1) / trials)


@pytest.mark.parametrize("name,mean,phi,trials", FAMILY_CASES)
def test_components_density_is_a_distribution(name, mean, phi, trials):
    fam = gp.make_family(name)
    if name == "Binomial":
        total = np.exp(_logf(fam, np.arange(trials + 1) / trials, mean, phi, trials)).sum()
    elif name in ("Poisson", "NegativeBinomial"):
        total = np.exp(_logf(fam, np.arange(400.0), mean)).sum()
    else:
        lo = -np.inf if name == "Gaussian" else 0.0
        total, _ = integrate.quad(lambda t: np.exp(_logf(fam, np.array([t]), mean, phi))[0],
                                  lo, np.inf, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("name,mean,phi,trials", FAMILY_CASES)
def test_family_panel_marks_mean_and_sd(name, mean, phi, trials):
    fam = gp.make_family(name)
    ax = gp.family_panel(fam, mean, phi, trials=trials)
    mean_line = [ln for ln in ax.get_lines() if ln.get_label().startswith("mean")][0]
    assert mean_line.get_xdata()[0] == pytest.approx(mean)
    phi_eff = 1.0 / trials if name == "Binomial" else (1.0 if fam.scale_is_fixed else phi)
    sd = np.sqrt(phi_eff * fam.variance(mean))
    band = [p for p in ax.patches if p.get_label().startswith("± sd")][0]
    assert band.get_x() == pytest.approx(mean - sd, rel=1e-9, abs=1e-12)
    assert band.get_width() == pytest.approx(2 * sd, rel=1e-9)
    assert _by_gid(ax, "sample")  # the simulated sample is drawn
    assert fam.name in ax.get_title()


def test_family_panel_sample_follows_the_distribution():
    ax = gp.family_panel("Poisson", 3.0, n_sample=20_000, seed=1)
    (sample,) = _by_gid(ax, "sample")
    freq = sample.get_data().values
    pmf = np.exp(_logf(gt.Poisson(), np.arange(len(freq)), 3.0))
    assert np.max(np.abs(freq - pmf)) < 0.01


@pytest.mark.parametrize("family,mean,phi,match", [
    ("Binomial", 1.2, 1.0, "strictly between 0"),
    ("Binomial", 0.0, 1.0, "strictly between 0"),
    ("Poisson", -1.0, 1.0, "positive mean"),
    ("Gamma", 2.0, 0.0, "dispersion must be positive"),
    ("Gaussian", np.nan, 1.0, "finite"),
])
def test_family_panel_rejects_invalid_values(family, mean, phi, match):
    with pytest.raises(ValueError, match=match):
        gp.family_panel(family, mean, phi)


def test_make_family_names():
    assert isinstance(gp.make_family("bernoulli"), gt.Binomial)
    assert gp.make_family("NegativeBinomial", alpha=2.0).alpha == 2.0
    assert gp.make_family("tweedie", power=1.3).power == 1.3
    with pytest.raises(ValueError, match="family"):
        gp.make_family("Weibull")


# --------------------------------------------------------------------------------------
# links
# --------------------------------------------------------------------------------------
def test_links_panel_curves_are_inverse_links():
    ax = gp.links_panel()
    curves = [ln for ln in ax.get_lines() if ln.get_label() in ("logit", "probit", "cloglog")]
    assert [c.get_label() for c in curves] == ["logit", "probit", "cloglog"]
    for curve in curves:
        link = gp.make_link(curve.get_label())
        np.testing.assert_allclose(curve.get_ydata(), link.inverse(curve.get_xdata()))
    assert ax.get_xlabel() == r"linear predictor $\eta$"


def test_links_panel_marks_eta_with_tangent_slopes():
    eta = 0.7
    ax = gp.links_panel(eta)
    for i, name in enumerate(["logit", "probit", "cloglog"]):
        link = gp.make_link(name)
        marks = [ln for ln in ax.get_lines()
                 if ln.get_marker() == "o" and ln.get_color() == f"C{i}"]
        assert len(marks) == 1
        assert marks[0].get_xdata()[0] == pytest.approx(eta)
        assert marks[0].get_ydata()[0] == pytest.approx(float(link.inverse(eta)))
        assert f"{float(link.inverse_deriv(eta)):.3f}" in marks[0].get_label()
        tangents = [ln for ln in ax.get_lines() if ln.get_marker() in ("None", "", None)
                    and ln.get_color() == f"C{i}" and len(ln.get_xdata()) == 2]
        (tan,) = tangents
        x, y = tan.get_xdata(), tan.get_ydata()
        assert (y[1] - y[0]) / (x[1] - x[0]) == pytest.approx(float(link.inverse_deriv(eta)))
    assert gp.links_panel(0.0)  # logit slope is 1/4 at eta = 0
    assert float(gp.make_link("logit").inverse_deriv(0.0)) == pytest.approx(0.25)


def test_links_panel_clips_log_and_identity_to_probabilities():
    ax = gp.links_panel(links=["log", "identity"])
    for line in ax.get_lines()[:2]:
        y = np.asarray(line.get_ydata(), dtype=float)
        finite = y[np.isfinite(y)]
        assert finite.size > 0 and np.all((finite >= 0) & (finite <= 1))
        assert np.isnan(y).any()
    with pytest.raises(ValueError, match="link"):
        gp.make_link("tanh")


# --------------------------------------------------------------------------------------
# Tweedie
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("mu,phi,p", [(2.0, 1.5, 1.4), (0.5, 0.8, 1.1), (10.0, 3.0, 1.9)])
def test_tweedie_parametrisations_agree(mu, phi, p):
    lam, alpha, gamma = gp.tweedie_poisson_gamma(mu, phi, p)
    # equation 13.10 against 13.12: E = lambda alpha / gamma, Var = lambda alpha (1+alpha)/gamma^2
    assert lam * alpha / gamma == pytest.approx(mu)
    assert lam * alpha * (1 + alpha) / gamma**2 == pytest.approx(phi * mu**p)
    back = gp.tweedie_from_poisson_gamma(lam, alpha, gamma)
    np.testing.assert_allclose(back, (mu, phi, p), rtol=1e-12)


def test_tweedie_density_and_mass_add_to_one():
    mu, phi, p = 2.0, 1.5, 1.4
    lam, _, _ = gp.tweedie_poisson_gamma(mu, phi, p)
    fam = gt.Tweedie(power=p)
    cont, _ = integrate.quad(lambda t: float(np.exp(fam.loglike_obs(np.array([t]),
                                                                    np.array([mu]), phi))[0]),
                             0, np.inf, limit=200)
    assert cont + np.exp(-lam) == pytest.approx(1.0, abs=1e-6)


def test_tweedie_panel_draws_mass_at_zero_and_sample():
    mu, phi, p = 2.0, 1.5, 1.4
    lam, _, _ = gp.tweedie_poisson_gamma(mu, phi, p)
    ax = gp.tweedie_panel(mu, phi, p, n_sample=20_000, seed=3)
    mass = [ln for ln in ax.get_lines() if ln.get_label().startswith("$P(Y = 0)")][0]
    assert mass.get_ydata()[0] == pytest.approx(np.exp(-lam))
    (zeros,) = _by_gid(ax, "sample-zeros")
    assert zeros.get_data().values[0] == pytest.approx(np.exp(-lam), abs=0.01)
    dens = [ln for ln in ax.get_lines() if ln.get_label().startswith("density")][0]
    y = dens.get_xdata()
    np.testing.assert_allclose(
        dens.get_ydata(), np.exp(gt.Tweedie(power=p).loglike_obs(y, np.full_like(y, mu), phi)))
    assert "λ = " in ax.get_title()


@pytest.mark.parametrize("mu,phi,p,match", [
    (2.0, 1.0, 1.0, "between 1 and 2"), (2.0, 1.0, 2.0, "between 1 and 2"),
    (0.0, 1.0, 1.5, "mu"), (2.0, 0.0, 1.5, "phi"),
])
def test_tweedie_panel_rejects_invalid_values(mu, phi, p, match):
    with pytest.raises(ValueError, match=match):
        gp.tweedie_panel(mu, phi, p)


def test_family_panel_tweedie_uses_tweedie_panel():
    ax = gp.family_panel(gt.Tweedie(power=1.5), 3.0, 1.0)
    assert "Tweedie p = 1.5" in ax.get_title()
    with pytest.raises(ValueError, match="1 < p < 2"):
        gp.family_panel(gt.Tweedie(power=3.0), 3.0, 1.0)


def test_coefficient_path_with_invalid_region_draws_without_warnings():
    """Poisson with the identity link: part of the grid gives negative means (NaN)."""
    rng = np.random.default_rng(14)
    n = 200
    xa = np.abs(rng.standard_normal(n))
    X = np.column_stack([np.ones(n), xa])
    y = rng.poisson(2.0 + 1.5 * xa)
    res = gt.fit(X, y, family=gt.Poisson(link=gt.links.Identity()))
    surf = traces.likelihood_surface(res)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = gp.coefficient_path(res, surface=surf)
        ax.figure.canvas.draw()
    assert len(ax.collections) >= 1


# --------------------------------------------------------------------------------------
# traces: the numbers behind the family figures and the stepper's table
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,phi,trials,expected", [
    ("Binomial", 3.0, 12, (1.0, 12.0)),  # proportions of 12 trials: phi = 1/12
    ("Poisson", 3.0, 12, (1.0, 1.0)),
    ("NegativeBinomial", 3.0, 1, (1.0, 1.0)),
    ("Gamma", 0.5, 12, (0.5, 1.0)),
    ("Gaussian", 2.0, 1, (2.0, 1.0)),
])
def test_density_dispersion(name, phi, trials, expected):
    assert traces.density_dispersion(gp.make_family(name), phi, trials) == expected


@pytest.mark.parametrize("name,mean,match", [
    ("NegativeBinomial", 0.0, "positive mean"),   # theta(0) = -inf: the boundary
    ("Gamma", -1.0, "positive mean"),             # theta(-1) = 1 is finite, mu is not valid
    ("InverseGaussian", 0.0, "positive mean"),
    ("Binomial", 1.0, "strictly between 0 and 1"),
])
def test_check_family_values_refuses_the_boundary_and_outside(name, mean, match):
    with pytest.raises(ValueError, match=match):
        traces.check_family_values(gp.make_family(name), mean, 1.0)


def test_check_family_values_trials_and_gaussian_means():
    traces.check_family_values(gt.Gaussian(), -40.0, 1.0)  # any real mean
    with pytest.raises(ValueError, match="trials"):
        traces.check_family_values(gt.Binomial(), 0.4, trials=2.5)


def test_family_density_grid_and_moments():
    d = traces.family_density("Gaussian", 5.0, 0.04, show_sample=False)
    assert d.sample is None and not d.discrete
    assert d.y_range == (d.y[0], d.y[-1]) and d.y[0] == pytest.approx(5.0 - 4.5 * 0.2)
    g = traces.family_density("Gamma", 3.0, 0.5, n_sample=500)
    assert g.y_range[0] == 0.0 and g.sd == pytest.approx(np.sqrt(0.5 * 9.0))
    assert g.sample.shape == (500,)
    b = traces.family_density("Binomial", 0.3, trials=5, show_sample=False)
    np.testing.assert_allclose(b.y, np.arange(6) / 5)
    assert b.f.sum() == pytest.approx(1.0) and b.phi == pytest.approx(0.2)


def test_history_llf_is_the_log_likelihood_at_each_iteration(poisson2, big_poisson):
    for k, state in enumerate(poisson2.history):
        assert traces.history_llf(poisson2, k) == pytest.approx(
            poisson2.problem.loglike(state.mu), rel=1e-14)
    assert traces.history_llf(poisson2, poisson2.n_iter) == pytest.approx(poisson2.llf)
    assert traces.history_llf(big_poisson, 1) is None  # no means kept


# --------------------------------------------------------------------------------------
# factor colours
# --------------------------------------------------------------------------------------
VEHICLE_USE = ["DrivShort", "DrivLong", "PleasNoWork", "PleasWork"]


def test_factor_colors_are_okabe_ito_in_the_order_given():
    colors = gp.factor_colors(VEHICLE_USE)
    assert list(colors) == VEHICLE_USE
    assert list(colors.values()) == ["#E69F00", "#56B4E9", "#009E73", "#0072B2"]
    assert set(colors.values()) <= set(gp.OKABE_ITO)
    # two chapters passing the same levels get the same colours, whatever the container
    import pandas as pd

    assert gp.factor_colors(pd.Index(VEHICLE_USE)) == colors
    assert gp.factor_colors(tuple(VEHICLE_USE)) == colors
    # another order gives other colours (the order is the contract)
    assert gp.factor_colors(VEHICLE_USE[::-1])["DrivShort"] != colors["DrivShort"]
    assert gp.factor_colors([1, 2]) == {"1": "#E69F00", "2": "#56B4E9"}
    assert gp.factor_colors([]) == {}
    assert len(set(gp.factor_colors(range(8)).values())) == 8


@pytest.mark.parametrize("levels,match", [
    ("DrivShort", "not one string"),
    (["a", "b", "a"], "repeated: \\['a'\\]"),
    ([str(i) for i in range(9)], "8 colours, got 9 levels"),
    (5, "iterable"),
])
def test_factor_colors_refuses_bad_levels(levels, match):
    with pytest.raises(ValueError, match=match):
        gp.factor_colors(levels)


# --------------------------------------------------------------------------------------
# readable figures: mathtext, labelled axes, explained contours, no hidden data,
# >= 100 dpi and >= 9 pt text at display size
# --------------------------------------------------------------------------------------
DISPLAY_WIDTH_PX = 700  # a notebook column at 1024 px with JupyterLab's sidebar open
# a TeX-style sub- or superscript outside $...$: "_{", "_k" (one character), "^"
RAW_MATH = re.compile(r"_\{|_[^\W_](?![^\W_])|\^")


def _all_figures(poisson2, gamma3):
    """Every kind of figure plotting.py makes (on its own figures)."""
    figs = {
        "convergence": gp.convergence(poisson2, current=2, tol=1e-8).figure,
        "path-2d": gp.coefficient_path(poisson2, upto=2).figure,
        "path-many": gp.coefficient_path(gamma3, upto=1).figure,
        "wls": gp.working_regression(poisson2, 1).figure,
        "small-multiples": gp.irls_small_multiples(poisson2),
        "links": gp.links_panel(0.5, gp.LINK_NAMES).figure,
        "tweedie": gp.tweedie_panel(2.0, 1.5, 1.4).figure,
    }
    for name, mean, phi, trials in FAMILY_CASES:
        figs[f"family-{name}"] = gp.family_panel(name, mean, phi, trials=trials).figure
    for fig in figs.values():
        fig.canvas.draw()
    return figs


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _outside_math(text: str) -> str:
    parts = text.split("$")
    return "".join(parts[0::2])  # the pieces outside $...$


def test_figures_are_readable_at_display_size(poisson2, gamma3):
    """>= 100 dpi; no text below 9 pt; and at most ~700 px wide as the inline backend
    saves them (bbox_inches="tight"), so a 1024 px window with the sidebar open shows
    them at full size: the smallest text is then >= 12 CSS px (9 CSS pt) on screen."""
    for name, fig in _all_figures(poisson2, gamma3).items():
        assert fig.dpi >= 100, name
        sizes = [t.get_fontsize() for t in _texts(fig)]
        assert min(sizes) >= gp.MIN_FONT_PT == 9.0, (name, min(sizes))
        renderer = fig.canvas.get_renderer()
        width_px = fig.get_tightbbox(renderer).width * fig.dpi
        scale = min(1.0, DISPLAY_WIDTH_PX / width_px)
        smallest_css_px = min(sizes) * fig.dpi / 72.0 * scale
        assert smallest_css_px >= 12.0, (name, width_px, smallest_css_px)


def test_figures_use_mathtext_and_label_every_axis(poisson2, gamma3):
    for name, fig in _all_figures(poisson2, gamma3).items():
        for t in _texts(fig):
            raw = RAW_MATH.search(_outside_math(t.get_text()))
            assert raw is None, (name, t.get_text())
        for ax in fig.axes:
            if not ax.axison:
                continue  # a key panel
            assert ax.get_xlabel().strip() and ax.get_ylabel().strip(), (name, ax.get_title())


def test_raw_math_pattern_catches_what_the_issue_saw():
    for bad in ["|ΔD| = |D_k − D_{k−1}|", "working response z_i", "e^(−λ)", "η (= Xβ_k)"]:
        assert RAW_MATH.search(_outside_math(bad)), bad
    for good in [r"$|D_k - D_{k-1}|$", r"working response $z_i$", "keep_vectors=True"]:
        assert RAW_MATH.search(_outside_math(good)) is None, good


def test_contours_have_no_numbers_and_the_legend_explains_them(poisson2):
    surface = traces.likelihood_surface(poisson2)
    ax = gp.coefficient_path(poisson2, surface=surface)
    ax.figure.canvas.draw()
    # the only texts on the axes are the iteration numbers and notes, no contour labels
    for t in _visible_texts(ax):
        assert t.get_gid() in ("path-iteration-label", "path-start"), t.get_text()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(surface.levels_text() in lab for lab in labels)
    assert any("95 %" in lab and f"{traces.LR_95_LEVEL:.2f}" in lab for lab in labels)


def test_iteration_labels_do_not_hide_iterates(poisson2):
    ax = gp.coefficient_path(poisson2)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    P = traces.history_params(poisson2)
    pts = ax.transData.transform(P[np.isfinite(P).all(axis=1)])
    labels = _by_gid(ax, "path-iteration-label")
    assert labels, "the iterates are numbered"
    # iterates on top of each other share one label ("2–4")
    assert len(labels) < len(pts) and any("–" in lab.get_text() for lab in labels)
    for lab in labels:
        box = lab.get_window_extent(renderer)
        inside = [(x, y) for x, y in pts if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1]
        assert not inside, lab.get_text()


def test_working_regression_equation_sits_outside_the_data(poisson2):
    ax = gp.working_regression(poisson2, 1)
    (eq,) = _by_gid(ax, "wls-equation")
    assert eq is ax.title  # the title, above the axes: it hides no point
    data = traces.working_regression_data(poisson2, 1)
    assert f"{data.slope:.4f}" in eq.get_text()
