"""Figures of weight decay as a prior: each function draws on ``ax`` (or the current Axes) and returns it.

Usable in a notebook as in the report::

    import matplotlib.pyplot as plt
    from bayeswd import plot, ridge_path
    plot.ridge_path(lams, ridge_path(X, y, lams).w)

Importing this module changes no matplotlib state: no backend switch, no rcParams edit.
The report draws inside :func:`style` on figures made by :func:`figure` (which never
touch pyplot) and saves them with :func:`export` as PNG and SVG.

λ is in the canonical convention J(w, b) = Σr²/(2n) + (λ/2)‖w‖²; α is scikit-learn's Lasso
penalty Σr²/(2n) + α‖w‖₁. "MSE" is the mean of r² over rows (and outputs).
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["style", "figure", "export", "loss_curves", "loss_vs_lambda", "lambda_posterior", "evidence_curve",
           "prior_densities", "ridge_path", "lasso_path", "nonzeros_vs_alpha", "mode_vs_mean", "subspace_split",
           "init_law", "predictive_bands", "double_descent", "risk_ratio", "prior_picture"]

# The report's look. Fonts stay legible when a 6.4-inch figure is shown 380 px wide.
REPORT_RC = {"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
             "axes.spines.right": False, "font.size": 11, "axes.titlesize": 11.5, "legend.fontsize": 9.5,
             "xtick.labelsize": 10, "ytick.labelsize": 10, "svg.hashsalt": "bayeswd", "svg.fonttype": "none"}
WIDTH = 6.4  # inches: one column; multi-panel figures stack their panels


def style():
    """A context manager with the report's rcParams; everything is restored on exit.

    Returns
    -------
    contextlib.AbstractContextManager
    """
    import matplotlib

    return matplotlib.rc_context(REPORT_RC)


def figure(rows: int = 1, height: float = 3.6, cols: int = 1, **subplots):
    """A stand-alone Figure (no pyplot, no backend) with ``rows`` stacked Axes, or a rows × cols grid
    (then a flat list, row by row); returns (fig, axes).

    Parameters
    ----------
    rows, cols : int
        The grid.
    height : float
        Inches per row.
    **subplots
        Passed to ``Figure.subplots``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or list of Axes
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH, height * rows), layout="constrained")
    if cols > 1:
        return fig, list(fig.subplots(rows, cols, squeeze=False, **subplots).ravel())
    axes = fig.subplots(rows, 1, squeeze=False, **subplots)[:, 0]
    return fig, (axes[0] if rows == 1 else list(axes))


def export(fig) -> tuple[bytes, bytes]:
    """PNG and SVG bytes with fixed metadata (same figure → same bytes).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.

    Returns
    -------
    png : bytes
    svg : bytes
    """
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    # The PNG's draw placed every axes; the SVG keeps those places instead of laying the figure
    # out again (constrained layout is a third of a save's time).
    engine = fig.get_layout_engine()
    fig.set_layout_engine("none")
    try:
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    finally:
        fig.set_layout_engine(engine)
    return png.getvalue(), svg.getvalue()


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def loss_curves(epochs, curves: dict, ax=None, *, ylabel: str = "MSE", log: bool = True, title: str = ""):
    """Per-epoch curves. ``curves`` maps a label to (values, dict of line options).

    Parameters
    ----------
    epochs : array_like
        The x values.
    curves : dict
        Label → (values, line options).
    ax : Axes, optional
        Where to draw (default a new figure).
    ylabel, title : str
        Labels.
    log : bool
        Log y axis.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    for label, (values, options) in curves.items():
        ax.plot(epochs, values, label=label, **options)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    ax.legend()
    return ax


def loss_vs_lambda(lams, curves: dict, ax=None, *, marks: dict | None = None, ylabel: str = "MSE",
                   title: str = "", zoom: bool = True):
    """Loss against λ on log–log axes; ``marks`` (label → λ) draws vertical lines.

    With ``zoom`` the y axis spans the curves' own range, so flat curves are not a sliver.

    Parameters
    ----------
    lams : array_like
        λ values (canonical J).
    curves : dict
        Label → (values, line options).
    ax : Axes, optional
        Where to draw.
    marks : dict, optional
        Label → λ for vertical lines.
    ylabel, title : str
        Labels.
    zoom : bool
        Fit the y axis to the curves.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    values = []
    for label, (y, options) in curves.items():
        ax.loglog(lams, y, label=label, **options)
        values.append(np.asarray(y, dtype=float))
    styles = [("k", ":"), ("tab:green", "--"), ("tab:purple", "-."), ("tab:brown", ":"), ("tab:red", "--"),
              ("tab:olive", "-.")]
    for (label, value), (color, line) in zip((marks or {}).items(), styles):
        if value is not None and np.isfinite(value) and value > 0:
            ax.axvline(value, color=color, ls=line, lw=1.3, label=f"{label}: λ = {value:.3g}")
    if zoom and values:
        finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values])
        if finite.size:
            lo, hi = finite.min(), finite.max()
            ax.set_ylim(lo / 1.15, hi * 1.15)
    ax.set(xlabel="λ", ylabel=ylabel, title=title)
    ax.legend(fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    return ax


def lambda_posterior(draws, ax=None, *, interval=None, truth=None):
    """Histogram of λ draws on a log axis spanning all of them; the interval and the true λ marked.

    Parameters
    ----------
    draws : array_like
        λ draws (canonical J).
    ax : Axes, optional
        Where to draw.
    interval : tuple of float, optional
        An interval to shade.
    truth : float, optional
        The true λ.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws) & (draws > 0)]
    lo, hi = np.log10(draws.min()), np.log10(draws.max())
    ax.hist(draws, bins=np.logspace(lo - 0.05, hi + 0.05, 60), color="tab:brown", alpha=0.7, label="posterior draws")
    ax.set_xscale("log")
    if interval is not None:
        ax.axvspan(*interval, color="tab:brown", alpha=0.12, label="90% interval")
    if truth is not None and np.isfinite(truth):
        ax.axvline(truth, color="tab:red", ls="--", label=f"Bayes-optimal λ = {truth:.3g}")
    ax.set(xlabel="λ", ylabel="draws", title="Full-Bayes posterior of λ = σ²/(nτ²)")
    ax.legend(fontsize=8.5)
    return ax


def evidence_curve(lams, log_evidence, ax=None, *, best=None, known=None, known_best=None, floor=-30.0):
    """Log marginal likelihood (evidence) relative to its maximum, in nats: σ maximized at each λ, and,
    when ``known`` is given, with σ known (clipped at ``floor`` nats so both shapes stay readable).

    Parameters
    ----------
    lams : array_like
        λ values.
    log_evidence : array_like
        log evidence with σ maximized.
    ax : Axes, optional
        Where to draw.
    best : float, optional
        The best λ to mark.
    known : array_like, optional
        log evidence with σ known.
    known_best : float, optional
        Its best λ.
    floor : float
        The lowest value drawn, in nats below the peak.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    rel = np.asarray(log_evidence, dtype=float) - np.nanmax(log_evidence)
    ax.semilogx(lams, rel, color="tab:purple", label="σ fitted at each λ")
    if known is not None and len(known):
        rel_known = np.asarray(known, dtype=float) - np.nanmax(known)
        ax.semilogx(lams, np.maximum(rel_known, floor), color="tab:green", label="σ known")
        if known_best is not None:
            ax.axvline(known_best, color="tab:green", ls="-.", lw=1, label=f"σ known, maximum: λ = {known_best:.3g}")
        ax.set_ylim(floor - 1, 2)
    ax.axhline(-1, color="gray", ls=":", lw=1, label="1 nat below the maximum")
    if best is not None:
        ax.axvline(best, color="tab:purple", ls="-.", lw=1, label=f"σ fitted, maximum: λ = {best:.3g}")
    ax.set(xlabel="λ", ylabel="log evidence − max (nats)", title="How sharply the evidence picks λ")
    ax.legend(fontsize=8.5)
    return ax


def prior_densities(scale: float, ax=None):
    """Gaussian and Laplace priors with equal variance 2s² (Laplace scale s).

    Parameters
    ----------
    scale : float
        The Laplace scale s.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    grid = np.linspace(-4 * scale, 4 * scale, 401)
    tau = scale * np.sqrt(2)
    ax.plot(grid, np.exp(-grid**2 / (2 * tau**2)) / (tau * np.sqrt(2 * np.pi)), label=f"Gaussian, τ = {tau:.3g}")
    ax.plot(grid, np.exp(-np.abs(grid) / scale) / (2 * scale), label=f"Laplace, s = {scale:.3g}")
    ax.set(xlabel="weight w_j", ylabel="prior density p(w_j)", title="Two priors with equal variance")
    ax.legend()
    return ax


def ridge_path(lams, W, ax=None, *, show: int = 40):
    """The first ``show`` ridge weights against λ: they shrink smoothly, none reaches 0.

    Parameters
    ----------
    lams : array_like, (L,)
        λ values.
    W : array_like, (L, p)
        Weights at each λ.
    ax : Axes, optional
        Where to draw.
    show : int
        Weights drawn.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    W = np.asarray(W)
    ax.semilogx(lams, W[:, :show], lw=0.7)
    ax.set(xlabel="λ", ylabel="w_j", title=f"Ridge path ({min(show, W.shape[1])} of {W.shape[1]} weights)")
    return ax


def lasso_path(alphas, W, ax=None, *, show: int = 40, mark=None):
    """The ``show`` largest lasso weights against α: they hit exactly 0.

    Parameters
    ----------
    alphas : array_like, (L,)
        α values.
    W : array_like, (L, p)
        Weights at each α.
    ax : Axes, optional
        Where to draw.
    show : int
        Weights drawn.
    mark : float, optional
        An α to mark.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    W = np.asarray(W)
    largest = np.argsort(-np.abs(W).max(axis=0))[:show]
    ax.semilogx(alphas, W[:, largest], lw=0.7)
    if mark is not None:
        ax.axvline(mark, color="k", ls=":", lw=1)
    ax.set(xlabel="α", ylabel="w_j", title="Lasso path (the largest weights): exact zeros")
    return ax


def nonzeros_vs_alpha(alphas, counts, ceiling: int, ax=None, *, mark=None, p: int | None = None):
    """Non-zero lasso weights against α, with the n − 1 ceiling a p > n lasso can never exceed.

    Parameters
    ----------
    alphas : array_like
        α values.
    counts : array_like
        Non-zero weights at each.
    ceiling : int
        n − 1.
    ax : Axes, optional
        Where to draw.
    mark : float, optional
        An α to mark.
    p : int, optional
        The feature count, drawn as a reference.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.semilogx(alphas, counts, "o-", ms=3, label="non-zero weights")
    ax.axhline(ceiling, color="tab:red", ls="--", label=f"ceiling: rank of the centred rows = {ceiling}")
    if mark is not None:
        ax.axvline(mark, color="k", ls=":", lw=1, label=f"α of the prior = {mark:.3g}")
    ax.set(xlabel="α", ylabel="non-zero weights",
           title="Lasso support size" + (f" (of p = {p})" if p else ""), ylim=(0, ceiling * 1.25 + 1))
    ax.legend(fontsize=8.5)
    return ax


def mode_vs_mean(mean, mode, ax=None):
    """Posterior mean against the MAP (mode), weights sorted by the mean.

    Parameters
    ----------
    mean : array_like, (p,)
        Posterior mean.
    mode : array_like, (p,)
        MAP.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    order = np.argsort(mean)
    ax.plot(np.asarray(mean)[order], "o", ms=3, label="posterior mean")
    ax.plot(np.asarray(mode)[order], "s", ms=3, label="MAP (mode)")
    ax.set(xlabel="weight (sorted by posterior mean)", ylabel="w_j", title="Laplace prior: mode vs mean")
    ax.legend()
    return ax


def subspace_split(labels, parts: dict, ax=None):
    """Grouped bars (log axis) of each run's error parts; bars side by side, never stacked on a log axis.

    Parameters
    ----------
    labels : sequence of str
        Run labels.
    parts : dict
        Part name → values per run.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    x = np.arange(len(labels))
    width = 0.8 / len(parts)
    for i, (name, values) in enumerate(parts.items()):
        ax.bar(x + (i - (len(parts) - 1) / 2) * width, values, width, label=name)
    ax.set_yscale("log")
    ax.set_xticks(x, labels, rotation=0, fontsize=9)
    ax.set(ylabel="squared error", title="Where each run's error lives")
    ax.legend(fontsize=8.5)
    return ax


def init_law(names, monte_carlo, se, formula, baseline: float, ax=None, *, k: float = 4.0):
    """The init law: Monte Carlo means (± k s.e.) against the formula, with the min-norm baseline.

    Parameters
    ----------
    names : sequence of str
        Start laws.
    monte_carlo, se : array_like
        Monte Carlo means and standard errors.
    formula : array_like
        The exact values.
    baseline : float
        The min-norm risk.
    ax : Axes, optional
        Where to draw.
    k : float
        Error bars span ± k s.e.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    x = np.arange(len(names))
    ax.errorbar(x, monte_carlo, yerr=k * np.asarray(se), fmt="o", label=f"Monte Carlo (± {k:g} s.e.)")
    ax.plot(x, formula, "x", ms=10, color="k", label="formula")
    ax.axhline(baseline, color="tab:green", ls=":", label="zero init (min-norm)")
    ax.set_xticks(x, names, fontsize=9)
    ax.set(yscale="log", ylabel="excess MSE", title="λ = 0 run to convergence: excess MSE by init")
    ax.legend(fontsize=8.5)
    return ax


def predictive_bands(mean, sd, y, ax=None):
    """50% and 90% posterior predictive bands over rows sorted by the predictive mean.

    Parameters
    ----------
    mean, sd : array_like, (m,)
        Predictive mean and sd.
    y : array_like, (m,)
        Held-out targets.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    mean, sd, y = (np.asarray(a, dtype=float) for a in (mean, sd, y))
    order = np.argsort(mean)
    xs = np.arange(len(order))
    for z, alpha, label in ((1.6449, 0.2, "90% band"), (0.6745, 0.35, "50% band")):
        ax.fill_between(xs, mean[order] - z * sd[order], mean[order] + z * sd[order], color="tab:blue",
                        alpha=alpha, label=label)
    ax.plot(xs, mean[order], color="tab:blue", lw=1, label="predictive mean")
    ax.plot(xs, y[order], ".", color="k", ms=4, label="observed y")
    ax.set(xlabel="row (sorted by predictive mean)", ylabel="y", title="Posterior predictive bands")
    ax.legend(fontsize=8.5, ncol=2)
    return ax


def double_descent(grid, curves: dict, points: dict, ax=None, *, mark=None):
    """Asymptotic risk curves against γ = p/n with Monte Carlo points (value, s.e.) at chosen γ.

    Parameters
    ----------
    grid : array_like
        γ values.
    curves : dict
        Label → risk values on ``grid``.
    points : dict
        Label → (γ, value, s.e.) arrays.
    ax : Axes, optional
        Where to draw.
    mark : float, optional
        A γ to mark.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    for (label, values), color in zip(curves.items(), ("tab:red", "tab:blue")):
        ax.loglog(grid, values, color=color, label=label)
    for (label, (gammas, values, se)), (color, marker) in zip(points.items(), (("tab:red", "o"), ("tab:blue", "s"))):
        ax.errorbar(gammas, values, yerr=2 * np.asarray(se), fmt=marker, color=color, label=label)
    if mark is not None:
        ax.axvline(mark, color="k", ls=":", lw=1)
    ax.set(xlabel="γ = p/n", ylabel="excess MSE", title="Double descent")
    ax.legend(fontsize=8.5)
    return ax


def risk_ratio(times, ratio, bound: float, ax=None):
    """Gradient flow's risk at time t over ridge's at λ = 1/t, with the universal bound.

    Parameters
    ----------
    times : array_like
        t values.
    ratio : array_like
        The ratios.
    bound : float
        The universal bound.
    ax : Axes, optional
        Where to draw.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    ax.semilogx(times, ratio, label="gradient flow at t / ridge at λ = 1/t")
    ax.axhline(bound, color="k", ls=":", label=f"bound {bound:.4f}")
    ax.axhline(1, color="gray", lw=0.5)
    ax.set(xlabel="t (gradient-flow time)", ylabel="risk ratio", title="Early stopping vs ridge")
    ax.legend(fontsize=8.5)
    return ax


def prior_picture(grid, data_term, prior_term, least_squares, mode, path, ax=None, *, kind: str = "gaussian",
                  path_label: str = "MAP path"):
    """The 2-D picture of a prior as a penalty, on ``grid`` = (w₁ values, w₂ values) of equal spans, or one
    1-D grid used on both axes.

    ``data_term`` and ``prior_term`` are the two parts of J on the grid (likelihood and prior
    −log densities in units of n/σ²); their sum is the posterior's. Draws likelihood contours
    (solid), prior contours (dotted: circles for ``kind="gaussian"``, diamonds for ``"laplace"``),
    posterior contours (dashed), the least-squares point, the MAP and the MAP ``path`` (k×2).

    Parameters
    ----------
    grid : tuple of array_like or array_like
        (w₁ values, w₂ values), or one grid for both.
    data_term, prior_term : array_like, (len(w₂), len(w₁))
        The two parts of J.
    least_squares, mode : array_like, (2,)
        Points to mark.
    path : array_like, (k, 2)
        The MAP path.
    ax : Axes, optional
        Where to draw.
    kind : {"gaussian", "laplace"}
        The prior's contour shape.
    path_label : str
        The path's legend label.

    Returns
    -------
    Axes
    """
    ax = _axes(ax)
    grid = grid if isinstance(grid, tuple) else (grid, grid)   # one 1-D grid: the same on both axes
    xs, ys = grid
    post = data_term + prior_term
    # The contours through the MAP touch there: that tangency is the picture's point, so draw them bolder.
    data_gap = max(_value_at(grid, data_term, mode) - data_term.min(), 1e-12)
    ax.contour(xs, ys, data_term, levels=data_term.min() + data_gap * np.array([0.3, 2.5]), colors="#1f77b4",
               linewidths=0.8)
    ax.contour(xs, ys, data_term, levels=[data_term.min() + data_gap], colors="#1f77b4", linewidths=1.8)
    prior_at_mode = max(_value_at(grid, prior_term, mode), 1e-12)
    ax.contour(xs, ys, prior_term, levels=prior_at_mode * np.array([0.5, 1.5]), colors="#d62728",
               linewidths=0.8, linestyles=":")
    ax.contour(xs, ys, prior_term, levels=[prior_at_mode], colors="#d62728", linewidths=1.8, linestyles=":")
    ax.contour(xs, ys, post, levels=post.min() + data_gap * np.array([0.4, 1.5]), colors="#2ca02c",
               linewidths=1.0, linestyles="--")
    ax.plot(path[:, 0], path[:, 1], color="0.25", lw=1.6, label=path_label)
    ax.plot(*least_squares, "x", color="#1f77b4", ms=9, mew=2, label="least squares")
    ax.plot(*mode, "o", color="black", ms=6, label="MAP")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(0, color="0.5", lw=0.8)
    ax.set_aspect("equal")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_title("Gaussian prior: L2 (circles)" if kind == "gaussian" else "Laplace prior: L1 (diamonds)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8.5, frameon=False)   # off the circles
    return ax


def _value_at(grid, surface, point) -> float:
    """The grid value nearest to ``point`` (for choosing a contour level through it)."""
    xs, ys = grid
    i = int(np.abs(ys - point[1]).argmin())
    j = int(np.abs(xs - point[0]).argmin())
    return float(surface[i, j])
