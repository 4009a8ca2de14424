r"""Pre-rendered frames of the IRLS stepper, for pages that have no Python behind them.

A static page (the HTML book of the chapters, a notebook viewer) cannot redraw a
widget: every redraw of ``widgets.irls_stepper`` runs Python.  The stepper only ever
*shows* a stored ``results.history`` (iteration 0 .. K of one or two methods), so the
set of figures it can draw is finite and small.  This module draws each of them once,
when the notebook is executed, and ships them with the widget's display output:

    stepper = attach_static_frames(IRLSStepper(res))   # what irls_stepper() returns
    stepper._repr_mimebundle_()
    # {'text/plain': '<glmteach IRLSStepper ...>',
    #  'application/vnd.jupyter.widget-view+json': {...},   # the live widget
    #  'text/html': '<div class="glmteach-static-stepper">...'}  # the frames

Front ends pick one representation per output:

- JupyterLab (and VS Code, nbclassic) render the widget-view entry, which outranks
  ``text/html``: the live widget is unchanged.
- The stored notebook keeps no widget state (``tools/run_notebooks.py`` drops the
  widget-view entry, whose model ids are random), so the book renders ``text/html``:
  one ``<img>`` + iteration table per (method, iteration), an ``<input type=range>``,
  a Play button and, for two methods, a method switch, tied together by a few lines of
  inline JavaScript that show one frame and hide the others.  No kernel, no network,
  no widget library.

The frames are drawn by the stepper itself (its slider is moved through every
iteration, and the method switch through every method, then put back), so a frame is
exactly what the live widget draws for that iteration.  The output must be a function
of the code alone (the committed notebooks are compared byte for byte after a fresh
run): PNGs are re-encoded losslessly as 256-colour palettes by a deterministic
quantiser, ids are digests of the content, and base64 text never contains a run that
the output sanitiser would rewrite (``0x`` + hex digits looks like a memory address;
the ``x`` is written as the character reference ``&#120;``, which the HTML parser turns
back into ``x`` before the browser decodes the data URL).  The base64 is cut into lines
of 76 characters, which browsers remove from a URL, so that no regular expression of
the sanitiser scans one long run (that took minutes per stepper).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "stepper_frames", "static_stepper_html", "attach_static_frames"]

#: CSS class of the outer ``<div>`` (tests and the book look for it).
STATIC_CLASS = "glmteach-static-stepper"


@dataclass(frozen=True)
class Frame:
    """One pre-rendered state of the stepper: the PNG (or None when the stepper showed
    only a message), the message / note under the figure, and the HTML of the
    iteration table (panel (d))."""

    method: str
    iteration: int
    png: bytes | None
    note: str
    table_html: str


def _compact_png(png: bytes) -> bytes:
    """Re-encode a matplotlib PNG as an 8-bit palette PNG (median-cut quantiser, no
    dithering: deterministic, and about a third of the size of the RGBA original for
    line plots)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    quantised = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                             dither=Image.Dither.NONE)
    buf = io.BytesIO()
    quantised.save(buf, format="png", compress_level=6)  # 9 is 7 % smaller, 10x slower
    return buf.getvalue()


def _current_frame(stepper, method: str, iteration: int) -> Frame:
    png, notes = None, []
    for item in stepper.output.outputs:
        data = item.get("data", {})
        if "image/png" in data and png is None:
            png = _compact_png(base64.b64decode(data["image/png"]))
        elif "text/plain" in data:
            notes.append(str(data["text/plain"]))
    return Frame(method=method, iteration=iteration, png=png, note="\n".join(notes),
                 table_html=str(stepper.readout.value))


def stepper_frames(stepper) -> list[Frame]:
    """Every frame ``stepper`` (an ``IRLSStepper``) can show: for each method with a fit
    (Fisher scoring and, for a non-canonical link or ``compare=``, Newton-Raphson), the
    figure and table at iteration 0 .. K of that method's history.

    The stepper's own controls are moved through the frames, so its drawing code makes
    them, and then put back to the method and iteration shown before (``n_draws``
    counts these renders too)."""
    if not hasattr(stepper, "fits") or not hasattr(stepper, "slider"):
        raise ValueError("stepper must be a glmteach IRLSStepper (it needs .fits and .slider)")
    start_method, start_k = stepper.current, int(stepper.slider.value)
    frames: list[Frame] = []
    methods = list(stepper.fits)
    switch = stepper.method
    try:
        for method in methods:
            if method != stepper.current:
                switch.value = method  # redraws the static layer and the frame
            for k in range(stepper.results.n_iter + 1):
                if int(stepper.slider.value) != k:
                    stepper.slider.value = k  # observed: redraws
                else:
                    stepper.redraw()
                frames.append(_current_frame(stepper, method, k))
    finally:
        if switch is not None and stepper.current != start_method:
            switch.value = start_method
        if int(stepper.slider.value) != start_k:
            stepper.slider.value = start_k
    return frames


def _data_url(png: bytes) -> str:
    """``data:`` URL of ``png`` for an HTML attribute: base64 in lines of 76 characters
    (browsers drop newlines from URLs; and the sanitiser's patterns, which start with a
    ``[^\\s...]*`` run, would take quadratic time on one unbroken 50 kB run), with every
    ``0x`` written as ``0&#120;`` (see the module docstring)."""
    encoded = base64.encodebytes(png).decode("ascii")  # 76 characters a line
    return ("data:image/png;base64,\n" + encoded.rstrip("\n")).replace("0x", "0&#120;")


_SCRIPT = """<script>
(function (root) {
  if (!root || root.dataset.ready) { return; }
  root.dataset.ready = "1";
  var slider = root.querySelector(".gt-slider");
  var value = root.querySelector(".gt-value");
  var play = root.querySelector(".gt-play");
  var radios = root.querySelectorAll(".gt-method input");
  var frames = root.querySelectorAll(".gt-frame");
  var maxima = JSON.parse(root.dataset.maxima);
  var interval = parseInt(root.dataset.interval, 10);
  var timer = null;
  function method() {
    for (var i = 0; i < radios.length; i++) { if (radios[i].checked) { return radios[i].value; } }
    return "0";
  }
  function show() {
    var m = method(), k = slider.value;
    for (var i = 0; i < frames.length; i++) {
      var on = frames[i].dataset.m === m && frames[i].dataset.k === k;
      frames[i].hidden = !on;
      frames[i].style.display = on ? "" : "none";
    }
    value.textContent = k + " of " + slider.max;
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.textContent = "\\u25B6 Play";
    play.setAttribute("aria-pressed", "false");
  }
  function tick() {
    if (+slider.value >= +slider.max) { stop(); return; }
    slider.value = +slider.value + 1;
    show();
    if (+slider.value >= +slider.max) { stop(); }
  }
  play.addEventListener("click", function () {
    if (timer !== null) { stop(); return; }
    if (+slider.value >= +slider.max) { slider.value = 0; show(); }
    play.textContent = "\\u275A\\u275A Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(tick, interval);
  });
  slider.addEventListener("input", function () { stop(); show(); });
  slider.addEventListener("change", show);
  for (var i = 0; i < radios.length; i++) {
    radios[i].addEventListener("change", function () {
      stop();
      slider.max = maxima[method()];
      if (+slider.value > +slider.max) { slider.value = slider.max; }
      show();
    });
  }
  root.querySelector(".gt-controls").hidden = false;
  root.querySelector(".gt-controls").style.display = "";
  show();
})(document.currentScript && document.currentScript.parentNode);
</script>"""


def static_stepper_html(stepper, frames: list[Frame] | None = None) -> str:
    """The self-contained HTML of the stepper's frames (see the module docstring).

    Without JavaScript (a sanitising viewer) only the frame the live widget shows first
    is visible, with a line that says so; the controls appear when the script runs."""
    frames = stepper_frames(stepper) if frames is None else frames
    if not frames:
        raise ValueError("frames must hold at least one Frame")
    methods = list(dict.fromkeys(f.method for f in frames))
    maxima = {str(i): max(f.iteration for f in frames if f.method == m)
              for i, m in enumerate(methods)}
    first_method = stepper.current if stepper.current in methods else methods[0]
    first_index = methods.index(first_method)
    first_k = min(int(stepper.slider.value), maxima[str(first_index)])
    interval = int(getattr(stepper.play, "interval", 900))

    digest = hashlib.sha1(b"".join(
        f"{f.method}|{f.iteration}|{f.note}|{f.table_html}|".encode() + (f.png or b"")
        for f in frames)).hexdigest()[:12]
    parts: list[str] = []
    for f in frames:
        m = methods.index(f.method)
        shown = m == first_index and f.iteration == first_k
        hide = "" if shown else " hidden style='display:none'"
        title = f"IRLS iteration {f.iteration} of {maxima[str(m)]} ({f.method})"
        body = []
        if f.png is not None:
            body.append(f"<img src='{_data_url(f.png)}' alt='{html.escape(title)}' "
                        "style='max-width:100%;height:auto;display:block'>")
        if f.note:
            body.append("<pre style='white-space:pre-wrap;color:#555;margin:2px'>"
                        f"{html.escape(f.note)}</pre>")
        body.append(f"<div class='gt-table'>{f.table_html}</div>")
        parts.append(f"<div class='gt-frame' data-m='{m}' data-k='{f.iteration}'{hide}>"
                     + "".join(body) + "</div>")

    radios = ""
    if len(methods) > 1:
        name = f"gt-method-{digest}"
        radios = "<span class='gt-method' style='margin-left:1em'>method: " + "".join(
            f"<label style='margin-right:0.6em'><input type='radio' name='{name}' "
            f"value='{i}'{' checked' if i == first_index else ''}> {html.escape(m)}</label>"
            for i, m in enumerate(methods)) + "</span>"
    controls = (
        "<div class='gt-controls' hidden style='display:none;margin:4px 0;"
        "align-items:center'>"
        "<button type='button' class='gt-play' aria-pressed='false' "
        "style='margin-right:0.8em'>&#9654; Play</button>"
        "<label>iteration <input type='range' class='gt-slider' min='0' "
        f"max='{maxima[str(first_index)]}' step='1' value='{first_k}' "
        "style='vertical-align:middle'></label> "
        f"<span class='gt-value' style='font-family:monospace'>{first_k}</span>"
        f"{radios}</div>"
    )
    note = ("<p class='gt-static-note' style='color:#555;font-size:90%;margin:2px 0'>"
            "Pre-rendered frames of the IRLS stepper: drag the slider or press Play to "
            "step through the stored iterations. Run the notebook in JupyterLab for the "
            "live widget.</p>")
    body = controls + "".join(parts) + note
    maxima_json = html.escape(json.dumps(maxima, sort_keys=True), quote=True)
    return (f"<div class='{STATIC_CLASS}' id='gt-stepper-{digest}' "
            f"data-maxima='{maxima_json}' data-interval='{interval}'>"
            f"{body}{_SCRIPT}</div>")


def attach_static_frames(stepper):
    """Make ``stepper``'s display output carry its pre-rendered frames as ``text/html``
    next to the live widget view (see the module docstring); returns ``stepper``.

    The frames are drawn when the stepper is displayed, not when it is built.  If they
    cannot be drawn, the output is the plain widget bundle (a widget never raises into
    the notebook)."""
    original = stepper._repr_mimebundle_

    def _repr_mimebundle_(**kwargs: Any):
        bundle = original(**kwargs)
        if not isinstance(bundle, dict):
            return bundle
        try:
            static = static_stepper_html(stepper)
        except Exception:  # the live widget still shows; only the static copy is missing
            return bundle
        return {**bundle, "text/html": static}

    stepper._repr_mimebundle_ = _repr_mimebundle_
    return stepper
