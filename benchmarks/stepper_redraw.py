"""Time redraws of glmteach's IRLS stepper widget (target: < 150 ms per redraw, n <= 10,000).

The measurement runs inside a real IPython kernel (started by nbclient, inline
matplotlib backend), because that is where the widget's callbacks run for a user: a
slider change in the browser reaches the kernel, the widget's observer redraws, and the
new figure is encoded and published. In the kernel this script:

1. fits a GLM (Poisson by default) with ``gt.fit`` on synthetic data (fixed seed) of
   size n x p;
2. builds the stepper from the fitted result with the first of ``glmteach.widgets``'
   ``irls_stepper``, ``stepper``, ``IRLSStepper``, ... (or ``--factory NAME``);
3. finds its slider (the first ``*Slider`` widget in the widget tree), moves it once to
   warm up, then times ``slider.value = k`` for ``--changes`` changes cycling over the
   iterations. Setting a trait runs the widget's observers synchronously, so the time
   covers the callback, the matplotlib draw and the PNG encoding of the inline backend
   (only the browser's paint is left out);
4. checks that every change really redrew, by three signals: full Agg renders
   (``FigureCanvasAgg.draw``), updates of an ``Output`` widget's ``outputs`` (how a
   widget that encodes its own PNG publishes it), and the widget's ``n_draws`` counter
   if it has one. If none fired (e.g. a canvas that only schedules ``draw_idle``), the
   widget's figures are drawn explicitly inside the timed region and the row says
   "forced".

Usage::

    python benchmarks/stepper_redraw.py                  # n = 1,000 and 10,000, p = 5
    python benchmarks/stepper_redraw.py --n 10000 --p 20 --changes 30
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0
CANDIDATES = ("irls_stepper", "stepper", "IRLSStepper", "irls_stepper_widget",
              "make_stepper", "IterationStepper")

KERNEL_CODE = r'''
import json, statistics, sys, time, traceback
sys.path.insert(0, {repo!r})
out = {{"n": {n}, "p": {p}}}
try:
    import numpy as np
    import matplotlib
    from matplotlib.backends import backend_agg
    import ipywidgets
    import glmteach as gt
    from glmteach import widgets as gw

    names = [{factory!r}] if {factory!r} else list({candidates!r})
    names += sorted(a for a in dir(gw) if "stepper" in a.lower() and a not in names)
    factory = next((getattr(gw, a) for a in names if callable(getattr(gw, a, None))), None)
    if factory is None:
        raise LookupError("no stepper factory in glmteach.widgets (looked for %s)" % names)
    out["factory"] = factory.__name__
    out["backend"] = matplotlib.get_backend()

    rng = np.random.default_rng([2024, {n}, {p}])
    X = np.column_stack([np.ones({n}), rng.standard_normal(({n}, {p} - 1))])
    beta = np.r_[0.5, rng.standard_normal({p} - 1) * 0.5 / np.sqrt(max({p} - 1, 1))]
    eta = X @ beta
    family = {family!r}
    if family == "poisson":
        y, fam = rng.poisson(np.exp(eta)).astype(float), gt.Poisson()
    elif family == "gamma":
        y, fam = rng.gamma(2.0, np.exp(eta) / 2.0), gt.Gamma(link=gt.links.Log())
    else:
        y, fam = (rng.random({n}) < 1 / (1 + np.exp(-eta))).astype(float), gt.Binomial()
    res = gt.fit(X, y, family=fam)
    out["family"] = family
    out["n_iter"] = int(res.n_iter)

    renders = [0]
    _draw = backend_agg.FigureCanvasAgg.draw
    def counting_draw(self, *a, **k):
        renders[0] += 1
        return _draw(self, *a, **k)
    backend_agg.FigureCanvasAgg.draw = counting_draw

    t0 = time.perf_counter()
    w = factory(res)
    out["build_ms"] = 1e3 * (time.perf_counter() - t0)

    def walk(obj, seen):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        yield obj
        kids = list(getattr(obj, "children", ()) or ())
        if not isinstance(obj, ipywidgets.Widget):
            kids += [v for v in vars(obj).values() if isinstance(v, ipywidgets.Widget)]
        for k in kids:
            yield from walk(k, seen)

    sliders = [x for x in walk(w, set())
               if isinstance(x, ipywidgets.Widget) and "Slider" in type(x).__name__]
    if not sliders:
        raise LookupError("no *Slider widget found in %r" % type(w).__name__)
    s = sliders[0]
    out["slider"] = "%s(%r)" % (type(s).__name__, getattr(s, "description", ""))
    if hasattr(s, "options") and s.options:
        values = [o[1] if isinstance(o, tuple) else o for o in s.options]
    else:
        step = getattr(s, "step", 1) or 1
        values = list(np.arange(s.min, s.max + step / 2, step))
        values = [type(s.value)(v) for v in values]
    if len(values) < 2:
        raise LookupError("slider has fewer than two positions: %r" % values)
    out["positions"] = len(values)

    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    outputs_changed = [0]
    for o in walk(w, set()):
        if isinstance(o, ipywidgets.Output):
            o.observe(lambda ch: outputs_changed.__setitem__(0, outputs_changed[0] + 1),
                      names="outputs")
    def signals():
        return renders[0], outputs_changed[0], getattr(w, "n_draws", 0) or 0
    def move(v):
        before = signals()
        t = time.perf_counter()
        s.value = v
        forced = False
        after = signals()
        if after == before:   # no sign of a redraw: draw the widget's figures explicitly
            figs = [x for x in vars(w).values() if isinstance(x, Figure)]
            figs += [plt.figure(num) for num in plt.get_fignums()]
            for fig in figs:
                fig.canvas.draw()
            forced = True
        dt = time.perf_counter() - t
        return dt, [a - b for a, b in zip(signals(), before)], forced

    current = values.index(s.value) if s.value in values else 0
    move(values[(current + 1) % len(values)])           # warm-up
    times, counts, forced = [], [], []
    for i in range({changes}):
        current = (values.index(s.value) + 1) % len(values)
        dt, c, f = move(values[current])
        times.append(dt); counts.append(c); forced.append(f)
    out["widget_n_draws"] = getattr(w, "n_draws", None)
    out["widget_message"] = str(getattr(w, "message", ""))[:300]
    out.update(
        median_ms=1e3 * statistics.median(times), max_ms=1e3 * max(times),
        min_ms=1e3 * min(times), changes=len(times),
        renders_per_change=statistics.median(c[0] for c in counts),
        outputs_per_change=statistics.median(c[1] for c in counts),
        n_draws_per_change=statistics.median(c[2] for c in counts),
        forced_draws=sum(forced),
    )
except Exception as exc:
    out["error"] = "%s: %s" % (type(exc).__name__, exc)
    out["traceback"] = traceback.format_exc()[-1500:]
print("RESULT " + json.dumps(out))
'''


def measure(n: int, p: int, changes: int, factory: str, timeout: float, kernel: str,
            repo: Path = REPO, family: str = "poisson") -> dict:
    import nbformat
    from nbclient import NotebookClient

    code = KERNEL_CODE.format(repo=str(repo), n=n, p=p, changes=changes, factory=factory,
                              candidates=CANDIDATES, family=family)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline"),
        nbformat.v4.new_code_cell(code),
    ])
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                            resources={"metadata": {"path": str(REPO)}})
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:
        return {"n": n, "p": p, "error": f"{type(exc).__name__}: {str(exc)[-300:]}"}
    wall = time.perf_counter() - t0
    for output in nb.cells[1].get("outputs", []):
        for line in str(output.get("text", "")).splitlines():
            if line.startswith("RESULT "):
                r = json.loads(line[len("RESULT "):])
                r["kernel_wall_s"] = wall
                return r
    return {"n": n, "p": p, "error": "no RESULT line from the kernel"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="1000,10000", help="comma list of n (<= 10,000 is the target)")
    ap.add_argument("--p", type=int, default=5)
    ap.add_argument("--family", default="poisson", choices=("poisson", "gamma", "binomial"),
                    help="model to fit (gamma uses the log link, so the stepper also "
                         "offers Newton-Raphson)")
    ap.add_argument("--changes", type=int, default=20, help="timed slider changes per n")
    ap.add_argument("--factory", default="", help="name in glmteach.widgets (default: search)")
    ap.add_argument("--timeout", type=float, default=600)
    ap.add_argument("--kernel", default="python3")
    ap.add_argument("--json", default=None)
    ap.add_argument("--readme", action="store_true",
                    help="also put the table into benchmarks/README.md (its own section)")
    ap.add_argument("--repo", default=str(REPO), help="directory holding the glmteach package")
    args = ap.parse_args(argv)

    rows = []
    print(f"family: {args.family}\n")
    lines = [f"| n | p | widget | slider (positions) | build (ms) | redraw median (ms) "
             f"| max (ms) | per change: Agg renders / Output updates / n_draws "
             f"| < {TARGET_MS:.0f} ms |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(lines))
    bad = False
    for n in [int(float(t)) for t in args.n.split(",") if t.strip()]:
        r = measure(n, args.p, args.changes, args.factory, args.timeout, args.kernel,
                    Path(args.repo), args.family)
        rows.append(r)
        if "error" in r:
            bad = True
            lines.append(f"| {n} | {args.p} | error: {r['error']} | | | | | | no |")
            print(lines[-1], flush=True)
            if r.get("traceback"):
                print(r["traceback"], file=sys.stderr)
            continue
        met = r["median_ms"] < TARGET_MS
        bad |= not met
        forced = f" ({r['forced_draws']} forced)" if r["forced_draws"] else ""
        lines.append(
            f"| {n} | {args.p} | {r['factory']} | {r['slider']} ({r['positions']}) "
            f"| {r['build_ms']:.0f} | {r['median_ms']:.0f} | {r['max_ms']:.0f} "
            f"| {r['renders_per_change']:g} / {r['outputs_per_change']:g} / "
            f"{r['n_draws_per_change']:g}{forced} | {'yes' if met else 'no'} |")
        print(lines[-1], flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    if args.readme:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _readme

        when, load = _readme.now(), _readme.load_average()
        _readme.put_section("stepper", "\n".join([
            "## IRLS stepper redraw latency",
            "",
            f"`python benchmarks/stepper_redraw.py {' '.join(argv or sys.argv[1:])}` on "
            f"{when} (load average {load}); {args.family} model, {args.changes} timed slider "
            "changes per n inside a real kernel (inline backend): the time of "
            "`slider.value = k`, i.e. the widget's callback, drawing and PNG encoding, "
            "without the browser's paint. Target: median < 150 ms for n <= 10,000.",
            "",
            *lines,
        ]))
        print(f"updated {_readme.README}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
