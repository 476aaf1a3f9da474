"""Gradient descent as a posterior sampler, against the exact posterior.

Statistical tests use the false-failure budget of ``stats_budget`` (family-wise α = 1e-3 per test
function, Bonferroni over the compared quantities). Draws by optimization are i.i.d., so their
Monte Carlo standard errors are exact: sd/√K for a mean, sd/√(2(K − 1)) for an sd.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from stats_budget import FAMILY_ALPHA, assert_z_within, z_bar

import bayeswd
from bayeswd import ensembles as E
from bayeswd.data import Dataset
from bayeswd.streams import stream
from bayeswd.training import train
from bayeswd.samplers import gibbs_bayesian_lasso


def _long_data():
    """A second dataset with n > p (80 rows, 6 features), known noise."""
    rng = np.random.default_rng(np.random.SeedSequence(11).spawn(1)[0])
    X = 2.0 * rng.standard_normal((80, 6)) + 1.0
    y = X @ rng.normal(0, 0.5, 6) + 0.7 + 0.3 * rng.standard_normal(80)
    Xv = 2.0 * rng.standard_normal((200, 6)) + 1.0
    return Dataset(X, y, Xv, Xv @ np.zeros(6), noise_sd=0.3, name="long")


CASES = {"d2l": (lambda: bayeswd.d2l_data(seed=0), 0.01, 0.01), "n>p": (_long_data, 0.5, 0.3)}


def _z_moments(draws, mean, sd):
    K = len(draws)
    z_mean = (draws.mean(axis=0) - mean) / (sd / np.sqrt(K))
    z_sd = (draws.std(axis=0, ddof=1) - sd) / (sd / np.sqrt(2 * (K - 1)))
    return np.concatenate([z_mean, z_sd])


@pytest.mark.parametrize("case", list(CASES))
def test_optimize_draws_are_the_conjugate_posterior(case):
    """4,096 draws: every coordinate's mean and sd, the top-20 covariance eigenvalues and the 95% predictive
    coverage of the validation rows, each within its Monte Carlo error (α = 1e-3 per check)."""
    make, tau, sigma = CASES[case]
    data = make()
    K = 4096
    tree = bayeswd.sample_posterior(data, "gaussian", tau, noise_sd=sigma, sampler="optimize", chains=4,
                                    draws=K // 4, seed=3)
    W = tree["posterior"]["w"].values.reshape(K, -1)
    b = tree["posterior"]["b"].values.reshape(K)
    post = bayeswd.gaussian_posterior(data.X_train, data.y_train, sigma, tau)
    sd = np.sqrt(np.diag(post.cov))
    x_mean = data.X_train.mean(axis=0)
    # b = ȳ − x̄·w + N(0, σ²/n): its posterior mean and sd
    b_mean = data.y_train.mean() - x_mean @ post.mean
    b_sd = np.sqrt(x_mean @ post.cov @ x_mean + sigma**2 / len(data.y_train))
    z = np.concatenate([_z_moments(W, post.mean, sd), _z_moments(b[:, None], [b_mean], [b_sd])])
    alpha = FAMILY_ALPHA / 3            # three checks in this test share its budget
    assert_z_within(z, alpha=alpha, what="z of means and sds")

    # Top-20 eigenvalues of the sample covariance: their Monte Carlo law is that of the same statistic
    # of K exact draws (a degenerate prior block spreads sample eigenvalues), taken from 40 replicates.
    top = 20
    replicates = np.array([np.linalg.eigvalsh(np.cov(post.sample(K, seed=1000 + i)[0].T))[::-1][:top]
                           for i in range(40)])
    ours = np.linalg.eigvalsh(np.cov(W.T))[::-1][:top]
    z_eig = (ours - replicates.mean(axis=0)) / (replicates.std(axis=0, ddof=1) * np.sqrt(1 + 1 / 40))
    bar = z_bar(top, alpha, dof=39)
    assert np.abs(z_eig).max() < bar, (np.abs(z_eig).max(), bar)

    # 95% predictive intervals from the draws hold 95% of the exact predictive mass of each validation row.
    rng = stream(5, "target_noise")
    pred = W @ data.X_val.T + b[:, None] + sigma * rng.standard_normal((K, len(data.X_val)))
    lo, hi = np.quantile(pred, [0.025, 0.975], axis=0)
    mean_pred = data.X_val @ post.mean + b_mean
    var_pred = np.einsum("ij,jk,ik->i", data.X_val - x_mean, post.cov, data.X_val - x_mean) + sigma**2 * (1 + 1 / len(data.y_train))
    sd_pred = np.sqrt(var_pred)
    mass = stats.norm.cdf((hi - mean_pred) / sd_pred) - stats.norm.cdf((lo - mean_pred) / sd_pred)
    # a sample-quantile interval's coverage varies like a binomial proportion over the K predictive draws
    z_cov = (mass - 0.95) / np.sqrt(0.95 * 0.05 / K)
    assert_z_within(z_cov, alpha=alpha, what="z of coverage")
    # every draw within 1e-6 of the smallest posterior sd of its own minimizer (the schedule's certificate)
    assert tree.attrs["optimize_max_distance"] < 1e-6 * np.sqrt(np.linalg.eigvalsh(post.cov)[0])


def test_optimize_tree_and_streams():
    data = bayeswd.d2l_data(seed=0)
    tree = bayeswd.sample_posterior(data, "gaussian", 0.01, sampler="optimize", chains=2, draws=64, seed=9)
    assert set(tree["posterior"]["w"].dims) == {"chain", "draw", "feature"}
    assert "log_likelihood" in tree.children and tree.attrs["sampler"] == "optimize"
    again = bayeswd.sample_posterior(data, "gaussian", 0.01, sampler="optimize", chains=2, draws=64, seed=9)
    np.testing.assert_array_equal(tree["posterior"]["w"].values, again["posterior"]["w"].values)
    # no purpose shares a stream: prior starts, target noise and the data are different numbers
    starts = stream(0, "prior_start").standard_normal(200)
    noise = stream(0, "target_noise").standard_normal(200)
    assert not np.isin(starts, noise).any()
    assert not np.isin(np.round(starts, 12), np.round(data.X_train.ravel(), 12)).any()
    with pytest.raises(ValueError, match="Gaussian prior only"):
        bayeswd.sample_posterior(data, "laplace", 0.01, sampler="optimize")


def test_laws_agree_with_each_other():
    """Sample-then-optimize's law is the posterior; plain GD keeps the prior in the null space and collapses
    the row space; converged decay toward 0 collapses everything onto the ridge solution."""
    d = bayeswd.d2l_data(seed=0)
    X, y = d.X_train, d.y_train
    laws = E.three_ensembles(X, y, 0.01, 0.01)
    post, sto = laws["posterior"], laws["sample-then-optimize"]
    np.testing.assert_allclose(sto.row_var, post.row_var, rtol=1e-12)
    np.testing.assert_allclose(sto.row_mean, post.row_mean, rtol=1e-10)
    assert sto.null_var == pytest.approx(post.null_var, rel=1e-12) and sto.b_var == pytest.approx(post.b_var)
    plain = laws["plain GD"]
    assert plain.null_var == pytest.approx(post.null_var) and np.all(plain.row_var == 0)
    decay = E.ensemble_law(X, y, init_sd=0.01, lam=3.0)
    assert decay.null_var == 0 and np.all(decay.row_var == 0)
    Vt = E.centred(X)[0].Vt
    ridge = bayeswd.ridge(X, y, 3.0).w
    np.testing.assert_allclose(decay.mean(Vt), ridge, atol=1e-12)
    # the posterior's covariance, rebuilt from the law, is the conjugate one
    np.testing.assert_allclose(post.cov(Vt), bayeswd.gaussian_posterior(X, y, 0.01, 0.01).cov, atol=1e-15)


def _simulate(X, y, *, init_sd, lam, lr, steps, K, seed):
    """K full-batch GD runs of bayeswd.train on the centred design from N(0, init_sd²) starts."""
    Xc = X - X.mean(axis=0)
    data = Dataset(Xc, y, Xc[:1], y[:1])
    run = train(data, lam, lr=lr, epochs=steps, batch_size=None, init_sd=init_sd, seed=list(range(seed, seed + K)),
                shuffle=False)
    return run.w.reshape(K, -1), run.b.reshape(K)


@pytest.mark.parametrize("which", ["plain GD", "weight decay", "weight decay, 40 steps", "sample-then-optimize"])
def test_each_ensemble_law_against_simulation(which):
    d = bayeswd.d2l_data(seed=1)
    X, y = d.X_train, d.y_train
    tau = sigma = 0.01
    K = 2048
    dc, _ = E.centred(X)
    lam_post = sigma**2 / (len(y) * tau**2)
    if which == "sample-then-optimize":
        got = E.optimize_draws(X, y, "gaussian", tau, sigma, K, seed=4)
        W, bc = got.w, got.b + X.mean(axis=0) @ got.w.T
        law = E.ensemble_law(X, y, init_sd=tau, lam=lam_post, noise_sd=sigma, anchor=True)
    else:
        lam, steps = {"plain GD": (0.0, None), "weight decay": (lam_post, None),
                      "weight decay, 40 steps": (3.0, 40)}[which]
        lr, need, _, _ = E._schedule(dc, lam, len(y), 1e-14)     # the row space and the bias converge
        if steps is not None:
            lr, need = 0.01, steps
        W, bc = _simulate(X, y, init_sd=tau, lam=lam, lr=lr, steps=need, K=K, seed=7)
        law = E.ensemble_law(X, y, init_sd=tau, lam=lam, lr=lr, steps=need)   # the law after the steps run
    Z = W @ dc.Vt.T                                           # row-space coordinates
    null = W - Z @ dc.Vt
    moving = law.row_var > 1e-30
    z = []
    if moving.any():
        z.append(_z_moments(Z[:, moving], law.row_mean[moving], np.sqrt(law.row_var[moving])))
    assert np.allclose(Z[:, ~moving], law.row_mean[~moving], atol=1e-9), "collapsed directions must not spread"
    if law.null_var < 1e-30:
        law = type(law)(**{**law.__dict__, "null_var": 0.0})
    if law.null_var > 0:
        per_draw = (null**2).sum(axis=1)                         # ~ null_var·χ²(p − r)
        z.append([(per_draw.mean() - law.null_total_var) / np.sqrt(2 * law.null_dims * law.null_var**2 / K)])
    else:
        assert np.abs(null).max() < 1e-12
    if z:
        assert_z_within(np.concatenate([np.ravel(v) for v in z]), what=f"z of {which}")


def test_laplace_recipe_is_not_the_bayesian_lasso(full_stats):
    """Laplace starts with an L1 pull toward them do not sample the Bayesian-lasso posterior: against the
    Gibbs sampler (Park & Casella) the spreads come out larger, beyond the Monte Carlo error
    (2,048 draws by default, 4,096 with --full-stats)."""
    draws, gibbs = (4096, 2000) if full_stats else (2048, 1000)
    rng = np.random.default_rng(np.random.SeedSequence(21).spawn(1)[0])
    X = rng.standard_normal((30, 8))
    y = X @ rng.laplace(0, 0.3, 8) + 0.2 + 0.5 * rng.standard_normal(30)
    got = E.optimize_draws(X, y, "laplace", 0.3, 0.5, draws, seed=2)
    assert not got.exact and got.max_distance < 1e-8     # each draw is its own objective's optimum
    w, _ = gibbs_bayesian_lasso(X, y, 0.3, 0.5, draws=gibbs, tune=300, chains=4, seed=3)
    import arviz as az

    ess = np.array([float(az.ess(np.ascontiguousarray(w[:, :, j]))) for j in range(8)])
    gib_sd = w.reshape(-1, 8).std(axis=0, ddof=1)
    opt_sd = got.w.std(axis=0, ddof=1)
    se = np.sqrt(gib_sd**2 / (2 * ess) + opt_sd**2 / (2 * (draws - 1)))
    z = (opt_sd - gib_sd) / se
    assert np.median(opt_sd / gib_sd) > 1.0
    assert np.abs(z).max() > z_bar(8)       # the gap is real: beyond what chance explains
