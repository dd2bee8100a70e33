"""Each checker of section 9.1 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
from checker_contract import contract_tests


def chinchilla_rule(C):
    n = math.sqrt(C / 120)
    return n, 20 * n


def compute_optimal_n(C, A, B, alpha, beta):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


def fit_loglog(x, y):
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return math.exp(intercept), -slope


def tokens_per_parameter(C, A, B, alpha, beta):
    n = compute_optimal_n(C, A, B, alpha, beta)
    return C / (6 * n) / n


REFERENCE = {"9.1.1": chinchilla_rule, "9.1.2": compute_optimal_n, "9.1.3": fit_loglog,
             "9.1.4": tokens_per_parameter}


def _g(A, B, alpha, beta):
    return (alpha * A / (beta * B)) ** (1 / (alpha + beta))


WRONG = [
    ("9.1.1", lambda C: (20 * math.sqrt(C / 120), math.sqrt(C / 120)), "N first"),
    ("9.1.1", lambda C: (math.sqrt(C / 6), 20 * math.sqrt(C / 6)), "C = 120 N^2"),
    ("9.1.1", lambda C: (C / 120, 20 * C / 120), "square root"),
    ("9.1.1", lambda C: (math.sqrt(C / 120), 6 * math.sqrt(C / 120)), "expected 20 N"),
    ("9.1.1", lambda C: math.sqrt(C / 120), "pair (N, D)"),
    ("9.1.1", lambda C: (math.sqrt(C / 100), 20 * math.sqrt(C / 100)), "relative tolerance"),
    ("9.1.2", lambda C, A, B, a, b: (C / 6) / compute_optimal_n(C, A, B, a, b), "D_opt"),
    ("9.1.2", lambda C, A, B, a, b: _g(A, B, a, b) * (C / 6) ** (a / (a + b)), "not C^(alpha"),
    ("9.1.2", lambda C, A, B, a, b: _g(A, B, a, b) * C ** (b / (a + b)), "use C / 6"),
    ("9.1.2", lambda C, A, B, a, b: _g(B, A, b, a) ** 0 * (b * B / (a * A)) ** (1 / (a + b)) * (C / 6) ** (b / (a + b)),
     "inverted"),
    ("9.1.2", lambda C, A, B, a, b: math.sqrt(C / 120), "numerical minimisation"),
    ("9.1.2", lambda C, A, B, a, b: float("nan"), "is nan"),
    ("9.1.3", lambda x, y: (fit_loglog(x, y)[0], -fit_loglog(x, y)[1]), "wrong sign"),
    ("9.1.3", lambda x, y: (10 ** math.log(fit_loglog(x, y)[0]), fit_loglog(x, y)[1]), "10^intercept"),
    ("9.1.3", lambda x, y: (math.log(fit_loglog(x, y)[0]), fit_loglog(x, y)[1]), "intercept itself"),
    ("9.1.3", lambda x, y: tuple(np.polyfit(x, y, 1)), "least squares of log y"),
    ("9.1.3", lambda x, y: fit_loglog(x, y)[1], "pair (A, alpha)"),
    ("9.1.4", lambda C, A, B, a, b: 1 / tokens_per_parameter(C, A, B, a, b), "N/D"),
    ("9.1.4", lambda C, A, B, a, b: 6 * tokens_per_parameter(C, A, B, a, b), "not C / N"),
    ("9.1.4", lambda C, A, B, a, b: 20.0, "expected D_opt / N_opt"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
