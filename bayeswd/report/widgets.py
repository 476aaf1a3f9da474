"""Interactive blocks for the self-contained HTML report: plain JavaScript, no server, no network.

``ridge_slider`` embeds the SVD of the centred training design and recomputes, in the
browser, what ridge at λ gives (objective J = Σr²/(2n) + (λ/2)‖w‖², the Gaussian prior
N(0, τ²) with λ = σ²/(nτ²)): the validation MSE, ‖w‖, the degrees of freedom, the
posterior sd of a few predictions, and the expected validation MSE that the init's
null-space part leaves after a d2l GD run. Arrays travel as base64 float64, so the page
computes from exactly the numbers Python used.
"""

from __future__ import annotations

import base64
import json
import math

import numpy as np

__all__ = ["ridge_slider", "sampler_control", "prior_picture"]

LAM_RANGE = (-4.0, 3.0)       # log10 λ on the slider
INIT_RANGE = (-3.0, 1.0)      # log10 init sd

_ARRAYS = ("d", "z", "A", "yv", "row_sq")

# Every name in the script is the payload's; the formulas are the ones the docstring lists.
_SCRIPT = r"""
(function () {
  var root = document.getElementById("ridge-slider");
  var raw = JSON.parse(document.getElementById("ridge-slider-data").textContent);
  function f64(b64) {
    var bytes = Uint8Array.from(atob(b64), function (ch) { return ch.charCodeAt(0); });
    return new Float64Array(bytes.buffer);
  }
  var P = raw, d = f64(raw.d), z = f64(raw.z), A = f64(raw.A), yv = f64(raw.yv), rowSq = f64(raw.row_sq);
  var r = P.rank, n = P.n, nv = P.n_val, s2 = P.noise_sd * P.noise_sd;
  // E ||X_val (I - P) w0||^2 / n_val per unit init variance, P onto the span of the raw training rows
  // (with a trained bias that span, not the centred one, is what SGD cannot leave).
  var nullShare = P.val_null_sq / nv;

  function coefficients(lam) {
    var c = new Float64Array(r);
    for (var i = 0; i < r; i++) { c[i] = d[i] * z[i] / (d[i] * d[i] + n * lam); }
    return c;
  }
  function valMse(lam) {
    var c = coefficients(lam), sse = 0;
    for (var k = 0; k < nv; k++) {
      var pred = 0;
      for (var i = 0; i < r; i++) { pred += A[k * r + i] * c[i]; }
      var e = yv[k] - pred;
      sse += e * e;
    }
    return sse / nv;
  }
  function compute(lam, initSd) {
    var c = coefficients(lam), wSq = 0, dof = 1;
    for (var i = 0; i < r; i++) { wSq += c[i] * c[i]; dof += d[i] * d[i] / (d[i] * d[i] + n * lam); }
    var tauSq = s2 / (n * lam), sds = [];
    for (var j = 0; j < P.rows.length; j++) {
      var k = P.rows[j], along = 0, projSq = 0;
      for (var i2 = 0; i2 < r; i2++) {
        var a = A[k * r + i2];
        along += a * a / (1 / tauSq + d[i2] * d[i2] / s2);
        projSq += a * a;
      }
      sds.push(Math.sqrt(along + tauSq * (rowSq[j] - projSq) + s2 / n));
    }
    var factor = Math.pow(1 - P.lr * lam, P.steps);
    return {val_mse: valMse(lam), w_norm: Math.sqrt(wSq), dof: dof, pred_sd: sds,
            init_part: initSd * initSd * factor * factor * nullShare};
  }
  function show(id, value) {
    var el = document.getElementById(id);
    el.setAttribute("data-value", String(value));
    el.textContent = Number(value).toPrecision(4);
  }
  // The loss curve once, in SVG user units: x = log10 λ, y = validation MSE.
  var W = 320, H = 150, pad = 34, grid = [], lo = Infinity, hi = -Infinity;
  for (var g = 0; g <= 140; g++) {
    var lx = P.lam_lo + (P.lam_hi - P.lam_lo) * g / 140, v = valMse(Math.pow(10, lx));
    grid.push([lx, v]); lo = Math.min(lo, v); hi = Math.max(hi, v);
  }
  function sx(lx) { return pad + (W - pad - 6) * (lx - P.lam_lo) / (P.lam_hi - P.lam_lo); }
  function sy(v) { return H - pad + 10 - (H - pad) * (v - lo) / ((hi - lo) || 1); }
  var pts = grid.map(function (q) { return sx(q[0]).toFixed(2) + "," + sy(q[1]).toFixed(2); }).join(" ");
  document.getElementById("ridge-slider-curve").setAttribute("points", pts);
  document.getElementById("ridge-slider-lo").textContent = lo.toPrecision(3);
  document.getElementById("ridge-slider-hi").textContent = hi.toPrecision(3);

  var lamInput = document.getElementById("slider-lam"), initInput = document.getElementById("slider-init");
  function update() {
    var lx = Number(lamInput.value), lam = Math.pow(10, lx), initSd = Math.pow(10, Number(initInput.value));
    var out = compute(lam, initSd);
    show("slider-lam-value", lam);
    show("slider-init-value", initSd);
    show("out-val_mse", out.val_mse);
    show("out-w_norm", out.w_norm);
    show("out-dof", out.dof);
    if (lam <= P.stable_below) {
      show("out-init_part", out.init_part);
    } else {   // a diverged run has no number to show
      var part = document.getElementById("out-init_part");
      part.setAttribute("data-value", "NaN");
      part.textContent = "— diverges past λ ≈ " + P.stable_below.toPrecision(3);
    }
    for (var j = 0; j < out.pred_sd.length; j++) { show("out-pred_sd-" + j, out.pred_sd[j]); }
    var mark = document.getElementById("ridge-slider-mark");
    mark.setAttribute("cx", sx(lx).toFixed(2));
    mark.setAttribute("cy", sy(out.val_mse).toFixed(2));
  }
  lamInput.addEventListener("input", update);
  initInput.addEventListener("input", update);
  update();
  root.setAttribute("data-ready", "1");
})();
"""


def _b64(values) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode()


def ridge_slider(payload: dict, lam: float, init_sd: float) -> str:
    """The slider block: controls, outputs, a small SVG loss curve and the script."""
    data = {k: v for k, v in payload.items() if k not in _ARRAYS}
    data.update({k: _b64(np.asarray(payload[k], dtype=float).ravel()) for k in _ARRAYS})
    data.update(lam_lo=LAM_RANGE[0], lam_hi=LAM_RANGE[1])
    start_lam = min(max(math.log10(lam), LAM_RANGE[0]), LAM_RANGE[1])
    start_init = min(max(math.log10(init_sd), INIT_RANGE[0]), INIT_RANGE[1])
    rows = "".join(f'<tr><td>posterior sd of validation row {k + 1}\'s prediction</td>'
                   f'<td><output id="out-pred_sd-{j}"></output></td></tr>' for j, k in enumerate(payload["rows"]))
    blob = json.dumps(data)
    if "</" in blob:   # cannot happen (numbers and base64 only), but would close the script element
        raise ValueError("slider payload must not contain '</'")
    return f"""<div class="slider" id="ridge-slider">
<p><strong>Try it.</strong> Move λ and the init sd; every number below is recomputed in this page.</p>
<label>λ (log scale) <input type="range" id="slider-lam" min="{LAM_RANGE[0]}" max="{LAM_RANGE[1]}" step="any" value="{start_lam!r}"> <output id="slider-lam-value"></output></label>
<label>init sd (log scale) <input type="range" id="slider-init" min="{INIT_RANGE[0]}" max="{INIT_RANGE[1]}" step="any" value="{start_init!r}"> <output id="slider-init-value"></output></label>
<div class="tablewrap"><table>
<tr><td>ridge validation MSE</td><td><output id="out-val_mse"></output></td></tr>
<tr><td>‖w‖ of the ridge solution</td><td><output id="out-w_norm"></output></td></tr>
<tr><td>degrees of freedom (intercept included)</td><td><output id="out-dof"></output></td></tr>
{rows}
<tr><td>validation MSE the init's null-space part adds after d2l's {payload['steps']} SGD steps (the run diverges past λ ≈ {payload['stable_below']:.3g})</td><td><output id="out-init_part"></output></td></tr>
</table></div>
<svg viewBox="0 0 320 150" role="img" aria-label="ridge validation MSE against log10 λ" class="slider-plot">
<polyline id="ridge-slider-curve" fill="none" stroke="#2f6fde" stroke-width="1.6" points=""/>
<circle id="ridge-slider-mark" r="4" fill="#d62728" cx="0" cy="0"/>
<line x1="34" y1="126" x2="314" y2="126" stroke="#999"/>
<text x="34" y="144" font-size="10">λ = 1e{LAM_RANGE[0]:g}</text><text x="262" y="144" font-size="10">λ = 1e{LAM_RANGE[1]:g}</text>
<text x="120" y="12" font-size="10">ridge validation MSE against λ</text><text x="2" y="12" font-size="10" id="ridge-slider-hi"></text><text x="2" y="122" font-size="10" id="ridge-slider-lo"></text>
</svg>
<script type="application/json" id="ridge-slider-data">{blob}</script>
<script>{_SCRIPT}</script>
</div>"""


# The sampler control: converged full-batch GD per direction of the centred design (bayeswd.ensembles):
# hⱼ = dⱼ²/n + λ, Fⱼ = a·λ/hⱼ (a = 1 with decay toward the start), Gⱼ = dⱼ/(n·hⱼ); row variance
# (Fⱼ·s)² + (Gⱼ·σ)²·[noise], posterior variance 1/(dⱼ²/σ² + 1/τ²); the null space keeps a·s (λ > 0) or s (λ = 0).
_SAMPLER_SCRIPT = r"""
(function () {
  var root = document.getElementById("sampler-control");
  var P = JSON.parse(document.getElementById("sampler-control-data").textContent);
  var d = P.d, n = P.n, s2 = P.sigma * P.sigma, tau = P.tau, r = d.length;
  function compute(decay, noise, initSd) {
    var lam = decay === "none" ? 0 : s2 / (n * tau * tau), a = decay === "start" ? 1 : 0;
    var rowSum = 0, postSum = 0, ratios = [];
    for (var j = 0; j < r; j++) {
      var h = d[j] * d[j] / n + lam, F = a * lam / h, G = d[j] / (n * h);
      var v = F * F * initSd * initSd + (noise ? G * G * s2 : 0), post = 1 / (d[j] * d[j] / s2 + 1 / (tau * tau));
      rowSum += v; postSum += post; ratios.push(Math.sqrt(v / post));
    }
    var nullSd = decay === "none" ? initSd : a * initSd;
    return {row_total_ratio: Math.sqrt(rowSum / postSum), null_ratio: nullSd / tau, row_ratio: ratios};
  }
  function show(id, value) {
    var el = document.getElementById(id);
    el.setAttribute("data-value", String(value));
    el.textContent = Number(value).toPrecision(4);
  }
  var decayIn = document.getElementById("sampler-decay"), noiseIn = document.getElementById("sampler-noise");
  var initIn = document.getElementById("sampler-init");
  var W = 320, H = 120, pad = 30;
  function update() {
    var initSd = Math.pow(10, Number(initIn.value)), out = compute(decayIn.value, noiseIn.checked, initSd);
    show("sampler-init-value", initSd);
    show("sampler-row", out.row_total_ratio);
    show("sampler-null", out.null_ratio);
    var exact = Math.abs(out.row_total_ratio - 1) < 1e-9 && Math.abs(out.null_ratio - 1) < 1e-9;
    var verdict = document.getElementById("sampler-verdict");
    verdict.textContent = exact ? "the posterior, exactly" : "not the posterior";
    verdict.setAttribute("data-value", exact ? "1" : "0");
    var top = Math.max(2, out.null_ratio, Math.max.apply(null, out.row_ratio));
    var pts = out.row_ratio.concat([out.null_ratio]).map(function (v, j) {
      var x = pad + (W - pad - 10) * j / r, y = H - 20 - (H - 30) * v / top;
      return x.toFixed(2) + "," + y.toFixed(2);
    }).join(" ");
    document.getElementById("sampler-curve").setAttribute("points", pts);
    var one = H - 20 - (H - 30) / top;
    var line = document.getElementById("sampler-one");
    line.setAttribute("y1", one.toFixed(2)); line.setAttribute("y2", one.toFixed(2));
  }
  [decayIn, noiseIn, initIn].forEach(function (el) { el.addEventListener("input", update); el.addEventListener("change", update); });
  update();
  root.setAttribute("data-ready", "1");
})();
"""

SAMPLER_INIT_RANGE = 2.0     # the starts' sd slider spans τ·10^±2


def sampler_control(payload: dict) -> str:
    """The sampler control: decay (none, toward 0, toward the start), target noise, the starts' sd."""
    blob = json.dumps(payload)
    if "</" in blob:
        raise ValueError("control payload must not contain '</'")
    lt = math.log10(payload["tau"])
    return f"""<div class="slider" id="sampler-control">
<p><strong>Try it.</strong> Choose how the runs are made; the spreads of the converged ensemble are recomputed in this page.</p>
<label>decay <select id="sampler-decay"><option value="none">none (λ = 0)</option><option value="zero">toward 0</option><option value="start" selected>toward the start</option></select></label>
<label><input type="checkbox" id="sampler-noise" checked> noise added to the targets</label>
<label>starts' sd (log scale; the prior's is {payload['tau']:g}) <input type="range" id="sampler-init" min="{lt - SAMPLER_INIT_RANGE!r}" max="{lt + SAMPLER_INIT_RANGE!r}" step="any" value="{lt!r}"> <output id="sampler-init-value"></output></label>
<div class="tablewrap"><table>
<tr><td>row-space spread / posterior's</td><td><output id="sampler-row"></output></td></tr>
<tr><td>null-space spread / posterior's</td><td><output id="sampler-null"></output></td></tr>
<tr><td>the ensemble is</td><td><output id="sampler-verdict"></output></td></tr>
</table></div>
<svg viewBox="0 0 320 120" role="img" aria-label="ensemble sd over posterior sd per direction" class="slider-plot">
<polyline id="sampler-curve" fill="none" stroke="#2ca02c" stroke-width="1.6" points=""/>
<line id="sampler-one" x1="30" x2="310" y1="0" y2="0" stroke="#555" stroke-dasharray="3,3"/>
<text x="30" y="116" font-size="10">per direction (null space at the right); dashed: posterior</text>
</svg>
<script type="application/json" id="sampler-control-data">{blob}</script>
<script>{_SAMPLER_SCRIPT}</script>
</div>"""


# The 2-D picture: J(w) = ½wᵀGw − cᵀw + (λ/2)‖w‖² + α‖w‖₁ without an intercept (G = XᵀX/n, c = Xᵀy/n),
# λ = σ²/(nτ²) for the Gaussian panel, α = σ²/(ns) for the Laplace one. The MAP is exact in both
# (a 2×2 solve; the lasso's KKT conditions checked on every sign pattern and support), and every
# contour is a level set of a convex function, traced along rays from its minimizer by bisection.
PICTURE_TAU_RANGE = 2.0       # decades either side of the starting τ and s
_PICTURE_SCRIPT = r"""
(function () {
  var T = JSON.parse(document.getElementById("prior-picture-data").textContent);
  var G = T.gram, c = T.xty, n = T.n, s2 = T.noise_sd * T.noise_sd;
  function quad(w) { return 0.5 * (G[0][0] * w[0] * w[0] + 2 * G[0][1] * w[0] * w[1] + G[1][1] * w[1] * w[1]) - c[0] * w[0] - c[1] * w[1]; }
  function objective(w, lam, alpha) {
    return quad(w) + 0.5 * lam * (w[0] * w[0] + w[1] * w[1]) + alpha * (Math.abs(w[0]) + Math.abs(w[1]));
  }
  function solve(a, b, d, r0, r1) { var det = a * d - b * b; return [(d * r0 - b * r1) / det, (a * r1 - b * r0) / det]; }
  function ridgeMap(lam) { return solve(G[0][0] + lam, G[0][1], G[1][1] + lam, c[0], c[1]); }
  function sgn(v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }
  function lassoMap(alpha) {
    var cands = [[0, 0]], s, w, j, k, z;
    for (var a = -1; a <= 1; a += 2) {
      for (var b = -1; b <= 1; b += 2) {
        w = solve(G[0][0], G[0][1], G[1][1], c[0] - alpha * a, c[1] - alpha * b);
        if (sgn(w[0]) === a && sgn(w[1]) === b) { cands.push(w); }
      }
    }
    for (j = 0; j < 2; j++) {
      k = 1 - j;
      z = Math.sign(c[j]) * Math.max(Math.abs(c[j]) - alpha, 0) / G[j][j];
      if (z !== 0 && Math.abs(c[k] - G[k][j] * z) <= alpha) { w = [0, 0]; w[j] = z; cands.push(w); }
    }
    var best = cands[0];
    cands.forEach(function (v) { if (objective(v, 0, alpha) < objective(best, 0, alpha)) { best = v; } });
    return best;
  }
  // Where the ray from the minimizer `centre` of a convex f, at angle th, crosses f = f(centre) + level.
  function rayPoint(f, centre, level, th) {
    var base = f(centre), u = [Math.cos(th), Math.sin(th)], lo = 0, hi = 1e-3;
    while (f([centre[0] + hi * u[0], centre[1] + hi * u[1]]) - base < level && hi < 1e6) { hi *= 2; }
    for (var it = 0; it < 60; it++) {
      var mid = 0.5 * (lo + hi);
      if (f([centre[0] + mid * u[0], centre[1] + mid * u[1]]) - base < level) { lo = mid; } else { hi = mid; }
    }
    return [centre[0] + lo * u[0], centre[1] + lo * u[1]];
  }
  // That level set as a closed SVG path.
  function levelSet(f, centre, level, map) {
    var pts = [];
    for (var i = 0; i < 180; i++) { pts.push(map(rayPoint(f, centre, level, 2 * Math.PI * i / 180))); }
    return "M" + pts.join("L") + "Z";
  }
  var ols = solve(G[0][0], G[0][1], G[1][1], c[0], c[1]);
  var outer = quad([0, 0]) - quad(ols);   // the likelihood contour through 0 holds every MAP
  // The view: that whole contour and the origin, square so circles are round (a wide prior's circle may leave it).
  var xs = [0, ols[0]], ys = [0, ols[1]];
  for (var i = 0; i < 360; i++) {
    var p = rayPoint(quad, ols, outer, 2 * Math.PI * i / 360);
    xs.push(p[0]); ys.push(p[1]);
  }
  var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
  var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
  var side = 1.15 * Math.max(x1 - x0, y1 - y0), cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1), S = 300;
  function map(w) { return ((w[0] - cx) / side * S + S / 2).toFixed(2) + "," + (S / 2 - (w[1] - cy) / side * S).toFixed(2); }
  ["g", "l"].forEach(function (k) {
    var o = map([0, 0]).split(",");
    document.getElementById("pp-" + k + "-xaxis").setAttribute("y1", o[1]);
    document.getElementById("pp-" + k + "-xaxis").setAttribute("y2", o[1]);
    document.getElementById("pp-" + k + "-yaxis").setAttribute("x1", o[0]);
    document.getElementById("pp-" + k + "-yaxis").setAttribute("x2", o[0]);
    var q = map(ols).split(",");
    document.getElementById("pp-" + k + "-ols").setAttribute("x", (Number(q[0]) - 4).toFixed(2));
    document.getElementById("pp-" + k + "-ols").setAttribute("y", (Number(q[1]) + 4).toFixed(2));
  });
  function path(points) { return "M" + points.map(map).join("L"); }
  var ridgePath = [], lassoPath = [];
  for (var g = 0; g <= 120; g++) {
    ridgePath.push(ridgeMap(Math.pow(10, -4 + 7 * g / 120)));
    lassoPath.push(lassoMap(Math.max(Math.abs(c[0]), Math.abs(c[1])) * g / 120));
  }
  document.getElementById("pp-g-path").setAttribute("d", path(ridgePath));
  document.getElementById("pp-l-path").setAttribute("d", path(lassoPath));
  function show(id, value) {
    var el = document.getElementById(id);
    el.setAttribute("data-value", String(value));
    el.textContent = Number(value).toPrecision(4);
  }
  function draw(k, w, lam, alpha) {
    var pt = map(w).split(",");
    document.getElementById("pp-" + k + "-map").setAttribute("cx", pt[0]);
    document.getElementById("pp-" + k + "-map").setAttribute("cy", pt[1]);
    document.getElementById("pp-" + k + "-lik").setAttribute("d", levelSet(quad, ols, quad(w) - quad(ols), map));
    var prior = k === "g" ? function (v) { return 0.5 * (v[0] * v[0] + v[1] * v[1]); }
                          : function (v) { return Math.abs(v[0]) + Math.abs(v[1]); };
    var r = prior(w);
    document.getElementById("pp-" + k + "-prior").setAttribute("d", r > 0 ? levelSet(prior, [0, 0], r, map) : "");
    // posterior contours 1, 2 and 3 "sd" out: −log posterior up by k²/2, i.e. J up by (σ²/n)·k²/2
    var post = function (v) { return objective(v, lam, alpha); }, d = "";
    [1, 2, 3].forEach(function (m) { d += levelSet(post, w, s2 / n * m * m / 2, map); });
    document.getElementById("pp-" + k + "-post").setAttribute("d", d);
  }
  var tauIn = document.getElementById("pp-tau"), scaleIn = document.getElementById("pp-scale");
  function update() {
    var tau = Math.pow(10, Number(tauIn.value)), s = Math.pow(10, Number(scaleIn.value));
    var lam = s2 / (n * tau * tau), alpha = s2 / (n * s), wg = ridgeMap(lam), wl = lassoMap(alpha);
    show("pp-tau-value", tau); show("pp-scale-value", s); show("pp-lam", lam); show("pp-alpha", alpha);
    show("pp-g-w0", wg[0]); show("pp-g-w1", wg[1]); show("pp-l-w0", wl[0]); show("pp-l-w1", wl[1]);
    var zeros = (wl[0] === 0 ? 1 : 0) + (wl[1] === 0 ? 1 : 0);
    var zeroOut = document.getElementById("pp-l-zeros");
    zeroOut.setAttribute("data-value", String(zeros)); zeroOut.textContent = String(zeros);
    draw("g", wg, lam, 0); draw("l", wl, 0, alpha);
  }
  tauIn.addEventListener("input", update);
  scaleIn.addEventListener("input", update);
  update();
  document.getElementById("prior-picture").setAttribute("data-ready", "1");
})();
"""


def _picture_panel(key: str, title: str) -> str:
    return f"""<figure class="pp-panel"><svg viewBox="0 0 300 300" role="img" aria-label="{title}" id="pp-{key}-svg">
<rect width="300" height="300" fill="#fff" stroke="#ddd"/>
<line id="pp-{key}-xaxis" x1="0" x2="300" stroke="#bbb"/><line id="pp-{key}-yaxis" y1="0" y2="300" stroke="#bbb"/>
<path id="pp-{key}-lik" fill="none" stroke="#1f77b4" stroke-width="1.5"/>
<path id="pp-{key}-prior" fill="none" stroke="#d62728" stroke-width="1.5" stroke-dasharray="4,3"/>
<path id="pp-{key}-post" fill="none" stroke="#2ca02c" stroke-width="1"/>
<path id="pp-{key}-path" fill="none" stroke="#555" stroke-width="1" stroke-dasharray="1,2"/>
<text id="pp-{key}-ols" font-size="14" fill="#1f77b4">×</text>
<circle id="pp-{key}-map" r="4.5" fill="#000"/>
</svg><figcaption>{title}</figcaption></figure>"""


def prior_picture(two_d: dict) -> str:
    """The 2-D picture as the page's centrepiece: sliders for τ and s redraw the prior's circle and diamond,
    the likelihood contour they touch, the posterior's contours, and move the MAP along its path."""
    data = {k: np.asarray(two_d[k], dtype=float).tolist() for k in ("gram", "xty")}
    data.update(n=int(two_d["n"]), noise_sd=float(two_d["noise_sd"]))
    blob = json.dumps(data)
    if "</" in blob:
        raise ValueError("picture payload must not contain '</'")
    lt, ls = math.log10(two_d["prior_sd"]), math.log10(two_d["laplace_scale"])
    r = PICTURE_TAU_RANGE
    return f"""<div class="slider picture" id="prior-picture">
<div class="pp-panels">{_picture_panel("g", "Gaussian prior (L2): circles")}{_picture_panel("l", "Laplace prior (L1): diamonds")}</div>
<p class="pp-legend"><span style="color:#1f77b4">━ likelihood contour through the MAP, × its peak</span> · <span style="color:#d62728">╌ prior contour through the MAP</span> · <span style="color:#2ca02c">━ posterior contours (1, 2, 3 sd)</span> · ● MAP · ┈ its path as the prior narrows</p>
<label>Gaussian prior sd τ (log scale) <input type="range" id="pp-tau" min="{lt - r!r}" max="{lt + r!r}" step="any" value="{lt!r}"> <output id="pp-tau-value"></output> → λ = σ²/(nτ²) = <output id="pp-lam"></output>, MAP (<output id="pp-g-w0"></output>, <output id="pp-g-w1"></output>)</label>
<label>Laplace scale s (log scale) <input type="range" id="pp-scale" min="{ls - r!r}" max="{ls + r!r}" step="any" value="{ls!r}"> <output id="pp-scale-value"></output> → α = σ²/(ns) = <output id="pp-alpha"></output>, MAP (<output id="pp-l-w0"></output>, <output id="pp-l-w1"></output>), exact zeros: <output id="pp-l-zeros"></output></label>
<script type="application/json" id="prior-picture-data">{blob}</script>
<script>{_PICTURE_SCRIPT}</script>
</div>"""
