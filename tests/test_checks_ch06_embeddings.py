"""Each checker of section 6.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
from checker_contract import contract_tests

from utils.checks import FAILED, NOT_ATTEMPTED, evaluate



def cosine(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if not np.linalg.norm(a) or not np.linalg.norm(b):
        raise ValueError("zero vector")
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def ppmi(C, log=np.log, clip=True, swap=False):
    C = np.asarray(C, dtype=float)
    P = C / C.sum()
    P_w, P_c = P.sum(axis=1, keepdims=True), P.sum(axis=0, keepdims=True)
    if swap:  # the mistake: column sums for the words, row sums for the contexts
        P_w, P_c = P.sum(axis=0)[:, None], P.sum(axis=1)[None, :]
    with np.errstate(divide="ignore"):
        pmi = log(P) - log(P_w) - log(P_c)
    if not clip:
        return np.where(C > 0, pmi, 0.0)
    return np.maximum(pmi, 0)


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def sgns_loss(v, u_pos, U_neg):
    return float(-log_sigmoid(u_pos @ v) - log_sigmoid(-(U_neg @ v)).sum())


def nearest(E, i, k, score="cosine", keep_self=False, ascending=False):
    E = np.asarray(E, dtype=float)
    if score == "cosine":
        En = E / np.linalg.norm(E, axis=1, keepdims=True)
        sims = En @ En[i]
    elif score == "dot":
        sims = E @ E[i]
    else:
        sims = -np.linalg.norm(E - E[i], axis=1)
    if not keep_self:
        sims[i] = -np.inf if not ascending else np.inf
    order = np.argsort(sims if ascending else -sims)
    return order[:k]


REFERENCE = {"6.1.1": cosine, "6.1.2": ppmi, "6.1.3": sgns_loss, "6.1.4": nearest}


def cosine_no_zero_check(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def nearest_right_set_wrong_order(E, i, k):
    return nearest(E, i, k)[::-1]


def nearest_with_self(E, i, k):
    return nearest(E, i, k, keep_self=True)


WRONG = [
    ("6.1.1", lambda a, b: float(np.dot(a, b)), "dot product"),
    ("6.1.1", lambda a, b: float(np.linalg.norm(np.asarray(a) - np.asarray(b))), "Euclidean distance"),
    ("6.1.1", lambda a, b: float(np.arccos(cosine(a, b))), "angle"),
    ("6.1.1", lambda a, b: float(np.dot(a, b) / np.linalg.norm(a)), "only one of the two lengths"),
    ("6.1.1", lambda a, b: float(np.dot(a, b) / (np.dot(a, a) * np.dot(b, b))), "squared lengths"),
    ("6.1.1", cosine_no_zero_check, "zero vector"),
    ("6.1.1", lambda a, b: np.array([cosine(a, b)] * 2), "one number"),
    ("6.1.2", lambda C: ppmi(C, clip=False), "that is PMI"),
    ("6.1.2", lambda C: ppmi(C, log=np.log2), "log base 2"),
    ("6.1.2", lambda C: ppmi(C, swap=True), "marginals are swapped"),
    ("6.1.2", lambda C: np.zeros_like(np.asarray(C, dtype=float)), "every cell is 0"),
    ("6.1.2", lambda C: np.where(np.asarray(C) > 0, ppmi(C), np.nan), "nan or inf"),
    ("6.1.2", lambda C: ppmi(C)[:, :-1], "shape"),
    ("6.1.2", lambda C: ppmi(C) + 0.01, "PPMI of cell"),
    ("6.1.3", lambda v, u, U: -sgns_loss(v, u, U), "sign is flipped"),
    ("6.1.3", lambda v, u, U: float(-log_sigmoid(u @ v) - log_sigmoid(U @ v).sum()), "log σ(-u·v)"),
    ("6.1.3", lambda v, u, U: float(-log_sigmoid(u @ v) - log_sigmoid(-(U @ v)).mean()), "averaged"),
    ("6.1.3", lambda v, u, U: float(-log_sigmoid(u @ v)), "left out the noise words"),
    ("6.1.3", lambda v, u, U: float(-1 / (1 + np.exp(-(u @ v))) - (1 / (1 + np.exp(U @ v))).sum()),
     "logarithm of the sigmoids"),
    ("6.1.3", lambda v, u, U: float(-np.log(1 / (1 + np.exp(-(u @ v)))) - np.log(1 / (1 + np.exp(U @ v))).sum()),
     "np.logaddexp"),  # the naive formula overflows for scores of ±900
    ("6.1.4", nearest_with_self, "itself"),
    ("6.1.4", nearest_right_set_wrong_order, "wrong order"),
    ("6.1.4", lambda E, i, k: nearest(E, i, k, score="dot"), "dot product"),
    ("6.1.4", lambda E, i, k: nearest(E, i, k, score="euclid"), "Euclidean"),
    ("6.1.4", lambda E, i, k: nearest(E, i, k, ascending=True), "LEAST similar"),
    ("6.1.4", lambda E, i, k: nearest(E, i, k + 1), "should return"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_a_crashing_answer_is_reported_not_raised():
    result = evaluate("6.1.3", lambda v, u, U: v @ U)  # shapes do not fit
    assert result.status == FAILED and "raised" in result.message
