"""`implied_prior` against training: each framework's loss and update rule, trained to convergence in
float64 with real optax transforms, lands on the closed-form MAP under the converter's prior.

The update rules reproduced, from each framework's documentation:

- PyTorch ``torch.optim.SGD``: g ← g + wd·θ; b ← μb + g; θ ← θ − γb (docs, "Algorithm"); ``Adam`` adds
  wd·θ to g before its moments; ``nn.MSELoss`` is mean(r²), ``reduction='sum'`` Σr². Its
  ``model.parameters()`` carries the bias into the decay unless a parameter group leaves it out.
- optax: ``chain(add_decayed_weights(wd, mask), sgd | adam)``; ``l2_loss`` = ½r², averaged.
- Keras: ``kernel_regularizer=l2(wd)`` adds wd·Σw² to the loss (kernel only); ``SGD`` keeps
  m ← μm − γg, w ← w + m; Keras 3's ``SGD(weight_decay=wd)`` first does w ← w − γ·wd·w on every
  variable (``Optimizer._apply_weight_decay``), outside the momentum.
- MXNet gluon: ``L2Loss`` = ½r² and ``Trainer.step(batch_size)`` averages; ``wd`` adds wd·θ to g.
- d2l scratch: ``squared_loss`` + λ·‖w‖²/2 per row, summed, the step divided by the batch size.
- scikit-learn ``Ridge``: ‖y − Xw − b‖² + α‖w‖²; glmnet (alpha = 0): RSS/(2n) + (λ/2)‖β‖².
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.optimize import lsq_linear

import bayeswd
from bayeswd import implied_prior, settings_for_prior
from bayeswd.implied import FRAMEWORK_SPECS


def _designs():
    rng = np.random.default_rng(np.random.SeedSequence(2024).spawn(1)[0])
    out = {}
    for label, (n, p) in {"long": (40, 5), "wide": (8, 20)}.items():
        X = rng.standard_normal((n, p))
        y = X @ rng.standard_normal(p) * 0.5 + 0.3 + 0.1 * rng.standard_normal(n)
        out[label] = (X, y)
    return out


DESIGNS = _designs()


def _closed_form_map(X, y, lam, decay_bias):
    """argmin (1/2n)‖y − Xw − b‖² + (λ/2)(‖w‖² + [decay_bias]·b²), by the normal equations."""
    n, p = X.shape
    A = np.column_stack([X, np.ones(n)])
    D = np.ones(p + 1)
    D[-1] = float(decay_bias)
    theta = np.linalg.solve(A.T @ A / n + lam * np.diag(D), A.T @ y / n)
    return theta[:p], theta[p]


def _framework_loss(framework, loss, wd):
    """The data loss as the framework computes it on the full batch, plus any penalty it puts in the loss."""
    def fn(params, X, y):
        r = X @ params["w"] + params["b"] - y
        data = {"mse": jnp.mean(r**2), "sse": jnp.sum(r**2), "half_mse": jnp.mean(r**2 / 2)}[loss]
        if framework == "keras":
            data = data + wd * jnp.sum(params["w"] ** 2)             # l2(wd) on the kernel
        if framework == "d2l-scratch":
            data = jnp.mean(r**2 / 2 + wd * jnp.sum(params["w"] ** 2) / 2)
        if framework == "sklearn":
            data = jnp.sum(r**2) + wd * jnp.sum(params["w"] ** 2)
        if framework == "glmnet":
            data = jnp.sum(r**2) / (2 * X.shape[0]) + wd / 2 * jnp.sum(params["w"] ** 2)
        return data
    return fn


def _transform(framework, optimizer, wd, decay_bias, lr, momentum):
    mask = {"w": True, "b": bool(decay_bias)}
    opt = (optax.sgd(lr, momentum=momentum or None) if optimizer == "sgd" else optax.adam(lr, eps=1e-12))
    if framework in ("pytorch", "optax", "mxnet"):      # decay added to the gradient, before the optimizer
        return optax.chain(optax.masked(optax.add_decayed_weights(wd), mask), opt)
    return opt                                            # the penalty is in the loss


def _train(loss_fn, tx, X, y, steps, pre_decay=None):
    X, y = jnp.asarray(X), jnp.asarray(y)
    params = {"w": jnp.zeros(X.shape[1]), "b": jnp.zeros(())}

    @jax.jit
    def run(params):
        def body(carry, _):
            params, state = carry
            g = jax.grad(loss_fn)(params, X, y)
            if pre_decay is not None:   # Keras 3: w ← w − γ·wd·w before the update
                params = jax.tree.map(lambda p: p * (1.0 - pre_decay), params)
            updates, state = tx.update(g, state, params)
            return (optax.apply_updates(params, updates), state), None
        (params, _), _ = jax.lax.scan(body, (params, tx.init(params)), None, length=steps)
        return params

    out = run(params)
    return np.asarray(out["w"]), float(out["b"])


def _curvature(loss_fn, X, y):
    p = X.shape[1]
    flat = lambda th: loss_fn({"w": th[:p], "b": th[p]}, jnp.asarray(X), jnp.asarray(y))  # noqa: E731
    H = np.asarray(jax.hessian(flat)(jnp.zeros(p + 1)))
    return np.linalg.eigvalsh(H)


# (framework, optimizer, loss, decay_bias, momentum); sklearn and glmnet train their own objective.
CASES = ([("pytorch", opt, loss, db, mom) for opt, mom in (("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0))
          for loss in ("mse", "sse") for db in (True, False)]
         + [("optax", opt, "half_mse", db, 0.0) for opt in ("sgd", "adam") for db in (True, False)]
         + [("keras", "sgd", "mse", False, 0.0), ("keras", "adam", "mse", False, 0.0),
            ("keras", "sgd-decoupled", "mse", True, 0.9),
            ("mxnet", "sgd", "half_mse", True, 0.0), ("mxnet", "sgd", "half_mse", False, 0.0),
            ("d2l-scratch", "sgd", "half_mse", False, 0.0),
            ("sklearn", "closed-form", None, False, 0.0), ("glmnet", "closed-form", None, False, 0.0)])


def _wd_for(framework, loss, n):
    """A knob giving a canonical λ near 0.3 in each spelling (the test does not use the converter for it)."""
    return {"sse": 0.3 * 2 * n, "mse": 0.6}.get(loss, 0.3) if framework not in ("keras", "sklearn") else \
        {"keras": 0.3, "sklearn": 0.3 * n}[framework]


@pytest.mark.parametrize("design", ["long", "wide"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(str(x) for x in c))
def test_conformance_matrix(case, design):
    framework, optimizer, loss, decay_bias, momentum = case
    X, y = DESIGNS[design]
    n = X.shape[0]
    wd = _wd_for(framework, loss, n)
    decoupled = optimizer == "sgd-decoupled"
    opt = "sgd" if decoupled or optimizer == "closed-form" else optimizer   # the estimators' objective by GD
    result = implied_prior(framework, optimizer if optimizer == "closed-form" else opt, wd, n=n, batch_size=n, loss=loss if framework not in ("sklearn", "glmnet")
                           else None, decay_bias=decay_bias, momentum=momentum,
                           decay="decoupled" if decoupled else None)
    weight = result.groups["weight"]
    assert weight.family == "gaussian"
    assert (result.groups["bias"].family == "gaussian") == decay_bias
    w_ref, b_ref = _closed_form_map(X, y, weight.lam, decay_bias)

    loss_fn = _framework_loss(framework, loss or "sse", 0.0 if decoupled else wd)  # decoupled: not in the loss
    eig = _curvature(loss_fn, X, y)
    if opt == "adam":
        steps = 30_000
        lr = optax.exponential_decay(0.05, transition_steps=steps, decay_rate=1e-9)
    else:
        # the decay's own curvature joins the data's where the optimizer adds it to the gradient
        top = eig[-1] + (wd if framework in ("pytorch", "optax", "mxnet") else 0.0)
        low = max(eig[0], 1e-3) if framework in ("keras", "d2l-scratch", "sklearn", "glmnet") else eig[0] + wd * 0.5
        lr = 1.0 / top if not decoupled else 0.5 / eig[-1]
        steps = int(min(200_000, 40 * top / max(low, 1e-9) + 2_000))
    tx = _transform(framework, opt, 0.0 if decoupled else wd, decay_bias, lr, momentum)
    w, b = _train(loss_fn, tx, X, y, steps, pre_decay=lr * wd if decoupled else None)
    scale = np.linalg.norm(np.append(w_ref, b_ref))
    assert np.linalg.norm(np.append(w - w_ref, b - b_ref)) <= 1e-6 * scale


def test_matrix_has_at_least_24_settings():
    assert len(CASES) * len(DESIGNS) >= 24 and len(CASES) >= 24


@pytest.mark.parametrize("binds", [True, False])
def test_adamw_converges_to_the_box(binds):
    """Full-batch AdamW with a decaying step solves min loss s.t. ‖w‖∞ ≤ 1/wd (Xie & Li 2024):
    compared with scipy's bounded least squares."""
    X, y = DESIGNS["long"]
    n = X.shape[0]
    ols = np.linalg.lstsq(np.column_stack([X, np.ones(n)]), y, rcond=None)[0][:-1]
    wd = 1.5 / np.abs(ols).max() if binds else 0.5 / np.abs(ols).max()   # radius below or above every |w|
    result = implied_prior("pytorch", "adamw", wd, n=n, lr=0.05, data=(X, y), decay_bias=False)
    weight = result.groups["weight"]
    assert weight.family == "none" and weight.box_radius == pytest.approx(1 / wd)
    assert weight.box_binds is binds
    assert any(("does not bind" in note) != binds for note in weight.notes if "bind" in note)
    steps = 60_000
    tx = optax.adamw(optax.exponential_decay(0.05, steps, 1e-7), weight_decay=wd, eps=1e-14,
                     mask={"w": True, "b": False})
    w, b = _train(_framework_loss("pytorch", "mse", 0.0), tx, X, y, steps)
    A = np.column_stack([X, np.ones(n)])
    hi = np.append(np.full(X.shape[1], 1 / wd), np.inf)
    ref = lsq_linear(A, y, bounds=(-hi, hi), tol=1e-14).x
    np.testing.assert_allclose(np.append(w, b), ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    if binds:
        assert np.abs(w).max() == pytest.approx(1 / wd, rel=1e-4)


def test_torch_sgd_wd3_is_the_documented_prior():
    """docs/theory.md §"What prior do my settings imply?": MSELoss has no ½, so λ = wd/2 = 1.5 and
    τ = σ/√(nλ) = 0.01/√30."""
    r = implied_prior(framework="torch", optimizer="sgd", weight_decay=3, lr=0.01, n=20, batch_size=5,
                      loss="mse", noise_sd=0.01)
    assert r.groups["weight"].prior_sd == pytest.approx(0.01 / math.sqrt(30), rel=1e-14)
    assert r.groups["weight"].lam == pytest.approx(1.5)
    assert r.groups["bias"].family == "gaussian"    # SGD(model.parameters()) decays the bias too
    assert any("bias is decayed" in w for w in r.warnings)


def test_laplace_torch_formula():
    """laplace-torch (aleximmer/Laplace, BaseLaplace): log p(θ|D) = Σ log N(yᵢ; f, σ²) − (δ/2)‖θ‖², so a
    network trained with mean MSELoss and weight_decay wd has δ = N·wd/(2σ²), i.e. wd = 2σ²δ/N."""
    n, wd, sigma = 500, 1e-3, 0.3
    eq = implied_prior("pytorch", "sgd", wd, n=n, noise_sd=sigma).groups["weight"].equivalents["laplace-torch"]
    assert eq["value"] == pytest.approx(n * wd / (2 * sigma**2), rel=1e-12)
    assert eq["sigma_noise"] == sigma
    # the inverse: a prior precision δ is weight_decay 2σ²δ/N
    delta = 42.0
    s = settings_for_prior(1 / math.sqrt(delta), sigma, n, "pytorch")
    assert s.weight_decay == pytest.approx(2 * sigma**2 * delta / n, rel=1e-12)


def test_ivon_formula():
    """IVON (Shen et al. 2024; team-approx-bayes/ivon, the Hessian update ess·(h + weight_decay)): the prior
    precision is δ = ess·weight_decay on a mean negative log-likelihood; with ess = N, BCE and PyTorch's
    weight_decay (coupled, mean loss) mean the same δ = N·wd."""
    n, wd = 670, 0.1
    r = implied_prior("pytorch", "sgd", wd, n=n, loss="nll")
    eq = r.groups["weight"].equivalents["ivon"]
    assert eq["ess"] == n
    assert eq["ess"] * eq["value"] == pytest.approx(n * wd, rel=1e-12)
    assert r.groups["weight"].prior_precision == pytest.approx(n * wd, rel=1e-12)


@pytest.mark.parametrize("framework", [f for f in FRAMEWORK_SPECS])
@pytest.mark.parametrize("prior", ["gaussian", "laplace"])
def test_settings_for_prior_inverts_implied_prior(framework, prior):
    spec = FRAMEWORK_SPECS[framework]
    optimizer = spec.optimizers[0]
    s = settings_for_prior(0.02, 0.1, 30, framework, optimizer=optimizer, prior=prior)
    back = implied_prior(framework, optimizer, s.weight_decay, n=30, noise_sd=0.1, decay_bias=False,
                         penalty="l2" if prior == "gaussian" else "l1")
    assert back.groups["weight"].scale == pytest.approx(0.02, rel=1e-12)
    for other, eq in back.groups["weight"].equivalents.items():
        if other in FRAMEWORK_SPECS:      # each framework's knob implies the same prior again
            again = implied_prior(other, FRAMEWORK_SPECS[other].optimizers[0], eq["value"], n=30, noise_sd=0.1,
                                  penalty="l2" if prior == "gaussian" else "l1")
            assert again.groups["weight"].scale == pytest.approx(0.02, rel=1e-12)


def test_batch_and_reduction_bookkeeping():
    base = dict(n=20, noise_sd=0.01)
    mean = implied_prior("pytorch", "sgd", 3.0, batch_size=5, loss="mse", **base).groups["weight"].lam
    summed = implied_prior("pytorch", "sgd", 3.0, batch_size=5, loss="sse", **base).groups["weight"].lam
    assert mean == pytest.approx(1.5) and summed == pytest.approx(3.0 / (2 * 5))
    uneven = implied_prior("pytorch", "sgd", 3.0, batch_size=6, loss="sse", **base)
    assert uneven.groups["weight"].lam == pytest.approx(3.0 * 4 / (2 * 20))   # 4 steps an epoch, 20 rows
    k3 = implied_prior("pytorch", "sgd", 3.0, n_outputs=3, **base).groups["weight"].lam
    assert k3 == pytest.approx(bayeswd.conventions.from_framework("pytorch", 3.0, 0.1, n_targets=3)[0])


def test_null_space_survival_matches_training():
    """The finite-run law, exact for SGD and heavy-ball momentum on a linear model: the init's null-space
    part is multiplied by the step's decay factor, through the momentum recurrence."""
    X, y = DESIGNS["wide"]
    n, p = X.shape
    rng = np.random.default_rng(np.random.SeedSequence(7).spawn(1)[0])
    w0 = 0.1 * rng.standard_normal(p)
    P = np.linalg.pinv(X) @ X                     # the data gradient in w lies in the span of the raw rows
    null0 = (np.eye(p) - P) @ w0
    for momentum in (0.0, 0.9):
        r = implied_prior("pytorch", "sgd", 0.5, n=n, lr=0.05, steps=60, momentum=momentum, decay_bias=False,
                          noise_sd=0.1)
        tx = optax.chain(optax.masked(optax.add_decayed_weights(0.5), {"w": True, "b": False}),
                         optax.sgd(0.05, momentum=momentum or None))
        loss_fn = _framework_loss("pytorch", "mse", 0.0)

        @jax.jit
        def run(params):
            def body(carry, _):
                params, state = carry
                updates, state = tx.update(jax.grad(loss_fn)(params, X, y), state, params)
                return (optax.apply_updates(params, updates), state), None
            return jax.lax.scan(body, (params, tx.init(params)), None, length=60)[0][0]

        out = run({"w": jnp.asarray(w0), "b": jnp.zeros(())})
        null_t = (np.eye(p) - P) @ np.asarray(out["w"])
        np.testing.assert_allclose(null_t, r.null_space_survival * null0, atol=1e-12)


def test_adamw_and_normalized_weights_have_no_prior():
    r = implied_prior("optax", "adamw", 0.01, n=1000, lr=1e-3, batch_size=100)
    assert r.groups["weight"].family == "none" and r.groups["weight"].box_radius == pytest.approx(100)
    assert r.timescale_steps == pytest.approx(1 / (1e-3 * 0.01))
    assert r.timescale_epochs == pytest.approx(r.timescale_steps * 100 / 1000)
    assert any("learning rate" in w for w in r.warnings)
    norm = implied_prior("pytorch", "sgd", 5e-4, n=1000, scale_invariant=True, noise_sd=1.0)
    assert norm.groups["weight"].family == "none"
    assert "effective learning rate" in norm.groups["weight"].notes[0]
    with pytest.raises(ValueError, match="no Gaussian prior"):
        settings_for_prior(0.1, 0.1, 100, "pytorch", optimizer="adamw")


def test_noise_sd_from_data():
    data = bayeswd.d2l_data(seed=0)
    known = implied_prior("d2l-scratch", "sgd", 3.0, n=20, data=data)
    assert known.noise_sd == data.noise_sd and "known" in known.noise_sd_source
    X, y = DESIGNS["long"]
    est = implied_prior("pytorch", "sgd", 0.01, n=len(y), data=(X, y))
    assert 0.05 < est.noise_sd < 0.2 and "estimated" in est.noise_sd_source   # true σ = 0.1
    with pytest.raises(ValueError, match="noise_sd"):
        implied_prior("pytorch", "sgd", 0.0, n=8, data=DESIGNS["wide"])   # interpolates: no residual left


@pytest.mark.parametrize("kwargs, match", [
    (dict(framework="caffe"), "unknown framework"),
    (dict(optimizer="lbfgs"), "unknown optimizer"),
    (dict(weight_decay=-1), "weight_decay"),
    (dict(weight_decay=float("nan")), "weight_decay"),
    (dict(loss="huber"), "unknown loss"),
    (dict(batch_size=50), "batch_size"),
    (dict(epochs=2, steps=3), "not both"),
    (dict(momentum=1.0), "momentum"),
    (dict(optimizer="adamw", decay="coupled"), "decoupled by definition"),
    (dict(penalty="l1", optimizer="adamw"), "penalty='l1'"),
    (dict(loss="nll", noise_sd=0.1), "nll"),
    (dict(framework="sklearn", optimizer="closed-form", loss="mse"), "fixes its objective"),
])
def test_bad_settings_name_the_argument(kwargs, match):
    args = dict(framework="pytorch", optimizer="sgd", weight_decay=1.0, n=20)
    with pytest.raises(ValueError, match=match):
        implied_prior(**{**args, **kwargs})


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "bayeswd", "prior", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_prior_table_and_json():
    out = _cli("--framework", "torch", "--weight-decay", "3", "--lr", "0.01", "--n", "20", "--batch-size", "5",
               "--epochs", "10", "--noise-sd", "0.01", "--no-decay-bias")
    assert out.returncode == 0, out.stderr
    assert "prior: gaussian" in out.stdout and "0.00182574" in out.stdout and "flat" in out.stdout
    js = _cli("--framework", "keras", "--weight-decay", "1.5", "--n", "20", "--noise-sd", "0.01", "--json")
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["groups"]["weight"]["prior_sd"] == pytest.approx(0.01 / math.sqrt(30))
    inverse = _cli("--framework", "pytorch", "--prior-sd", str(0.01 / math.sqrt(30)), "--noise-sd", "0.01",
                   "--n", "20")
    assert inverse.returncode == 0 and "wd = 3" in inverse.stdout


@pytest.mark.parametrize("args", [
    ("--n", "20", "--weight-decay", "3", "--framework", "caffe"),
    ("--n", "20", "--weight-decay", "-3"),
    ("--weight-decay", "3"),
    ("--n", "20"),
    ("--n", "20", "--weight-decay", "1", "--optimizer", "adamw", "--framework", "sklearn"),
    ("--n", "20", "--weight-decay", "1", "--prior-sd", "0.1", "--noise-sd", "0.1"),
    ("--n", "20", "--prior-sd", "0.1", "--noise-sd", "0.1", "--optimizer", "adamw"),
    ("--n", "x", "--weight-decay", "1"),
])
def test_cli_prior_bad_combinations(args):
    out = _cli(*args)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("bayeswd: error:")
    assert "Traceback" not in out.stderr


def test_readme_implied_prior_block_runs():
    """The README's implied_prior example runs as written and its comments state what it returns."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```python")[1:]]
    block = next(b for b in blocks if "implied_prior" in b)
    scope = {"bayeswd": bayeswd}
    exec(compile(block, "README.md", "exec"), scope)
    r = scope["r"]
    assert r.groups["weight"].prior_sd == pytest.approx(0.001826, rel=1e-3)
    assert r.groups["bias"].family == "gaussian"
    assert bayeswd.settings_for_prior(0.01, 0.01, 20, "keras").weight_decay == pytest.approx(0.05)
