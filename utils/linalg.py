"""Linear algebra built in chapter 2.1 and reused later in the course.

- :func:`power_iteration`: the dominant eigenvalue and eigenvector of a matrix
  (chapter 2.3 uses it for the stationary distribution of a Markov chain).
- :func:`pca`: principal component analysis through the SVD (used to draw
  embeddings and feature spaces in 2-D).

Chapter 2.1 builds both inline and checks that its versions agree with these.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def as_matrix(A, name: str = "A", square: bool = False) -> np.ndarray:
    """``A`` as a finite float64 2-D array, or a ``ValueError``/``TypeError`` naming the problem."""
    try:
        M = np.asarray(A, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric matrix, got {type(A).__name__}") from err
    if M.ndim != 2:
        raise ValueError(f"{name} must be 2-D (a matrix), got shape {M.shape}")
    if M.size == 0:
        raise ValueError(f"{name} is empty (shape {M.shape})")
    if square and M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} contains NaN or infinity")
    return M


def power_iteration(A, num_iters: int = 1000, tol: float = 1e-12, v0=None) -> tuple[float, np.ndarray]:
    """Dominant eigenvalue and unit eigenvector of the square matrix ``A``.

    Repeats v <- A v / ||A v||. It converges when one eigenvalue is strictly
    larger in absolute value than all the others; the error shrinks like
    |lambda_2 / lambda_1| ** k. The eigenvalue is the Rayleigh quotient v.A v.
    Raises ``ValueError`` if it has not converged after ``num_iters`` steps.
    """
    A = as_matrix(A, square=True)
    if isinstance(num_iters, bool) or not isinstance(num_iters, (int, np.integer)) or num_iters < 1:
        raise ValueError(f"num_iters must be a positive integer, got {num_iters!r}")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol!r}")
    n = A.shape[0]
    v = np.ones(n) / np.sqrt(n) if v0 is None else np.asarray(v0, dtype=np.float64).copy()
    if v.shape != (n,):
        raise ValueError(f"v0 must have shape ({n},) to match A {A.shape}, got {v.shape}")
    if not np.linalg.norm(v) > 0:
        raise ValueError("v0 must not be the zero vector")
    v = v / np.linalg.norm(v)
    for _ in range(num_iters):
        w = A @ v
        norm = np.linalg.norm(w)
        if norm == 0:
            raise ValueError("A v = 0: the start vector lies in the null space of A; try another v0")
        w = w / norm
        # An eigenvector may flip sign at each step (negative eigenvalue): compare up to sign.
        if min(np.linalg.norm(w - v), np.linalg.norm(w + v)) < tol:
            v = w
            break
        v = w
    else:
        raise ValueError(
            f"power iteration did not converge in {num_iters} steps: A may have two "
            "dominant eigenvalues of equal size (e.g. a rotation) — no single direction wins"
        )
    return float(v @ A @ v), v


@dataclass
class PCAResult:
    """Output of :func:`pca`."""

    mean: np.ndarray  # (d,) the centre that was subtracted
    components: np.ndarray  # (k, d) unit directions, by decreasing variance
    explained_variance: np.ndarray  # (k,) variance along each component
    explained_variance_ratio: np.ndarray  # (k,) share of the total variance
    scores: np.ndarray  # (n, k) the data in component coordinates

    def transform(self, X) -> np.ndarray:
        X = as_matrix(X, "X")
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(f"X has {X.shape[1]} features but the PCA was fit on {self.mean.shape[0]}")
        return (X - self.mean) @ self.components.T


def pca(X, k: int = 2) -> PCAResult:
    """Principal components of the rows of ``X`` (n examples x d features), via the SVD.

    Centre the data, take ``X_c = U S V^T``; the rows of ``V^T`` are the
    directions of largest variance and ``S**2 / (n - 1)`` their variances.
    Signs are fixed so that the largest entry of each component is positive
    (the SVD leaves them arbitrary), which makes results comparable.
    """
    X = as_matrix(X, "X")
    n, d = X.shape
    if n < 2:
        raise ValueError(f"PCA needs at least 2 examples, got {n}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= min(n, d):
        raise ValueError(f"k must be an integer between 1 and min(n, d) = {min(n, d)}, got {k!r}")
    mean = X.mean(axis=0)
    Xc = X - mean
    _, S, Vt = np.linalg.svd(Xc, full_matrices=False)
    signs = np.sign(Vt[np.arange(len(Vt)), np.argmax(np.abs(Vt), axis=1)])
    Vt = Vt * signs[:, None]
    variance = S**2 / (n - 1)
    total = variance.sum()
    ratio = variance / total if total > 0 else np.zeros_like(variance)
    return PCAResult(mean, Vt[:k], variance[:k], ratio[:k], Xc @ Vt[:k].T)
