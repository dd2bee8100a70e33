"""Each checker of section 2.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np

from checker_contract import contract_tests
from utils import data, linalg


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def solve_2x2(A, b):
    (a, b12), (c, d) = A
    det = a * d - b12 * c
    if abs(det) < 1e-12:
        raise ValueError("singular")
    return np.array([d * b[0] - b12 * b[1], -c * b[0] + a * b[1]]) / det


def second(S):
    lam1, v1 = linalg.power_iteration(S)
    return linalg.power_iteration(S - lam1 * np.outer(v1, v1))


def k90():
    ratio = linalg.pca(data.load("digits").X, k=64).explained_variance_ratio
    return int(np.searchsorted(np.cumsum(ratio), 0.9) + 1)


REFERENCE = {"2.1.1": rotation, "2.1.2": solve_2x2, "2.1.3": second, "2.1.4": k90()}

WRONG = [
    ("2.1.1", lambda t: rotation(t).T, "clockwise"),
    ("2.1.1", lambda t: rotation(np.radians(t)), "radians"),
    ("2.1.1", lambda t: np.eye(2), "maps (1, 0)"),
    ("2.1.1", lambda t: np.eye(3), "shape (2, 2)"),
    ("2.1.2", lambda A, b: -solve_2x2(A, b), "sign is flipped"),
    ("2.1.2", lambda A, b: np.linalg.lstsq(A, b, rcond=None)[0], "singular matrix"),
    ("2.1.2", lambda A, b: np.array([b[0] / A[0, 0], b[1] / A[1, 1]]), "A @ x should equal b"),
    ("2.1.3", lambda S: linalg.power_iteration(S), "dominant eigenvalue"),
    ("2.1.3", lambda S: (second(S)[0], 2 * second(S)[1]), "length 1"),
    ("2.1.3", lambda S: second(S)[0], "tuple"),
    ("2.1.4", REFERENCE["2.1.4"] - 1, "off by one"),
    ("2.1.4", 10, "smallest k"),
    ("2.1.4", 21.0, "integer"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
