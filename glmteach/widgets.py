r"""Interactive widgets (ipywidgets) for teaching GLMs, built on ``glmteach.plotting``.

    from glmteach import widgets
    widgets.irls_stepper(res)          # step through the iterations of a fitted model
    widgets.family_explorer("Gamma")   # density from theta, b(theta), S(y, phi)
    widgets.link_explorer()            # inverse links and d mu / d eta
    widgets.tweedie_explorer()         # the compound Poisson-gamma distribution
    widgets.explore(draw, a=(0, 1, 0.1))   # your own figure with controls

Rules every widget here keeps:

- It only *shows* precomputed results: moving a slider never refits a model (the
  stepper draws the ``history`` that ``gt.fit`` stored; the explorers evaluate closed
  forms and draw a fixed-seed sample).
- Figures are drawn by the functions of ``glmteach.plotting`` on one matplotlib
  ``Figure`` per widget (not managed by pyplot, so the inline backend never shows a
  stray copy), rendered to PNG and placed in the widget's ``Output`` area by setting
  its ``outputs`` directly (one message per redraw, no flicker, no kernel needed).
- It never raises into the notebook: invalid slider combinations and any error while
  drawing show a message in the output area instead.

Every returned widget is an ``ipywidgets.VBox`` with the attributes ``figure`` (the
current matplotlib Figure), ``output`` (the Output area), ``message`` (the text of the
message shown, "" when none), ``n_draws`` (how many times the figure was rendered) and
``redraw()``; the stepper also has ``slider``, ``play``, ``method`` and ``readout``.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from glmteach import families as F
from glmteach import links as L
from glmteach import plotting as P
from glmteach import traces as T

__all__ = [
    "FigureWidget",
    "MessageWidget",
    "IRLSStepper",
    "FamilyExplorer",
    "LinkExplorer",
    "TweedieExplorer",
    "Explorer",
    "irls_stepper",
    "family_explorer",
    "link_explorer",
    "tweedie_explorer",
    "explore",
]

METHOD_LABELS = T.METHOD_LABELS


def _html_table(rows: list[tuple[str, str]], title: str | None = None) -> str:
    head = f"<div style='font-weight:bold;margin-bottom:2px'>{html.escape(title)}</div>" \
        if title else ""
    body = "".join(
        f"<tr><td style='padding:1px 10px 1px 0'>{html.escape(a)}</td>"
        f"<td style='text-align:right;font-family:monospace'>{html.escape(b)}</td></tr>"
        for a, b in rows
    )
    return f"{head}<table style='border-collapse:collapse'>{body}</table>"


def _fmt(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "—"
    try:
        xf = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not np.isfinite(xf):
        return str(xf)
    return f"{xf:.{digits}g}"


DEFAULT_DPI = 100.0
STEPPER_FIGSIZE = (7.0, 6.6)
EXPLORER_FIGSIZE = (7.0, 4.2)
_MAX_INCHES = 40.0


def _check_figsize(figsize: Any, dpi: Any, default_figsize: tuple[float, float],
                   ) -> tuple[tuple[float, float], float, str]:
    """(figsize, dpi, note): the requested size when it can be drawn, else the default
    and a note that says what was asked for and what is drawn instead."""
    notes = []
    try:
        w, h = (float(v) for v in figsize)
        ok = all(np.isfinite(v) and 0 < v <= _MAX_INCHES for v in (w, h))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        notes.append(f"figsize={figsize!r} cannot be drawn: it must be (width, height) in "
                     f"inches, each a number above 0 and at most {_MAX_INCHES:g}; drawn "
                     f"at the default figsize={default_figsize!r} instead.")
        w, h = default_figsize
    try:
        d = float(dpi)
        dpi_ok = np.isfinite(d) and 10 <= d <= 600
    except (TypeError, ValueError):
        dpi_ok = False
    if not dpi_ok:
        notes.append(f"dpi={dpi!r} cannot be drawn: it must be a number from 10 to 600; "
                     f"drawn at dpi={DEFAULT_DPI:g} instead.")
        d = DEFAULT_DPI
    return (w, h), d, "\n".join(notes)


def _number(name: str, value: Any, default: float) -> tuple[float, str]:
    """float(value), or the default and a note when value is not a finite number."""
    try:
        v = float(value)
        if np.isfinite(v):
            return v, ""
    except (TypeError, ValueError):
        pass
    return default, (f"{name}={value!r} is not a finite number: drawn with "
                     f"{name}={default:g} instead.")


def _widen(slider: W.Widget, value: float, *, margin: float = 0.25) -> None:
    """Widen a slider's range so that it holds ``value`` (a slider would otherwise
    clamp it silently), then set it."""
    if value > slider.max:
        slider.max = float(np.ceil(value * (1.0 + margin))) if value > 0 else value
    if value < slider.min:
        slider.min = float(np.floor(value * (1.0 + margin))) if value < 0 else value
    slider.value = value


class FigureWidget(W.VBox):
    """Base class: controls above an ``Output`` area showing one rendered Figure.

    ``render()`` draws the figure to PNG and replaces the Output's content with it (plus
    the current message, if any); ``show_message(text)`` replaces the figure with a
    message only.  Subclasses implement ``_draw()``, which draws on ``self.figure``;
    ``redraw()`` calls it and turns any exception into a message.

    The PNG is drawn at ``dpi`` (default 100) and the Output area has no fixed height:
    the front end scales the image to the width it has (JupyterLab: ``max-width:
    100%``) and the area shrinks with it, leaving no blank gap.  An impossible
    ``figsize`` or ``dpi`` is replaced by the default, and ``setup_note`` (shown under
    every drawing) says so.
    """

    def __init__(self, controls: list[W.Widget], *, figsize: Any, dpi: Any = DEFAULT_DPI,
                 below: list[W.Widget] | None = None,
                 default_figsize: tuple[float, float] = EXPLORER_FIGSIZE, **kwargs: Any):
        figsize, dpi, size_note = _check_figsize(figsize, dpi, default_figsize)
        output = W.Output(layout=W.Layout(width="100%"))
        super().__init__(children=[*controls, output, *(below or [])], **kwargs)
        self.output = output
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.message = ""
        self.setup_note = size_note
        self.n_draws = 0
        self._suspended = 0

    # -- output area --------------------------------------------------------------------
    @staticmethod
    def _message_item(text: str, level: str) -> dict:
        color = {"error": "#b00020", "note": "#555555"}.get(level, "#555555")
        return {
            "output_type": "display_data",
            "data": {
                "text/plain": text,
                "text/html": f"<pre style='color:{color};white-space:pre-wrap;margin:2px'>"
                             f"{html.escape(text)}</pre>",
            },
            "metadata": {},
        }

    def _with_setup(self, text: str) -> str:
        return "\n".join(filter(None, [text, self.setup_note]))

    def render(self, note: str = "") -> None:
        """Render ``self.figure`` to PNG and show it (with ``note`` below, if any)."""
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.figure.dpi,
                            pil_kwargs={"compress_level": 1})
        self._publish_png(buf.getvalue(), note)

    def _publish_png(self, png: bytes, note: str = "") -> None:
        self.n_draws += 1
        items = [{
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"),
                     "text/plain": f"<glmteach figure, draw {self.n_draws}>"},
            "metadata": {},
        }]
        if note:
            items.append(self._message_item(note, "note"))
        self.message = note
        self.output.outputs = tuple(items)

    def show_message(self, text: str) -> None:
        """Replace the figure by a message (used for invalid values and errors)."""
        text = self._with_setup(text)
        self.message = text
        self.output.outputs = (self._message_item(text, "error"),)

    def redraw(self) -> None:
        """Draw the figure for the current control values; never raises."""
        if self._suspended:
            return
        try:
            note = self._draw()
        except Exception as exc:  # widgets never raise into the notebook
            self.show_message(_describe_error(exc))
            return
        try:
            self.render(self._with_setup(note or ""))
        except Exception as exc:
            self.show_message(_describe_error(exc))

    def _draw(self) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _observe_values(self, controls: list[W.Widget]) -> None:
        for c in controls:
            c.observe(self._on_change, names="value")

    def _on_change(self, change: dict) -> None:
        self.redraw()

    def _single_axes(self) -> Axes:
        """The figure's one Axes, cleared (created on first use; reusing it is faster
        than a new Axes per redraw)."""
        if len(self.figure.axes) != 1:
            self.figure.clear()
            self.figure.add_subplot(1, 1, 1)
        ax = self.figure.axes[0]
        ax.clear()
        self.figure.subplots_adjust(left=0.11, right=0.97, bottom=0.13, top=0.91)
        return ax

    def __repr__(self) -> str:
        return f"<glmteach {type(self).__name__}>"


class MessageWidget(FigureWidget):
    """What a widget factory returns when its input cannot be shown at all: the same
    Output area, holding only ``message`` (no figure is drawn)."""

    def __init__(self, text: str):
        super().__init__([], figsize=EXPLORER_FIGSIZE)
        self.text = text
        self.redraw()

    def redraw(self) -> None:
        self.show_message(self.text)

    def __repr__(self) -> str:
        return "<glmteach MessageWidget>"


def _describe_error(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return f"Cannot draw these values: {exc}"
    return f"Could not draw the figure ({type(exc).__name__}): {exc}"


# ======================================================================================
# 1. IRLS stepper
# ======================================================================================
class IRLSStepper(FigureWidget):
    r"""Step through the iterations of a fitted GLM (see ``irls_stepper``).

    The figure has four panels in two rows, so that it fits a notebook column of about
    700 px: (a) coefficient path, (b) convergence, (c) working regression, and a key
    that explains every line and contour level of (a)-(c) (the panels carry no legend,
    so nothing hides data).  Panels are drawn by ``glmteach.plotting``: ``coefficient_path``
    and ``convergence`` once per method, ``working_regression_panel`` with fixed limits;
    their markers (``coefficient_path_marker``, ``convergence_marker``) and the
    working-regression artists are ``panels["path"]``, ``panels["convergence"]``,
    ``panels["wls"]``.

    Drawing is split in two: the parts that do not depend on the iteration are drawn
    once per method and kept as a pixel background; a move of the slider restores that
    background, moves the panels' artists with their own ``update(k)`` and draws only
    them on top, then encodes the PNG.  ``figure.savefig`` still draws everything.
    """

    def __init__(self, results, compare=None, *, max_points: int = 2000,
                 figsize: Any = STEPPER_FIGSIZE, dpi: Any = DEFAULT_DPI,
                 interval: int = 900):
        self.fits, notes = T.stepper_fits(results, compare)
        first_label, results = next(iter(self.fits.items()))
        canonical = bool(results.family.is_canonical)
        self.current = first_label
        self.max_points = max_points

        K = results.n_iter
        self.slider = W.IntSlider(value=0, min=0, max=K, step=1, description="iteration",
                                  continuous_update=False)
        self.play = W.Play(value=0, min=0, max=K, step=1, interval=interval,
                           description="play")
        W.link((self.play, "value"), (self.slider, "value"))
        self.method: W.ToggleButtons | None = None
        row = [self.play, self.slider]
        if len(self.fits) > 1 or not canonical:
            self.method = W.ToggleButtons(description="method",
                                          options=["Fisher scoring", "Newton-Raphson"],
                                          value=first_label,
                                          style={"button_width": "120px"})
            row.append(self.method)
        self.readout = W.HTML(value="")
        super().__init__([W.HBox(row, layout=W.Layout(flex_flow="row wrap"))],
                         figsize=figsize, dpi=dpi, below=[self.readout],
                         default_figsize=STEPPER_FIGSIZE)
        self.setup_note = "\n".join(filter(None, [*notes, self.setup_note]))

        gs = self.figure.add_gridspec(2, 2, wspace=0.42, hspace=0.4, left=0.115,
                                      right=0.985, bottom=0.085, top=0.93)
        self.axes = {"path": self.figure.add_subplot(gs[0, 0]),
                     "convergence": self.figure.add_subplot(gs[0, 1]),
                     "wls": self.figure.add_subplot(gs[1, 0]),
                     "key": self.figure.add_subplot(gs[1, 1])}
        self.surface = None
        if results.problem.p == 2:
            self.surface = T.likelihood_surface(results, others=[
                r for lab, r in self.fits.items() if lab != first_label])
        self.panels: dict[str, Any] = {}
        self._background = None
        self._draw_static()
        self.slider.observe(self._on_change, names="value")
        if self.method is not None:
            if len(self.fits) < 2:
                self.method.disabled = True
            self.method.observe(self._on_method, names="value")
        self.redraw()

    @property
    def results(self):
        """The fit whose history is on display (depends on the method switch)."""
        return self.fits[self.current]

    # -- drawing --------------------------------------------------------------------------
    def _draw_static(self) -> None:
        """Draw everything that does not depend on the iteration (once per method) with
        the plotting functions, and keep the artists that ``_draw`` moves."""
        res = self.results
        ax_a, ax_b, ax_c, ax_key = (self.axes[k] for k in ("path", "convergence", "wls",
                                                             "key"))
        for ax in (ax_a, ax_b, ax_c, ax_key):
            ax.clear()
        P.coefficient_path(res, ax=ax_a, surface=self.surface, highlight=False,
                           legend=False)
        P.convergence(res, ax=ax_b, legend=False)
        ax_a.set_title(f"(a) {ax_a.get_title()}", fontsize=P.FONT_TITLE)
        ax_b.set_title(f"(b) convergence: {res.n_iter} iterations", fontsize=P.FONT_TITLE)
        path = P.coefficient_path_marker(res, ax_a)
        conv = P.convergence_marker(res, ax_b)
        wls = P.working_regression_panel(res, ax=ax_c, max_points=self.max_points,
                                         fixed_limits=True, legend=False,
                                         title_prefix="(c) WLS line: ")
        P.key_panel(ax_key, [("(a) path", ax_a), ("(b) convergence", ax_b),
                             ("(c) working regression", ax_c)])
        if getattr(self, "header", None) is not None:
            self.header.remove()
        self.header = self.figure.text(0.01, 0.995, "", ha="left", va="top",
                                       fontsize=P.FONT_TITLE, fontweight="bold",
                                       gid="stepper-header")
        self.panels = {"path": path, "convergence": conv, "wls": wls}
        for artist in self._animated():
            artist.set_animated(True)
        self._wls_cache: dict[int, T.WorkingRegression | None] = {}
        self._llf_cache: dict[int, float | None] = {}
        self._background = None

    def _animated(self) -> list:
        return [*self.panels["path"].artists, *self.panels["convergence"].artists,
                *self.panels["wls"].animated, self.header]

    def _wls(self, k: int) -> T.WorkingRegression | None:
        if k not in self._wls_cache:
            self._wls_cache[k] = T.working_regression_data(self.results, k,
                                                           max_points=self.max_points)
        return self._wls_cache[k]

    def _llf(self, k: int) -> float | None:
        if k not in self._llf_cache:
            self._llf_cache[k] = T.history_llf(self.results, k)
        return self._llf_cache[k]

    def _draw(self) -> str:
        res = self.results
        K = len(res.history) - 1
        k = int(self.slider.value)
        if not 0 <= k <= K:
            raise ValueError(f"iteration {k} is outside 0..{K}")
        self.panels["path"].update(k)
        self.panels["convergence"].update(k)
        data = self._wls(k)
        self.panels["wls"].update(data, k)
        self.header.set_text(f"iteration {k} of {K}  ·  {self.current}")
        notes = []
        if data is None:
            notes.append(f"Iteration {k}: the history holds no working vectors (eta, mu, "
                         f"z, w) here, so panel (c) is empty; refit with keep_vectors=True "
                         f"to see every iteration.")
        self.readout.value = self._readout(res, k)
        return "\n".join(notes)

    def render(self, note: str = "") -> None:
        """Restore the static background, draw the animated artists, encode the PNG."""
        canvas = self.figure.canvas
        if self._background is None:
            canvas.draw()  # animated artists are skipped: this is the background
            self._background = canvas.copy_from_bbox(self.figure.bbox)
        else:
            canvas.restore_region(self._background)
        for artist in self._animated():
            if artist.get_visible():
                self.figure.draw_artist(artist)
        width, height = canvas.get_width_height(physical=True)
        image = PILImage.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw",
                                    "RGBA", 0, 1)
        buf = io.BytesIO()
        dpi = round(float(self.figure.dpi))
        image.convert("RGB").save(buf, format="png", compress_level=1, dpi=(dpi, dpi))
        self._publish_png(buf.getvalue(), note)

    def _readout(self, res, k: int) -> str:
        state = res.history[k]
        K = len(res.history) - 1
        names = res.problem.param_names
        rows: list[tuple[str, str]] = [("iteration", f"{k} of {K}"),
                                       ("method", self.current)]
        if state.params is None:
            rows.append(("β", "start: mean from the data (no coefficients yet)"))
        else:
            rows += [(f"β {name}", _fmt(b, 8)) for name, b in zip(names, state.params,
                                                                  strict=True)]
        rows.append(("deviance D", _fmt(state.deviance, 10)))
        if k > 0:
            prev = res.history[k - 1].deviance
            rows.append(("|D_k − D_k−1|", _fmt(abs(state.deviance - prev), 3)))
            rows.append(("step size", _fmt(state.step_size, 3)))
        rows.append(("log-likelihood ℓ", _fmt(self._llf(k), 10)))
        if k == K:
            rows.append(("status", "converged" if res.converged else "NOT converged"))
        return _html_table(rows, title=f"(d) iteration {k}")

    # -- events -------------------------------------------------------------------------
    def _on_method(self, change: dict) -> None:
        try:
            label = change["new"]
            if label not in self.fits:
                self.show_message(f"{label}: no fit is available for this method.")
                return
            self.current = label
            K = self.results.n_iter
            self._suspended += 1
            try:
                if self.slider.value > K:
                    self.slider.value = K
                self.slider.max = K
                self.play.max = K
            finally:
                self._suspended -= 1
            self._draw_static()
        except Exception as exc:
            self.show_message(_describe_error(exc))
            return
        self.redraw()

    def __repr__(self) -> str:
        res = self.results
        return (f"<glmteach IRLSStepper: {res.family.name}, {res.problem.p} coefficients, "
                f"{res.n_iter} iterations ({self.current})>")


def irls_stepper(results, compare=None, *, max_points: int = 2000,
                 figsize: tuple[float, float] = STEPPER_FIGSIZE, dpi: float = DEFAULT_DPI,
                 interval: int = 900) -> IRLSStepper | MessageWidget:
    r"""Step through a fitted model's iterations, from the stored ``results.history``.

    ``results`` is what ``gt.fit`` / ``gt.glm`` return; a ``gt.GLMProblem`` is fitted
    here first (Fisher scoring, with a note saying so).  Anything else, or a problem
    that cannot be fitted, gives a ``MessageWidget`` that says why (never an exception).

    Controls: a ``Play`` button linked to ``IntSlider(description="iteration")`` (0 to
    ``n_iter``), and, when the link is not canonical or a comparison is given,
    ``ToggleButtons(description="method")`` switching between Fisher scoring (expected
    information; what ``gt.fit`` does by default) and Newton-Raphson (observed
    information).  The other method's fit is computed once, when the widget is built:
    ``compare`` is a fit of the same problem, or ``"newton"`` / ``"irls"`` to fit that
    method here; for a canonical link both are the same algorithm (equation 13.15), so
    without ``compare`` there is no switch.  An unusable ``compare`` is ignored with a
    note under the figure.

    Panels for iteration k (a 7 x 6.6 inch figure at 100 dpi, 700 px wide, so that it
    stays legible in a notebook column at 1024 px with JupyterLab's sidebar open):

    (a) the coefficient path beta_0, beta_1, ... with beta_k circled; with two
        coefficients over contours of ell(beta-hat) - ell(beta), computed once;
    (b) deviance D_k and |D_k - D_{k-1}| on a log scale: quadratic convergence makes
        the second curve plunge;
    (c) the weighted least squares problem of this iteration: z = x'beta_k +
        (y - mu) g'(mu) against x'beta_k = eta - offset, point area proportional to
        W = w / (v g'^2), with the WLS line and the diagonal;
    the key (lower right) names every line and the contour levels of (a); and
    (d) below the figure, a table of beta_k, D_k, |Delta D|, the step size and ell_k.

    Iteration 0 of a fit that starts from the data has no coefficients ("start: mean
    from the data"): no point in (a).  Iterations whose vectors were not kept (n >
    20,000) show a note instead of panel (c).  ``max_points`` caps the points drawn in
    (c) (a fixed random subset; the fitted line uses all points), which keeps a redraw
    fast for large n.  An impossible ``figsize`` or ``dpi`` is replaced by the default
    with a note.  Attributes: ``slider``, ``play``, ``method`` (None without a switch),
    ``readout``, ``figure``, ``axes``, ``panels``, ``output``, ``fits``, ``message``,
    ``n_draws``.
    """
    from glmteach.frames import attach_static_frames  # pre-rendered frames for static pages

    try:
        return attach_static_frames(IRLSStepper(results, compare, max_points=max_points,
                                                figsize=figsize, dpi=dpi, interval=interval))
    except Exception as exc:  # widgets never raise into the notebook
        text = str(exc) if isinstance(exc, ValueError) else (
            f"irls_stepper could not be built ({type(exc).__name__}: {exc})")
        return MessageWidget(text)


# ======================================================================================
# 2. Family explorer
# ======================================================================================
# mean slider (min, max, step, value) and phi slider (or None: phi fixed) per family.
# The slider ends are allowed to be invalid (e.g. a binomial mean of 0 or 1, phi = 0):
# the widget then explains why instead of drawing.
_FAMILY_SETUP: dict[str, dict[str, Any]] = {
    "Gaussian": {"mean": (-5.0, 5.0, 0.1, 1.0), "phi": (0.0, 5.0, 0.05, 1.0)},
    "Binomial": {"mean": (0.0, 1.0, 0.01, 0.3), "phi": None},
    "Poisson": {"mean": (0.0, 30.0, 0.1, 4.0), "phi": None},
    "Gamma": {"mean": (0.0, 20.0, 0.1, 3.0), "phi": (0.0, 3.0, 0.05, 0.5)},
    "InverseGaussian": {"mean": (0.0, 10.0, 0.1, 2.0), "phi": (0.0, 2.0, 0.01, 0.2)},
    "NegativeBinomial": {"mean": (0.0, 30.0, 0.1, 4.0), "phi": None},
    "Tweedie": {"mean": (0.0, 20.0, 0.1, 3.0), "phi": (0.0, 5.0, 0.05, 1.0)},
}
_FIXED_PHI_NOTE = {
    "Binomial": "φ = 1/n for a proportion out of n trials: the phi slider is ignored, "
                "use trials (n = 1 is the Bernoulli).",
    "Poisson": "φ = 1 for the Poisson (Var y = μ): the phi slider is ignored.",
    "NegativeBinomial": "φ = 1 for the negative binomial (Var y = μ + α μ²): the phi "
                        "slider is ignored; α shapes the extra variance.",
}


def _set_slider(slider: W.Widget, lo: float, hi: float, step: float, value: float) -> None:
    """Reset a slider's range and value in an order traitlets accepts."""
    slider.min = min(lo, slider.min)
    slider.max = max(hi, slider.max)
    slider.step = step
    slider.value = value
    slider.min = lo
    slider.max = hi


def _tweedie_power_note(power: float, drawn: float) -> str:
    same = {0.0: "Gaussian", 1.0: "Poisson", 2.0: "Gamma", 3.0: "InverseGaussian"}
    hint = (f"; p = {power:g} is the {same[float(power)]} family: choose it in the family menu"
            if float(power) in same else "")
    return (f"Tweedie(power={power:g}) cannot be drawn here: this panel draws the compound "
            f"Poisson-gamma members, 1 < p < 2{hint}. Drawn: p = {drawn:g}.")


class FamilyExplorer(FigureWidget):
    """Density / mass function of a linear exponential family (see ``family_explorer``)."""

    def __init__(self, family: str | F.Family = "Poisson", *, n_sample: int = 4000,
                 seed: int = 0, figsize: tuple[float, float] = EXPLORER_FIGSIZE,
                 dpi: float = DEFAULT_DPI):
        request = []
        try:
            fam0 = F.make_family(family)
            if fam0.name not in _FAMILY_SETUP:
                raise ValueError(f"family: must be one of {', '.join(F.FAMILY_NAMES)}, "
                                 f"got {family!r}")
        except ValueError as exc:
            fam0 = F.Poisson()
            request.append(f"{exc}; showing the Poisson family instead.")
        name = fam0.name
        self.n_sample, self.seed = n_sample, seed
        style = {"description_width": "60px"}
        self.family = W.Dropdown(options=list(F.FAMILY_NAMES), value=name,
                                 description="family", style=style)
        self.mean = W.FloatSlider(description="mean", continuous_update=False, style=style,
                                  readout_format=".3g")
        self.theta = W.FloatSlider(description="theta", continuous_update=False,
                                   style=style, readout_format=".3g")
        self.phi = W.FloatSlider(description="phi", continuous_update=False, style=style,
                                 readout_format=".3g")
        self.trials = W.IntSlider(value=10, min=1, max=50, description="trials",
                                  continuous_update=False, style=style)
        self.alpha = W.FloatSlider(value=0.5, min=0.05, max=3.0, step=0.05,
                                   description="alpha", continuous_update=False, style=style,
                                   readout_format=".3g")
        if name == "NegativeBinomial":
            _widen(self.alpha, float(fam0.alpha))  # alpha = 10 is drawn as 10, not 3
        self.power = W.FloatSlider(value=1.5, min=1.0, max=2.0, step=0.05,
                                   description="p", continuous_update=False, style=style)
        if name == "Tweedie":
            if 1 < fam0.power < 2:
                self.power.value = float(fam0.power)
            else:
                request.append(_tweedie_power_note(fam0.power, self.power.value))
        self.request_note = "\n".join(request)
        self.note = W.HTML(value="")
        self.readout = W.HTML(value="")
        controls = [self.family, W.HBox([self.mean, self.theta]),
                    W.HBox([self.phi, self.trials, self.alpha, self.power]), self.note]
        super().__init__(controls, figsize=figsize, dpi=dpi, below=[self.readout])
        self._configure(name)
        for control in (self.family, self.power):  # the request note is about these two
            control.observe(self._forget_request, names="value")
        self._observe_values([self.mean, self.phi, self.trials, self.alpha, self.power])
        self.theta.observe(self._on_theta, names="value")
        self.family.observe(self._on_family, names="value")
        self.redraw()

    def _configure(self, name: str) -> None:
        setup = _FAMILY_SETUP[name]
        self._suspended += 1
        try:
            _set_slider(self.mean, *setup["mean"])
            if setup["phi"] is None:
                self.phi.disabled = True
                self.phi.value = 1.0 if self.phi.max >= 1.0 else self.phi.max
            else:
                self.phi.disabled = False
                _set_slider(self.phi, *setup["phi"])
            for slider, owner in ((self.trials, "Binomial"), (self.alpha, "NegativeBinomial"),
                                  (self.power, "Tweedie")):
                slider.layout.display = None if name == owner else "none"
            self.note.value = (f"<i>{html.escape(_FIXED_PHI_NOTE[name])}</i>"
                               if name in _FIXED_PHI_NOTE else "")
        finally:
            self._suspended -= 1

    def _forget_request(self, change: dict) -> None:
        self.request_note = ""

    def _on_family(self, change: dict) -> None:
        try:
            self._configure(change["new"])
        except Exception as exc:
            self.show_message(_describe_error(exc))
            return
        self.redraw()

    def current_family(self) -> F.Family:
        """The family instance for the current controls."""
        return F.make_family(self.family.value, alpha=self.alpha.value, power=self.power.value)

    def _on_theta(self, change: dict) -> None:
        """The theta slider moves the mean to b'(theta) (then the figure follows)."""
        if self._suspended:
            return
        try:
            mean = float(self.current_family().b_prime(float(change["new"])))
        except Exception as exc:
            self.show_message(_describe_error(exc))
            return
        self._suspended += 1
        try:
            self.mean.value = min(max(mean, self.mean.min), self.mean.max)
        finally:
            self._suspended -= 1
        self.redraw()

    def _sync_theta(self, fam: F.Family) -> None:
        """Put the theta slider at theta(mean), on the range that theta(mu) maps the mean
        slider's range onto (theta is increasing in mu; an end where theta is infinite,
        such as mu = 0 for the Poisson, is moved in by one step of the mean slider)."""
        lo, hi, step = self.mean.min, self.mean.max, self.mean.step
        with np.errstate(all="ignore"):
            t_lo, t_lo_in, t_hi_in, t_hi, value = (
                float(fam.theta(m)) for m in (lo, lo + step, hi - step, hi, self.mean.value))
        t_lo = t_lo if np.isfinite(t_lo) else t_lo_in
        t_hi = t_hi if np.isfinite(t_hi) else t_hi_in
        value = min(max(value, t_lo), t_hi) if np.isfinite(value) else (
            t_lo if self.mean.value <= lo else t_hi)
        self._suspended += 1
        try:
            _set_slider(self.theta, t_lo, t_hi, (t_hi - t_lo) / 1000, value)
        finally:
            self._suspended -= 1

    def _draw(self) -> str:
        fam = self.current_family()
        mean, phi, trials = float(self.mean.value), float(self.phi.value), int(self.trials.value)
        self.readout.value = ""
        self._sync_theta(fam)
        T.check_family_values(fam, mean, phi, trials)
        ax = self._single_axes()
        P.family_panel(fam, mean, phi, trials=trials, ax=ax, n_sample=self.n_sample,
                       seed=self.seed)
        self.readout.value = self._readout(fam, mean, phi, trials)
        return self.request_note

    def _readout(self, fam: F.Family, mean: float, phi: float, trials: int) -> str:
        if fam.name == "Tweedie":
            lam, alpha, gamma = F.tweedie_poisson_gamma(mean, phi, fam.power)
            rows = [("θ = μ^{1−p}/(1−p)", _fmt(fam.theta(mean))),
                    ("λ (Poisson mean)", _fmt(lam)), ("α (gamma shape)", _fmt(alpha)),
                    ("γ (gamma rate)", _fmt(gamma)), ("P(Y = 0) = e^{−λ}", _fmt(np.exp(-lam))),
                    ("Var y = φ μ^p", _fmt(phi * mean**fam.power))]
            return _html_table(rows, title="Tweedie as a Poisson sum of gammas")
        scale, weights = T.density_dispersion(fam, phi, trials)
        phi_eff = scale / weights
        theta = float(fam.theta(mean))
        rows = [("θ = θ(μ)", _fmt(theta)), ("b(θ)", _fmt(fam.b(theta))),
                ("b′(θ) = E y", _fmt(fam.b_prime(theta))),
                ("b″(θ) = v(μ)", _fmt(fam.b_double_prime(theta))),
                ("φ", _fmt(phi_eff)),
                ("Var y = φ b″(θ)", _fmt(phi_eff * fam.b_double_prime(theta)))]
        return _html_table(rows, title=f"{fam.name}: components of exp((yθ − b(θ))/φ + S(y, φ))")

    def __repr__(self) -> str:
        return f"<glmteach FamilyExplorer: {self.family.value}>"


def family_explorer(family: str | F.Family = "Poisson", *, n_sample: int = 4000,
                    seed: int = 0, figsize: tuple[float, float] = EXPLORER_FIGSIZE,
                    dpi: float = DEFAULT_DPI) -> FamilyExplorer | MessageWidget:
    r"""Explore one member of the linear exponential family at a time.

    ``Dropdown(description="family")`` over Gaussian, Binomial, Poisson, Gamma,
    InverseGaussian, NegativeBinomial and Tweedie; sliders ``mean`` and ``theta`` (the
    natural parameter: the two move together, mu = b'(theta)), ``phi`` (plus ``trials``
    n for the binomial, ``alpha`` for the negative binomial, ``p`` for Tweedie).  The
    figure (``plotting.family_panel``) draws f(y) = exp((y theta - b(theta)) / phi +
    S(y, phi)) from the family's own components, marks the mean
    b'(theta) and +/- one standard deviation sqrt(phi b''(theta)), and overlays a
    simulated sample (``family.sample``, fixed ``seed``); the table below lists theta,
    b(theta), b'(theta), b''(theta) and Var y.  For families with a fixed phi
    (Poisson, negative binomial; binomial with phi = 1/n) the phi slider is disabled and
    a note says so.  Invalid values (a binomial mean of 0 or 1, phi = 0, ...) show a
    message instead of a figure.

    A requested value is never clamped silently: a negative binomial's alpha widens the
    alpha slider to hold it; a Tweedie power outside 1 < p < 2 (which this panel cannot
    draw) and an unknown family are replaced by a default, and a note under the figure
    says what was asked for and what is drawn (until the family or p is changed).
    """
    try:
        return FamilyExplorer(family, n_sample=n_sample, seed=seed, figsize=figsize,
                              dpi=dpi)
    except Exception as exc:  # widgets never raise into the notebook
        return MessageWidget(f"family_explorer could not be built "
                             f"({type(exc).__name__}: {exc})")


# ======================================================================================
# 3. Link explorer
# ======================================================================================
class LinkExplorer(FigureWidget):
    """Inverse links and d mu / d eta (see ``link_explorer``)."""

    def __init__(self, *, eta: float = 0.5, figsize: tuple[float, float] = EXPLORER_FIGSIZE,
                 dpi: float = DEFAULT_DPI):
        eta, self.request_note = _number("eta", eta, 0.5)
        self.eta = W.FloatSlider(value=0.0, min=-5.0, max=5.0, step=0.1, description="eta",
                                 continuous_update=True)
        if abs(eta) > 5.0:  # widen symmetrically: eta = 8 is drawn at 8, not clamped to 5
            top = float(np.ceil(abs(eta)) + 1.0)
            self.eta.max, self.eta.min = top, -top
        self.eta.value = eta
        self.more = W.Checkbox(value=False, description="also log and identity",
                               indent=False)
        self.readout = W.HTML(value="")
        super().__init__([W.HBox([self.eta, self.more])], figsize=figsize, dpi=dpi,
                         below=[self.readout])
        self.eta.observe(self._forget_request, names="value")
        self._observe_values([self.eta, self.more])
        self.redraw()

    def _forget_request(self, change: dict) -> None:
        self.request_note = ""

    def links(self) -> list[str]:
        base = ["logit", "probit", "cloglog"]
        return base + ["log", "identity"] if self.more.value else base

    def _draw(self) -> str:
        eta = float(self.eta.value)
        if not np.isfinite(eta):
            raise ValueError(f"eta: must be finite, got {eta}")
        ax = self._single_axes()
        P.links_panel(eta, self.links(), ax=ax, eta_range=(self.eta.min, self.eta.max))
        rows = []
        notes = []
        for name in self.links():
            mu, slope = T.link_at(L.make_link(name), eta)
            rows.append((name, f"μ = {_fmt(mu, 4)}   dμ/dη = {_fmt(slope, 4)}"))
            if not 0 <= mu <= 1:
                notes.append(f"{name}: μ = {mu:.3g} at η = {eta:g} is not a probability")
        self.readout.value = _html_table(rows, title=f"at η = {eta:g}")
        return "\n".join(filter(None, [*notes, self.request_note]))

    def __repr__(self) -> str:
        return "<glmteach LinkExplorer>"


def link_explorer(*, eta: float = 0.5, figsize: tuple[float, float] = EXPLORER_FIGSIZE,
                  dpi: float = DEFAULT_DPI) -> LinkExplorer | MessageWidget:
    r"""Inverse links mu = g^{-1}(eta) for a binary response (``plotting.links_panel``):
    logit, probit and complementary log-log, optionally log and identity (drawn only
    where they give a probability).  The ``eta`` slider marks the point on each curve
    with its tangent of slope d mu / d eta, and the table lists mu and d mu / d eta (the
    logit's is mu (1 - mu), largest, 1/4, at eta = 0).  A requested ``eta`` beyond
    +/-5 widens the slider and the figure to hold it (never a silent clamp)."""
    try:
        return LinkExplorer(eta=eta, figsize=figsize, dpi=dpi)
    except Exception as exc:  # widgets never raise into the notebook
        return MessageWidget(f"link_explorer could not be built ({type(exc).__name__}: {exc})")


# ======================================================================================
# 4. Tweedie explorer
# ======================================================================================
class TweedieExplorer(FigureWidget):
    """The compound Poisson-gamma distribution (see ``tweedie_explorer``)."""

    MEAN_PARAMS = "μ, φ, p"
    CLAIM_PARAMS = "λ, α, γ"

    def __init__(self, *, mu: float = 2.0, phi: float = 1.5, power: float = 1.4,
                 n_sample: int = 4000, seed: int = 0,
                 figsize: tuple[float, float] = EXPLORER_FIGSIZE, dpi: float = DEFAULT_DPI):
        self.n_sample, self.seed = n_sample, seed
        self.parametrisation = W.ToggleButtons(
            options=[self.MEAN_PARAMS, self.CLAIM_PARAMS], value=self.MEAN_PARAMS,
            description="parameters")
        kw = {"continuous_update": False, "readout_format": ".3g"}
        mu, mu_note = _number("mu", mu, 2.0)
        phi, phi_note = _number("phi", phi, 1.5)
        power, p_note = _number("power", power, 1.4)
        if not p_note and not 1 < power < 2:
            p_note = (f"power={power:g} cannot be drawn: the compound Poisson-gamma Tweedie "
                      f"needs 1 < p < 2. Drawn: p = 1.4.")
            power = 1.4
        self.request_note = "\n".join(filter(None, [mu_note, phi_note, p_note]))
        self.mu = W.FloatSlider(value=2.0, min=0.0, max=10.0, step=0.05, description="mu",
                                **kw)
        self.phi = W.FloatSlider(value=1.5, min=0.0, max=5.0, step=0.05, description="phi",
                                 **kw)
        _widen(self.mu, mu)  # mu = 50 is drawn at 50, not clamped to 10
        _widen(self.phi, phi)
        self.p = W.FloatSlider(value=power, min=1.0, max=2.0, step=0.01, description="p", **kw)
        self.lam = W.FloatSlider(min=0.0, max=10.0, step=0.05, description="lambda", **kw)
        self.alpha = W.FloatSlider(min=0.0, max=10.0, step=0.05, description="alpha", **kw)
        self.gamma = W.FloatSlider(min=0.0, max=10.0, step=0.05, description="gamma", **kw)
        self.mean_box = W.HBox([self.mu, self.phi, self.p])
        self.claim_box = W.HBox([self.lam, self.alpha, self.gamma],
                                layout=W.Layout(display="none"))
        self.readout = W.HTML(value="")
        super().__init__([self.parametrisation, self.mean_box, self.claim_box],
                         figsize=figsize, dpi=dpi, below=[self.readout])
        self._sync_claims()
        for control in (self.mu, self.phi, self.p, self.parametrisation):
            control.observe(self._forget_request, names="value")
        self._observe_values([self.mu, self.phi, self.p, self.lam, self.alpha, self.gamma])
        self.parametrisation.observe(self._on_param, names="value")
        self.redraw()

    def _forget_request(self, change: dict) -> None:
        if not self._suspended:
            self.request_note = ""

    def _set_quietly(self, values: list[tuple[W.Widget, float]],
                     widen: bool = True) -> None:
        """Set sliders without redrawing (widening a slider's top end to hold its value
        when ``widen``)."""
        self._suspended += 1
        try:
            for slider, value in values:
                if widen:
                    slider.max = max(slider.max, float(np.ceil(value)))
                slider.value = value
        finally:
            self._suspended -= 1

    def _sync_claims(self) -> None:
        """Set (lambda, alpha, gamma) from (mu, phi, p) where these are valid."""
        try:
            lam, alpha, gamma = F.tweedie_poisson_gamma(self.mu.value, self.phi.value,
                                                        self.p.value)
        except ValueError:
            return
        self._set_quietly([(self.lam, lam), (self.alpha, alpha), (self.gamma, gamma)])

    def _sync_means(self) -> None:
        """Set (mu, phi, p) from (lambda, alpha, gamma) where these are valid."""
        try:
            mu, phi, p = F.tweedie_from_poisson_gamma(self.lam.value, self.alpha.value,
                                                      self.gamma.value)
        except ValueError:
            return
        self._set_quietly([(self.mu, mu), (self.phi, phi)])
        self._set_quietly([(self.p, p)], widen=False)

    def _on_param(self, change: dict) -> None:
        try:
            claims = change["new"] == self.CLAIM_PARAMS
            if claims:
                self._sync_claims()
            else:
                self._sync_means()
            self.claim_box.layout.display = None if claims else "none"
            self.mean_box.layout.display = "none" if claims else None
        except Exception as exc:
            self.show_message(_describe_error(exc))
            return
        self.redraw()

    def values(self) -> tuple[float, float, float]:
        """(mu, phi, p) from the sliders of the active parametrisation (may raise)."""
        if self.parametrisation.value == self.CLAIM_PARAMS:
            return F.tweedie_from_poisson_gamma(self.lam.value, self.alpha.value,
                                                self.gamma.value)
        return float(self.mu.value), float(self.phi.value), float(self.p.value)

    def _draw(self) -> str:
        self.readout.value = ""
        mu, phi, p = self.values()
        lam, alpha, gamma = F.tweedie_poisson_gamma(mu, phi, p)
        ax = self._single_axes()
        P.tweedie_panel(mu, phi, p, ax=ax, n_sample=self.n_sample, seed=self.seed)
        rows = [("μ, φ, p", f"{mu:.4g}, {phi:.4g}, {p:.4g}"),
                ("λ = μ^{2−p} / (φ (2−p))", _fmt(lam)),
                ("α = (2−p) / (p−1)", _fmt(alpha)),
                ("γ = 1 / (φ (p−1) μ^{p−1})", _fmt(gamma)),
                ("P(Y = 0) = e^{−λ}", _fmt(np.exp(-lam), 4)),
                ("E y = λ α / γ", _fmt(lam * alpha / gamma)),
                ("Var y = φ μ^p", _fmt(phi * mu**p))]
        self.readout.value = _html_table(rows, title="Poisson(λ) sum of gamma(α, rate γ)")
        return self.request_note

    def __repr__(self) -> str:
        return "<glmteach TweedieExplorer>"


def tweedie_explorer(*, mu: float = 2.0, phi: float = 1.5, power: float = 1.4,
                     n_sample: int = 4000, seed: int = 0,
                     figsize: tuple[float, float] = EXPLORER_FIGSIZE,
                     dpi: float = DEFAULT_DPI) -> TweedieExplorer | MessageWidget:
    r"""The Tweedie distribution with 1 < p < 2 (section 13.6), ``plotting.tweedie_panel``.

    Sliders ``mu``, ``phi``, ``p``; the ``parameters`` toggle switches to the claims view
    (``lambda``, ``alpha``, ``gamma``): N ~ Poisson(lambda) claims, each gamma with shape
    alpha and rate gamma, related by lambda = mu^{2-p} / (phi (2-p)), alpha = (2-p)/(p-1),
    1/gamma = phi (p-1) mu^{p-1}.  Shows P(Y = 0) = e^{-lambda}, the density on y > 0
    from ``Tweedie.loglike_obs`` and a fixed-seed simulated sample (``Tweedie.sample``).
    Invalid values (p = 1 or 2 at the slider ends, phi = 0, ...) show a message.
    Requested values are never clamped silently: ``mu`` and ``phi`` beyond the sliders'
    ends widen them; a ``power`` outside 1 < p < 2 is drawn at p = 1.4 with a note
    saying so.
    """
    try:
        return TweedieExplorer(mu=mu, phi=phi, power=power, n_sample=n_sample, seed=seed,
                               figsize=figsize, dpi=dpi)
    except Exception as exc:  # widgets never raise into the notebook
        return MessageWidget(f"tweedie_explorer could not be built "
                             f"({type(exc).__name__}: {exc})")


# ======================================================================================
# 5. Generic builder
# ======================================================================================
class Explorer(FigureWidget):
    """``draw(ax, **values)`` with controls (see ``explore``)."""

    def __init__(self, draw: Callable[..., Any], controls: dict[str, Any], *,
                 figsize: tuple[float, float] = (6.5, 4.0), dpi: float = DEFAULT_DPI):
        if not callable(draw):
            raise TypeError(f"draw: must be a function draw(ax, **values), got {draw!r}")
        self.draw_function = draw
        self.controls: dict[str, W.ValueWidget] = {}
        for name, spec in controls.items():
            self.controls[name] = _make_control(name, spec)
        super().__init__(list(self.controls.values()), figsize=figsize, dpi=dpi)
        self._observe_values(list(self.controls.values()))
        self.redraw()

    def values(self) -> dict[str, Any]:
        return {name: c.value for name, c in self.controls.items()}

    def _draw(self) -> str:
        ax = self._single_axes()
        self.draw_function(ax, **self.values())
        return ""

    def __repr__(self) -> str:
        name = getattr(self.draw_function, "__name__", "draw")
        return f"<glmteach Explorer: {name}({', '.join(self.controls)})>"


def _make_control(name: str, spec: Any) -> W.ValueWidget:
    """A control from an ipywidget (used as is; its description is set if empty) or an
    abbreviation as ``ipywidgets.interact`` understands it: (min, max[, step]) -> slider,
    a list -> Dropdown, True/False -> Checkbox, a string -> Text, a number -> slider."""
    if isinstance(spec, W.ValueWidget):
        if not getattr(spec, "description", ""):
            spec.description = name
        return spec
    try:
        widget = W.interactive.widget_from_abbrev(spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name}: cannot make a control from {spec!r} ({exc})") from exc
    if widget is None:
        raise ValueError(f"{name}: cannot make a control from {spec!r}")
    widget.description = name
    if hasattr(widget, "continuous_update"):
        widget.continuous_update = False
    return widget


def explore(draw: Callable[..., Any], *, figsize: tuple[float, float] = (6.5, 4.0),
            dpi: float = DEFAULT_DPI, **controls: Any) -> Explorer:
    r"""Build a safe interactive figure: ``draw(ax, **values)`` draws on a fresh Axes
    every time a control changes.

    ``controls`` are ipywidgets or the abbreviations of ``ipywidgets.interact``:
    ``(min, max)`` or ``(min, max, step)`` make a slider (IntSlider when all are
    integers), a list makes a Dropdown, ``True``/``False`` a Checkbox, a string a Text
    box.  Any exception raised by ``draw`` is shown as a message in the output area,
    never raised.  Example::

        def draw(ax, mu, phi):
            plotting.family_panel("Gamma", mu, phi, ax=ax)
        widgets.explore(draw, mu=(0.5, 10, 0.5), phi=(0.1, 2, 0.1))
    """
    return Explorer(draw, controls, figsize=figsize, dpi=dpi)
