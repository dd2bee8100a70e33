"""Each checker of section 7.3 accepts the reference answer and rejects plausible mistakes."""
import numpy as np

from checker_contract import contract_tests


def fold_in_solve(Q, t, reg):
    return np.linalg.solve(Q.T @ Q + reg * np.eye(Q.shape[1]), Q.T @ t)


def causal_counts(items, timestamps, num_items):
    items, timestamps = np.asarray(items), np.asarray(timestamps)
    order = np.lexsort((timestamps, items))  # group by item, in time order
    it, ts = items[order], timestamps[order]
    first_of_item = np.searchsorted(it, it, side="left")
    first_of_tie = np.array([np.searchsorted(ts[first_of_item[n]:n + 1], ts[n]) + first_of_item[n]
                             for n in range(len(it))], dtype=np.int64)
    out = np.empty(len(items), dtype=np.int64)
    out[order] = first_of_tie - first_of_item
    return out


def top_k_excluding(scores, k, exclude):
    s = np.array(scores, dtype=float)
    s[np.asarray(exclude, dtype=np.int64)] = -np.inf
    part = np.argpartition(-s, k - 1)[:k]
    return part[np.argsort(-s[part], kind="stable")]


def implicit_fold_in(Y, items, reg, alpha):
    Yi = Y[items]
    return np.linalg.solve(Y.T @ Y + alpha * Yi.T @ Yi + reg * np.eye(Y.shape[1]), (1 + alpha) * Yi.sum(0))


def _sequential(items, timestamps, num_items):
    return np.array([np.sum(np.asarray(items[:n]) == items[n]) for n in range(len(items))])


def _ascending(s, k, e):
    s = np.array(s, dtype=float)
    s[e] = np.inf
    return np.argsort(s, kind="stable")[:k]


def _rated_only(Y, items, reg, alpha):
    Yi = Y[items]
    return np.linalg.solve((1 + alpha) * Yi.T @ Yi + reg * np.eye(Y.shape[1]), (1 + alpha) * Yi.sum(0))


REFERENCE = {"7.3.1": fold_in_solve, "7.3.2": causal_counts, "7.3.3": top_k_excluding, "7.3.4": implicit_fold_in}
WRONG = [
    ("7.3.1", lambda Q, t, reg: np.linalg.lstsq(Q, t, rcond=None)[0], "plain least squares"),
    ("7.3.1", lambda Q, t, reg: fold_in_solve(Q, t, 2 * reg), "factor 2"),
    ("7.3.1", lambda Q, t, reg: fold_in_solve(Q, t, reg)[:-1], "shape"),
    ("7.3.1", lambda Q, t, reg: Q.T @ t / (len(t) + reg), "differs"),
    ("7.3.2", lambda it, ts, n: np.bincount(it, minlength=n)[it], "later events"),
    ("7.3.2", _sequential, "same timestamp"),
    ("7.3.2", lambda it, ts, n: causal_counts(it, ts, n) + 1, "the event itself"),
    ("7.3.2", lambda it, ts, n: causal_counts(it, ts, n)[:-1], "one count per event"),
    ("7.3.2", lambda it, ts, n: np.maximum(causal_counts(it, ts, n) - 1, 0), "expected"),
    ("7.3.3", lambda s, k, e: np.argsort(-s)[:k], "excluded"),
    ("7.3.3", lambda s, k, e: np.sort(top_k_excluding(s, k, e)), "wrong order"),
    ("7.3.3", _ascending, "worst"),
    ("7.3.3", lambda s, k, e: top_k_excluding(s, k + 1, e), "shape"),
    ("7.3.3", lambda s, k, e: top_k_excluding(s, k, e) if len(s) > 100 else np.argsort(-s)[:k], "excluded"),
    ("7.3.4", _rated_only, "ALL items"),
    ("7.3.4", lambda Y, it, reg, a: np.linalg.solve(Y.T @ Y + a * Y[it].T @ Y[it] + reg * np.eye(Y.shape[1]),
                                                    a * Y[it].sum(0)), "right-hand side"),
    ("7.3.4", lambda Y, it, reg, a: np.linalg.solve(Y.T @ Y + reg * np.eye(Y.shape[1]), (1 + a) * Y[it].sum(0)),
     "confidences are missing"),
    ("7.3.4", lambda Y, it, reg, a: implicit_fold_in(Y, it, reg, a)[:-1], "shape"),
    ("7.3.4", lambda Y, it, reg, a: implicit_fold_in(Y, it, 2 * reg, a), "differs"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
