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

__all__ = ["ridge_slider", "sampler_control"]

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
