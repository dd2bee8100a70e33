"""Each checker of section 3.5 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests

from utils.checks import evaluate


def causal(T):
    return np.tril(np.ones((T, T), dtype=bool))


def split_heads(X, H):
    B, T, E = X.shape
    if E % H:
        raise ValueError("not divisible")
    return X.reshape(B, T, H, E // H).transpose(0, 2, 1, 3)


def shift(k, d, sign=1.0):
    omega = 10000.0 ** (-np.arange(0, d, 2) / d)
    M = np.zeros((d, d))
    for i, w in enumerate(omega):
        c, s = np.cos(w * k), sign * np.sin(w * k)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return M


def shift_wrong_frequency(k, d):
    omega = 10000.0 ** (-np.arange(d // 2) / d)  # i instead of 2i
    M = np.zeros((d, d))
    for i, w in enumerate(omega):
        c, s = np.cos(w * k), np.sin(w * k)
        M[2 * i:2 * i + 2, 2 * i:2 * i + 2] = [[c, s], [-s, c]]
    return M


def no_check_split(X, H):
    B, T, E = X.shape
    return X.reshape(B, T, H, -1).transpose(0, 2, 1, 3) if E % H == 0 else np.zeros((B, H, T, E // H))


E, FF = 512, 2048
BASE = (4 * E * E + 4 * E) + (2 * E * FF + FF + E) + 4 * E

REFERENCE = {"3.5.1": causal, "3.5.2": split_heads, "3.5.3": shift, "3.5.4": BASE}

WRONG = [
    ("3.5.1", lambda T: causal(T).T, "future"),
    ("3.5.1", lambda T: ~causal(T), "inverted"),
    ("3.5.1", lambda T: np.tril(np.ones((T, T), dtype=bool), k=-1), "diagonal"),
    ("3.5.1", lambda T: causal(T).astype(float), "dtype"),
    ("3.5.1", lambda T: np.where(causal(T), 0.0, -np.inf), "additive mask"),
    ("3.5.1", lambda T: causal(T + 1), "shape"),
    ("3.5.1", lambda T: np.ones((T, T), dtype=bool), "differs in"),
    ("3.5.2", lambda X, H: X.reshape(X.shape[0], H, X.shape[1], -1), "single reshape"),
    ("3.5.2", lambda X, H: X.reshape(X.shape[0], X.shape[1], H, -1), "did not move the head axis"),
    ("3.5.2", lambda X, H: X.reshape(X.shape[0], X.shape[1], -1, H).transpose(0, 3, 1, 2), "interleaved"),
    ("3.5.2", no_check_split, "ValueError"),
    ("3.5.2", lambda X, H: X, "should have shape"),
    ("3.5.3", lambda k, d: shift(k, d, sign=-1.0), "wrong way"),
    ("3.5.3", shift_wrong_frequency, "10000^(−2i/d)"),
    ("3.5.3", lambda k, d: np.eye(d + 1), "shape"),
    ("3.5.4", BASE - 4 * E - FF - E, "biases"),
    ("3.5.4", BASE - 4 * E, "LayerNorms"),
    ("3.5.4", BASE + 7 * (4 * E * E + 4 * E), "heads"),
    ("3.5.4", 6 * BASE, "6-layer"),
    ("3.5.4", BASE + 4 * E * E + 4 * E + 2 * E, "decoder"),
    ("3.5.4", float(BASE), "integer"),
    ("3.5.4", "3152384", "integer"),
    ("3.5.4", 3_000_000, "not right"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_library_versions_pass_their_own_checkers():
    from utils import attention

    assert evaluate("3.5.1", attention.causal_mask).passed
