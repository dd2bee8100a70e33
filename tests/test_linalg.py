import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import linalg


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_power_iteration_matches_eigh_on_symmetric_matrices(n, seed):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lambdas = np.sort(rng.uniform(0.1, 1.0, size=n))[::-1] * rng.choice([-1, 1], size=n)
    lambdas[0] = 3.0 * rng.choice([-1, 1])  # a clear dominant eigenvalue
    S = Q @ np.diag(lambdas) @ Q.T
    lam, v = linalg.power_iteration(S)
    assert np.isclose(lam, lambdas[0], atol=1e-8)
    assert np.isclose(abs(v @ Q[:, 0]), 1.0, atol=1e-8)


def test_power_iteration_reports_no_dominant_eigenvalue():
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match="did not converge"):
        linalg.power_iteration(rotation, num_iters=200)


@pytest.mark.parametrize(
    "A, message",
    [
        (np.ones((2, 3)), "must be square"),
        (np.ones(3), "must be 2-D"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN or infinity"),
        (np.zeros((0, 0)), "is empty"),
    ],
)
def test_power_iteration_bad_matrices(A, message):
    with pytest.raises(ValueError, match=message):
        linalg.power_iteration(A)


def test_power_iteration_bad_arguments():
    with pytest.raises(TypeError, match="numeric matrix"):
        linalg.power_iteration([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="num_iters"):
        linalg.power_iteration(np.eye(2), num_iters=0)
    with pytest.raises(ValueError, match="v0 must have shape"):
        linalg.power_iteration(np.eye(2), v0=np.ones(3))
    with pytest.raises(ValueError, match="null space"):
        linalg.power_iteration(np.array([[1.0, 0.0], [0.0, 0.0]]), v0=np.array([0.0, 1.0]))


def test_pca_matches_sklearn_and_reconstructs():
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6)) @ rng.normal(size=(6, 6))
    ours = linalg.pca(X, k=3)
    sk = PCA(n_components=3).fit(X)
    assert np.allclose(ours.explained_variance, sk.explained_variance_)
    assert np.allclose(ours.explained_variance_ratio, sk.explained_variance_ratio_)
    assert np.allclose(np.abs(ours.components), np.abs(sk.components_))
    full = linalg.pca(X, k=6)
    assert np.allclose(full.mean + full.scores @ full.components, X)
    assert np.allclose(ours.transform(X), ours.scores)


def test_pca_bad_input():
    with pytest.raises(ValueError, match="at least 2 examples"):
        linalg.pca(np.ones((1, 3)))
    with pytest.raises(ValueError, match="k must be an integer between 1 and"):
        linalg.pca(np.ones((5, 3)), k=4)
    with pytest.raises(ValueError, match="features but the PCA was fit on"):
        linalg.pca(np.random.default_rng(0).normal(size=(5, 3))).transform(np.ones((2, 4)))
