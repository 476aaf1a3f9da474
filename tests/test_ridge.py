import numpy as np
import pytest
from hypothesis import given, strategies as st
from sklearn.linear_model import Ridge, RidgeCV

from bayeswd import ridge, ridge_path
from bayeswd.ridge import min_norm
from conftest import svd_problem


@pytest.mark.parametrize("n, p, k", [(50, 10, None), (20, 200, None), (30, 8, 3), (15, 40, 2)],
                         ids=["long", "wide", "multi-long", "multi-wide"])
@pytest.mark.parametrize("lam", [1e-3, 0.1, 3.0])
def test_ridge_equals_sklearn(n, p, k, lam):
    rng = np.random.default_rng(n + p)
    X = rng.standard_normal((n, p)) + 0.3
    y = rng.standard_normal(n if k is None else (n, k)) + 1.0
    ours = ridge(X, y, lam)
    ref = Ridge(alpha=n * lam, solver="svd").fit(X, y)
    np.testing.assert_allclose(ours.w, ref.coef_.T, atol=1e-10, rtol=0)
    np.testing.assert_allclose(ours.b, ref.intercept_, atol=1e-10, rtol=0)


@pytest.mark.parametrize("n, p", [(40, 10), (10, 40)])
def test_ridge_exact_from_chosen_svd(n, p):
    # Centred X = U diag(d) Vᵀ with U ⊥ 1: w_λ = V diag(d/(d² + nλ)) Uᵀy, b = ȳ.
    X, y, U, d, V = svd_problem(n, p, seed=1)
    X, U = X - X.mean(axis=0), U - U.mean(axis=0)
    U, d2, Vt = np.linalg.svd(X, full_matrices=False)
    keep = d2 > 1e-10
    lam = 0.2
    exact = Vt[keep].T @ (d2[keep] / (d2[keep] ** 2 + n * lam) * (U[:, keep].T @ (y - y.mean())))
    fit = ridge(X, y, lam)
    np.testing.assert_allclose(fit.w, exact, atol=1e-12)
    assert fit.b == pytest.approx(y.mean(), abs=1e-12)


def test_ridge_on_known_orthogonal_design():
    # Orthonormal centred columns: the ridge solution is Xᵀy / (1 + nλ) exactly.
    n, p, lam = 30, 5, 0.05
    rng = np.random.default_rng(2)
    Q, _ = np.linalg.qr(np.column_stack([np.ones(n), rng.standard_normal((n, p))]))
    X = Q[:, 1:]
    y = rng.standard_normal(n)
    np.testing.assert_allclose(ridge(X, y, lam).w, X.T @ y / (1 + n * lam), atol=1e-13)


def test_metamorphic_row_stacking_keeps_lambda():
    # Mean-form objective: duplicating every row leaves J unchanged (sklearn's vstack test uses 2α).
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((12, 30)), rng.standard_normal(12)
    a, b = ridge(X, y, 0.3), ridge(np.vstack([X, X]), np.concatenate([y, y]), 0.3)
    np.testing.assert_allclose(a.w, b.w, atol=1e-12)


def test_metamorphic_feature_stacking_doubles_lambda():
    # [X, X] with 2λ splits w evenly: each half is w/2.
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((12, 30)), rng.standard_normal(12)
    a, b = ridge(X, y, 0.3), ridge(np.hstack([X, X]), y, 0.6)
    np.testing.assert_allclose(b.w[:30], a.w / 2, atol=1e-12)
    np.testing.assert_allclose(b.w[30:], a.w / 2, atol=1e-12)


@given(seed=st.integers(0, 2**16), scale=st.floats(0.1, 10.0), lam=st.floats(1e-3, 10.0))
def test_metamorphic_permutation_and_scaling(seed, scale, lam):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((10, 25)), rng.standard_normal(10)
    base = ridge(X, y, lam)
    perm = rng.permutation(25)
    np.testing.assert_allclose(ridge(X[:, perm], y, lam).w, base.w[perm], atol=1e-11)
    # X·c with λ·c² gives w/c: the same fitted values.
    np.testing.assert_allclose(ridge(X * scale, y, lam * scale**2).w, base.w / scale, rtol=1e-8, atol=1e-12)


def test_lambda_to_zero_is_min_norm():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((15, 60)), rng.standard_normal(15)
    mn = min_norm(X, y)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(mn.w, np.linalg.pinv(Xc) @ (y - y.mean()), atol=1e-12)
    np.testing.assert_allclose(ridge(X, y, 1e-11).w, mn.w, atol=1e-8)
    np.testing.assert_allclose(mn.predict(X), y, atol=1e-10)  # interpolates


@pytest.mark.parametrize("k", [None, 2])
def test_path_matches_pointwise_ridge_and_sklearn_loo(k):
    rng = np.random.default_rng(6)
    n, p = 20, 50
    X, y = rng.standard_normal((n, p)), rng.standard_normal(n if k is None else (n, k))
    lams = np.logspace(-3, 1, 7)
    path = ridge_path(X, y, lams)
    for i, lam in enumerate(lams):
        fit = ridge(X, y, lam)
        np.testing.assert_allclose(path.w[i], fit.w, atol=1e-12)
        np.testing.assert_allclose(path.b[i], fit.b, atol=1e-12)
    ref = RidgeCV(alphas=n * lams, store_cv_results=True).fit(X, y)
    ref_loo = ref.cv_results_.reshape(n, -1, len(lams)).mean(axis=(0, 1))
    np.testing.assert_allclose(path.loo_mse, ref_loo, rtol=1e-8)


def test_path_loo_equals_brute_force_refits():
    # Leaving a row out keeps the sum-of-squares penalty α = nλ fixed, as RidgeCV does.
    rng = np.random.default_rng(7)
    n, p = 20, 200
    X, y = rng.standard_normal((n, p)), rng.standard_normal(n)
    lams = np.array([1e-3, 0.05, 3.0])
    path = ridge_path(X, y, lams)
    for i, lam in enumerate(lams):
        errors = []
        for j in range(n):
            keep = np.arange(n) != j
            refit = ridge(X[keep], y[keep], lam * n / (n - 1))
            errors.append(y[j] - refit.predict(X[j:j + 1])[0])
        assert path.loo_mse[i] == pytest.approx(np.mean(np.square(errors)), rel=1e-8)


def test_path_dof_is_trace_of_hat_matrix():
    rng = np.random.default_rng(8)
    n, p = 20, 40
    X, y = rng.standard_normal((n, p)), rng.standard_normal(n)
    lams = np.array([0.0, 0.01, 1.0, 100.0])
    path = ridge_path(X, y, lams)
    Xa = np.column_stack([X, np.ones(n)])
    for i, lam in enumerate(lams):
        penalty = n * lam * np.diag(np.r_[np.ones(p), 0.0])   # intercept unpenalized
        H = Xa @ np.linalg.pinv(Xa.T @ Xa + penalty) @ Xa.T
        assert path.dof[i] == pytest.approx(np.trace(H), rel=1e-9)
        gcv = n * np.sum((y - H @ y) ** 2) / np.trace(np.eye(n) - H) ** 2 if lam > 0 else np.inf
        if lam > 0:
            assert path.gcv[i] == pytest.approx(gcv, rel=1e-8)


@pytest.mark.parametrize("call, match", [
    (lambda: ridge(np.ones(5), np.ones(5), 1.0), "2-D"),
    (lambda: ridge(np.ones((5, 2)), np.ones(4), 1.0), "one target per row"),
    (lambda: ridge(np.ones((0, 2)), np.ones(0), 1.0), "empty"),
    (lambda: ridge(np.full((3, 2), np.nan), np.ones(3), 1.0), "NaN"),
    (lambda: ridge(np.ones((3, 2)), np.array([1, np.inf, 2]), 1.0), "infinite"),
    (lambda: ridge(np.ones((3, 2)), np.ones(3), -1.0), ">= 0"),
    (lambda: ridge_path(np.ones((3, 2)), np.ones(3), [0.1, -1.0]), ">= 0"),
])
def test_bad_input_names_the_fix(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- the one validation-optimal, LOO and evidence λ: continuous optima against brute force ---------

def _fine_argmin(values_of, lo, hi, points=3001):
    grid = np.logspace(np.log10(lo), np.log10(hi), points)
    values = np.array([values_of(lam) for lam in grid])
    return grid, values


def test_best_lam_on_validation_is_the_continuous_minimizer(d2l):
    from bayeswd.ridge import best_lam

    X, y, Xv, yv = d2l.X_train, d2l.y_train, d2l.X_val, d2l.y_val
    got = best_lam(X, y, "validation", X_val=Xv, y_val=yv)

    def val(lam):   # a refit per λ: no shared SVD with the code under test
        return float(np.mean((yv - ridge(X, y, lam).predict(Xv)) ** 2))

    grid, values = _fine_argmin(val, got / 3, got * 3)
    assert val(got) <= values.min() + 1e-15
    spacing = grid[1] / grid[0]
    assert grid[np.argmin(values)] / got == pytest.approx(1, abs=2 * (spacing - 1))


def test_best_lam_loo_equals_brute_force_refits_under_the_same_prior(d2l):
    """Leave-one-out refits each n − 1 row problem under the SAME prior: α = nλ fixed (scikit-learn's RidgeCV
    convention), so the refit's λ is nλ/(n − 1). Refitting at the same λ instead gives a λ n/(n − 1) larger."""
    from bayeswd.ridge import best_lam

    X, y = d2l.X_train, d2l.y_train
    n = len(y)
    got = best_lam(X, y, "loo")

    def loo(lam):
        errors = []
        for i in range(n):
            keep = np.arange(n) != i
            fit = ridge(X[keep], y[keep], n * lam / (n - 1))
            errors.append((y[i] - fit.predict(X[i:i + 1])[0]) ** 2)
        return float(np.mean(errors))

    grid, values = _fine_argmin(loo, got / 1.5, got * 1.5, points=301)
    assert loo(got) <= values.min() * (1 + 1e-9)
    assert grid[np.argmin(values)] / got == pytest.approx(1, abs=2 * (grid[1] / grid[0] - 1))


def test_evidence_with_sigma_known_recovers_the_d2l_prior(d2l):
    from bayeswd.gaussian import evidence_path, gaussian_posterior
    from bayeswd.ridge import best_lam

    X, y, n, sigma = d2l.X_train, d2l.y_train, len(d2l.y_train), d2l.noise_sd
    got = best_lam(X, y, "evidence", noise_sd=sigma)

    def log_ev(lam):   # the posterior object's own evidence at τ = σ/√(nλ)
        return gaussian_posterior(X, y, sigma, sigma / np.sqrt(n * lam)).log_evidence

    grid, values = _fine_argmin(log_ev, got / 3, got * 3, points=2001)
    assert grid[np.argmax(values)] / got == pytest.approx(1, abs=2 * (grid[1] / grid[0] - 1))
    assert evidence_path(X, y, [got], noise_sd=sigma).log_evidence[0] == pytest.approx(log_ev(got), abs=1e-9)
    assert 0.5 < got / 0.05 < 2                      # the data were made with λ = σ²/(nτ²) = 0.05
    assert log_ev(got) - log_ev(3.0) > 100           # and d2l's λ = 3 is far less probable
    with pytest.raises(ValueError, match="criterion must be one of"):
        best_lam(X, y, "aic")
    with pytest.raises(ValueError, match="needs X_val and y_val"):
        best_lam(X, y, "validation")
