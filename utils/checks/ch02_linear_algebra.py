"""Checkers for section 2.1 (linear algebra)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, numbers, tolerance


def _as_array(value, what: str, shape: tuple | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be numbers (a NumPy array), got {type(value).__name__}")
    if shape is not None and arr.shape != shape:
        raise Wrong(f"{what} should have shape {shape}, got {arr.shape}")
    return arr


# --- 2.1 Linear algebra -------------------------------------------------------

@exercise("2.1.1", "rotation matrix")
def _check_rotation(rotation_matrix) -> str:
    for theta in (0.0, np.pi / 6, np.pi / 2, 2.0, -1.0):
        R = _as_array(rotation_matrix(theta), f"rotation_matrix({theta:.3g})", (2, 2))
        expected = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        if abs(np.sin(theta)) > 1e-3 and np.allclose(R, expected.T):
            raise Wrong(f"rotation_matrix({theta:.3g}) turns clockwise: the counter-clockwise "
                        "rotation has -sin(theta) in the top-right corner")
        t = np.radians(theta)
        if theta != 0 and np.allclose(R, [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]):
            raise Wrong("theta is in radians already: use np.cos(theta), no conversion from degrees")
        if not np.allclose(R, expected, atol=1e-12):
            e1 = R @ np.array([1.0, 0.0])
            worst = int(np.argmax(np.abs(R - expected).max(axis=0)))  # the column that is furthest off
            unit = ("(1, 0)", "(0, 1)")[worst]
            yours, right = numbers(R[:, worst], expected[:, worst])
            raise Wrong(f"rotation_matrix({theta:.3g}) maps {unit} to {yours}, expected {right} "
                        f"(the check allows {tolerance(1e-5, 1e-12)})")
    return "R(θ) matches [[cos θ, −sin θ], [sin θ, cos θ]] for five angles"


@exercise("2.1.2", "solve a 2x2 system by the adjugate formula")
def _check_solve_2x2(solve_2x2) -> str:
    rng = np.random.default_rng(21)
    for _ in range(20):
        A = rng.normal(size=(2, 2))
        b = rng.normal(size=2)
        x = _as_array(solve_2x2(A, b), "solve_2x2(A, b)", (2,))
        if not np.allclose(A @ x, b, atol=1e-9):
            x_ref = np.linalg.solve(A, b)
            if np.allclose(x, -x_ref):
                raise Wrong("the sign is flipped: check the adjugate [[d, -b], [-c, a]]")
            if np.allclose(x * np.linalg.det(A), x_ref * np.linalg.det(A) ** 2):
                raise Wrong("you multiplied by det(A) instead of dividing by it")
            gives, right = numbers(A @ x, b)
            raise Wrong(f"A @ x should equal b, but for A={np.round(A, 3).tolist()} and b={right} it gives "
                        f"{gives} (the check allows {tolerance(1e-5, 1e-9)})")
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    try:
        result = solve_2x2(singular, np.array([1.0, 1.0]))
    except ValueError:
        pass
    else:
        raise Wrong("a singular matrix (det = 0) must raise ValueError with a clear message, "
                    f"but solve_2x2 returned {result!r}")
    return "20 random systems solved (A @ x == b) and a singular matrix raises ValueError"


@exercise("2.1.3", "second eigenpair by deflation")
def _check_second_eigenpair(second_eigenpair) -> str:
    rng = np.random.default_rng(7)
    for n in (2, 3, 5):
        Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
        lambdas = np.array([5.0, -3.0, 2.0, 1.0, 0.5][:n])
        S = Q @ np.diag(lambdas) @ Q.T
        out = second_eigenpair(S)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Wrong("second_eigenpair should return a tuple (eigenvalue, eigenvector)")
        lam, v = float(out[0]), _as_array(out[1], "the eigenvector", (n,))
        if np.isclose(lam, lambdas[0], atol=1e-6):
            raise Wrong("you returned the dominant eigenvalue: subtract λ1 v1 v1ᵀ from S first (deflation)")
        if not np.isclose(lam, lambdas[1], atol=1e-6):
            yours, right = numbers(lam, lambdas[1])
            raise Wrong(f"for a {n}x{n} matrix with eigenvalues {lambdas.tolist()} the second largest in "
                        f"absolute value is {right}, you returned {yours} (the check allows {tolerance(1e-5, 1e-6)})")
        if not np.isclose(np.linalg.norm(v), 1.0, atol=1e-6):
            raise Wrong(f"the eigenvector should have length 1, yours has length "
                        f"{numbers(np.linalg.norm(v), 1.0)[0]} (the check allows {tolerance(1e-5, 1e-6)})")
        if not np.allclose(S @ v, lam * v, atol=1e-6):
            raise Wrong(f"S v should equal λ v for the vector you returned; they differ by up to "
                        f"{np.abs(S @ v - lam * v).max():.2g} (the check allows {tolerance(1e-5, 1e-6)})")
    return "matches the second eigenpair of three symmetric matrices, including a negative eigenvalue"


@exercise("2.1.4", "components for 90% of the variance of the digits")
def _check_components_90(k) -> str:
    from utils import data

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise Wrong(f"the answer is a number of components, an integer; got {type(k).__name__}")
    X = data.load("digits").X
    S = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    cumulative = np.cumsum(S**2) / np.sum(S**2)
    expected = int(np.searchsorted(cumulative, 0.90) + 1)
    if k == expected - 1:
        raise Wrong(f"{k} components explain only {cumulative[k - 1]:.1%}: off by one "
                    "(index 0 is the first component)")
    if k != expected:
        share = cumulative[k - 1] if 1 <= k <= len(cumulative) else float("nan")
        raise Wrong(f"{k} components explain {share:.1%} of the variance; find the smallest k "
                    "whose cumulative share reaches 90%")
    return f"{expected} of 64 components keep {cumulative[expected - 1]:.1%} of the variance"
