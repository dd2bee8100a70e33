"""Checkers for section 9.1 (scaling laws: compute budgets, power-law fits, the compute-optimal split)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise


def _number(value, what: str) -> float:
    if isinstance(value, (tuple, list, np.ndarray)) and np.size(value) != 1:
        raise Wrong(f"{what} should be one number, got {type(value).__name__} of size {np.size(value)}")
    try:
        x = float(np.asarray(value).reshape(-1)[0]) if isinstance(value, np.ndarray) else float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    if not math.isfinite(x):
        raise Wrong(f"{what} is {x}")
    return x


def _pair(value, what: str) -> tuple[float, float]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Wrong(f"{what} should return a pair (N, D), got {type(value).__name__}")
    return _number(value[0], f"{what}[0]"), _number(value[1], f"{what}[1]")


def _close(got: float, expected: float, rtol: float) -> bool:
    return abs(got - expected) <= rtol * abs(expected)


# --- 9.1.1 the 20-tokens-per-parameter rule ------------------------------------------------

@exercise("9.1.1", "N and D from a compute budget with 20 tokens per parameter")
def _check_rule_of_thumb(chinchilla_rule) -> str:
    budgets = [1e10, 6.0e12, 5.76e23, 3.8e25]
    for C in budgets:
        n, d = _pair(chinchilla_rule(C), f"chinchilla_rule({C:.3g})")
        n_ref = math.sqrt(C / 120.0)
        d_ref = 20.0 * n_ref
        if _close(n, n_ref, 1e-6) and _close(d, d_ref, 1e-6):
            continue
        if _close(n, d_ref, 1e-6) and _close(d, n_ref, 1e-6):
            raise Wrong(f"for C = {C:.3g} you returned (D, N) = ({n:.4g}, {d:.4g}); return (N, D), N first")
        if _close(n, math.sqrt(C / 6.0), 1e-6) or _close(n, math.sqrt(C / 20.0), 1e-6):
            raise Wrong(f"for C = {C:.3g}: N = {n:.4g}, expected {n_ref:.4g}; put D = 20 N into C = 6 N D: "
                        "C = 120 N^2")
        if _close(n, C / 120.0, 1e-6):
            raise Wrong(f"for C = {C:.3g}: N = {n:.4g} is C / 120; N is the square root of C / 120 = {n_ref:.4g}")
        if _close(n, n_ref, 1e-6):
            raise Wrong(f"for C = {C:.3g}: N = {n:.4g} is right but D = {d:.4g}, expected 20 N = {d_ref:.4g}")
        raise Wrong(f"for C = {C:.3g} expected N = {n_ref:.6g}, D = {d_ref:.6g}; got N = {n:.6g}, D = {d:.6g} "
                    "(relative tolerance 1e-6)")
    return (f"{len(budgets)} budgets from 1e10 to 3.8e25 FLOPs, e.g. Chinchilla's 5.76e23 -> "
            f"N = {math.sqrt(5.76e23 / 120):.3g}, D = {20 * math.sqrt(5.76e23 / 120):.3g} (tolerance 1e-6 relative)")


# --- 9.1.2 the closed-form optimum -----------------------------------------------------------

def _n_opt(C, A, B, alpha, beta):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


def _numeric_n_opt(C, A, B, alpha, beta):
    from scipy.optimize import minimize_scalar

    f = lambda logn: A * math.exp(-alpha * logn) + B * (C / (6 * math.exp(logn))) ** (-beta)
    res = minimize_scalar(f, bounds=(0.0, math.log(C / 6)), method="bounded", options={"xatol": 1e-10})
    return math.exp(res.x)


_LAWS = [
    (1e12, 406.4, 410.7, 0.34, 0.28),  # Hoffmann et al. 2022
    (5.76e23, 406.4, 410.7, 0.34, 0.28),
    (5.76e23, 482.01, 2085.43, 0.3478, 0.3658),  # Besiroglu et al. 2024
    (3e10, 50.0, 8.0, 0.8, 0.2),  # a law like this section's
    (1e15, 10.0, 100.0, 0.5, 0.5),
]


@exercise("9.1.2", "the compute-optimal model size of L(N, D) = E + A/N^a + B/D^b")
def _check_compute_optimal_n(compute_optimal_n) -> str:
    for C, A, B, alpha, beta in _LAWS:
        got = _number(compute_optimal_n(C, A, B, alpha, beta), f"compute_optimal_n({C:.3g}, ...)")
        expected = _n_opt(C, A, B, alpha, beta)
        if _close(got, expected, 1e-6):
            continue
        law = f"C = {C:.3g}, A = {A}, B = {B}, alpha = {alpha}, beta = {beta}"
        if _close(got, (C / 6) / expected, 1e-6):
            raise Wrong(f"for {law} you returned D_opt = {got:.4g}; the question asks for N_opt = {expected:.6g}")
        G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
        if _close(got, G * (C / 6) ** (alpha / (alpha + beta)), 1e-6):
            raise Wrong(f"for {law}: N_opt grows as C^(beta / (alpha + beta)), not C^(alpha / (alpha + beta)); "
                        f"got {got:.4g}, expected {expected:.6g}")
        if _close(got, G * C ** (beta / (alpha + beta)), 1e-6):
            raise Wrong(f"for {law}: got {got:.4g}, expected {expected:.6g}; with C = 6 N D, D = C / (6 N): "
                        "use C / 6, not C")
        if _close(got, (beta * B / (alpha * A)) ** (1 / (alpha + beta)) * (C / 6) ** (beta / (alpha + beta)), 1e-6):
            raise Wrong(f"for {law}: the constant G is (alpha A / (beta B))^(1 / (alpha + beta)), you inverted it; "
                        f"got {got:.4g}, expected {expected:.6g}")
        raise Wrong(f"for {law} expected N_opt = {expected:.6g} (a numerical minimisation along 6 N D = C "
                    f"agrees: {_numeric_n_opt(C, A, B, alpha, beta):.6g}), got {got:.6g} (relative tolerance 1e-6)")
    return (f"{len(_LAWS)} laws and budgets, including Hoffmann et al.'s and Besiroglu et al.'s fits, against the "
            "closed form and a numerical minimisation (tolerance 1e-6 relative)")


# --- 9.1.3 a straight line in log-log axes ----------------------------------------------------

def _synthetic(seed: int):
    rng = np.random.default_rng(seed)
    x = np.geomspace(1e3, 1e7, 12)
    A, alpha = float(rng.uniform(2, 50)), float(rng.uniform(0.05, 0.6))
    y = A * x ** (-alpha) * np.exp(rng.normal(0, 0.01, x.size))
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return x, y, math.exp(intercept), -slope


@exercise("9.1.3", "fit a power law y = A x^(-alpha) by a straight line in log-log axes")
def _check_fit_loglog(fit_loglog) -> str:
    for seed in range(4):
        x, y, A_ref, alpha_ref = _synthetic(seed)
        out = fit_loglog(x.copy(), y.copy())
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Wrong(f"fit_loglog should return a pair (A, alpha), got {type(out).__name__}")
        A, alpha = _number(out[0], "A"), _number(out[1], "alpha")
        if _close(A, A_ref, 1e-6) and abs(alpha - alpha_ref) <= 1e-6:
            continue
        if abs(alpha + alpha_ref) <= 1e-6:
            raise Wrong(f"alpha = {alpha:.6f} has the wrong sign: the law is A x^(-alpha), so alpha = -slope "
                        f"= {alpha_ref:.6f}")
        if abs(alpha - alpha_ref) <= 1e-6 and _close(A, 10 ** math.log(A_ref), 1e-6):
            raise Wrong(f"A = {A:.6g}: you took 10^intercept of a fit in natural logs; use exp(intercept) = {A_ref:.6g}")
        if abs(alpha - alpha_ref) <= 1e-6 and _close(A, math.log(A_ref), 1e-6):
            raise Wrong(f"A = {A:.6g} is the intercept itself, log A; A = exp(intercept) = {A_ref:.6g}")
        if abs(alpha - alpha_ref) <= 1e-6:
            raise Wrong(f"alpha is right ({alpha:.6f}) but A = {A:.6g}, expected {A_ref:.6g}")
        raise Wrong(f"expected A = {A_ref:.6g}, alpha = {alpha_ref:.6f} (least squares of log y on log x), "
                    f"got A = {A:.6g}, alpha = {alpha:.6f} (tolerance 1e-6)")
    x = np.geomspace(1e3, 1e6, 8)
    A, alpha = (_number(v, "fit_loglog output") for v in fit_loglog(x, 7.0 * x ** -0.3))
    if not (_close(A, 7.0, 1e-8) and abs(alpha - 0.3) <= 1e-8):
        raise Wrong(f"on exact data y = 7 x^-0.3 the fit should return (7, 0.3), got ({A:.10g}, {alpha:.10g})")
    return "4 noisy synthetic power laws (A and alpha to 1e-6) and one exact one (y = 7 x^-0.3)"


# --- 9.1.4 tokens per parameter of a fitted law ------------------------------------------------

@exercise("9.1.4", "compute-optimal tokens per parameter of a fitted law")
def _check_tokens_per_parameter(tokens_per_parameter) -> str:
    for C, A, B, alpha, beta in _LAWS:
        got = _number(tokens_per_parameter(C, A, B, alpha, beta), f"tokens_per_parameter({C:.3g}, ...)")
        n = _n_opt(C, A, B, alpha, beta)
        expected = (C / (6 * n)) / n
        if _close(got, expected, 1e-6):
            continue
        law = f"C = {C:.3g}, A = {A}, B = {B}, alpha = {alpha}, beta = {beta}"
        if _close(got, 1 / expected, 1e-6):
            raise Wrong(f"for {law} you returned N/D = {got:.4g}; the ratio asked for is D/N = {expected:.6g}")
        if _close(got, (C / n) / n, 1e-6):
            raise Wrong(f"for {law}: D = C / (6 N), not C / N; got {got:.4g}, expected {expected:.6g}")
        raise Wrong(f"for {law} expected D_opt / N_opt = {expected:.6g}, got {got:.6g} (relative tolerance 1e-6)")
    r = (lambda C, A, B, a, b: (C / (6 * _n_opt(C, A, B, a, b))) / _n_opt(C, A, B, a, b))
    return (f"{len(_LAWS)} laws; at Chinchilla's 5.76e23 FLOPs the rounded Hoffmann fit gives "
            f"{r(5.76e23, 406.4, 410.7, 0.34, 0.28):.1f} tokens per parameter and Besiroglu et al.'s "
            f"{r(5.76e23, 482.01, 2085.43, 0.3478, 0.3658):.1f} (tolerance 1e-6 relative)")
