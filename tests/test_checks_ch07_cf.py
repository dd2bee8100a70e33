"""Each checker of section 7.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest

from utils import recsys
from checker_contract import contract_tests


# --- reference answers ----------------------------------------------------------------------

def cosine_corated(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    if not both.any():
        return 0.0
    x, y = a[both], b[both]
    den = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / den) if den > 0 else 0.0


def precision_recall_at_k(recommended, relevant, k):
    hits = len(set(list(recommended)[:k]) & set(relevant))
    return hits / k, hits / len(set(relevant))


def catalogue_coverage(lists, num_items):
    return len(np.unique(lists)) / num_items


def predict_user_based(R, user, item, neighbours, sims):
    R, sims = np.asarray(R, dtype=float), np.asarray(sims, dtype=float)
    means = np.nanmean(R[neighbours], axis=1)
    return float(np.nanmean(R[user]) + sims @ (R[neighbours, item] - means) / sims.sum())


def _means_without_item(R, user, item, neighbours, sims):
    R = np.asarray(R, dtype=float)
    without = np.array([np.nanmean(np.delete(R[v], item)) for v in neighbours])
    return float(np.nanmean(R[user]) + sims @ (R[neighbours, item] - without) / sims.sum())


def _nan_as_zero(R, user, item, neighbours, sims):
    R0 = np.nan_to_num(np.asarray(R, dtype=float))
    return float(R0[user].mean() + sims @ (R0[neighbours, item] - R0[neighbours].mean(1)) / sims.sum())


def _fargo_only(R, user, item, neighbours, sims):  # right on the worked example only
    return 11 / 3 + (0.8 * (5 - 3.8) + 0.4 * (2 - 2.25)) / 1.2


def cosine_missing_as_zero(a, b):
    a, b = np.nan_to_num(np.asarray(a, float)), np.nan_to_num(np.asarray(b, float))
    den = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / den) if den > 0 else 0.0


def cosine_nan(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def cosine_no_overlap_nan(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    both = ~np.isnan(a) & ~np.isnan(b)
    x, y = a[both], b[both]
    with np.errstate(invalid="ignore"):
        return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def _centred(R, user, item, nb, s):
    R, s = np.asarray(R, float), np.asarray(s, float)
    return R, np.nanmean(R[user]), np.nanmean(R[nb], axis=1), R[nb, item], s


def _raw_average(R, user, item, nb, s):
    R, mu, means, rated, s = _centred(R, user, item, nb, s)
    return float(s @ rated / s.sum())


def _deviation_only(R, user, item, nb, s):
    R, mu, means, rated, s = _centred(R, user, item, nb, s)
    return float(s @ (rated - means) / s.sum())


def _divide_by_count(R, user, item, nb, s):
    R, mu, means, rated, s = _centred(R, user, item, nb, s)
    return float(mu + s @ (rated - means) / len(s))


def _unweighted(R, user, item, nb, s):
    R, mu, means, rated, s = _centred(R, user, item, nb, s)
    return float(mu + (rated - means).mean())


REFERENCE = {"7.1.1": cosine_corated, "7.1.2": predict_user_based, "7.1.3": precision_recall_at_k,
             "7.1.4": catalogue_coverage}
WRONG = [
    ("7.1.1", cosine_missing_as_zero, "co-rated positions"),
    ("7.1.1", cosine_nan, "NaN"),
    ("7.1.1", cosine_no_overlap_nan, "no rating in common"),
    ("7.1.1", lambda a, b: 0.5, "co-rated cosine should be"),
    ("7.1.2", _raw_average, "raw ratings"),
    ("7.1.2", _deviation_only, "add the user's own mean"),
    ("7.1.2", _divide_by_count, "sum of the similarities"),
    ("7.1.2", _unweighted, "weighted by the similarities"),
    ("7.1.2", _means_without_item, "includes their rating of the item"),
    ("7.1.2", _nan_as_zero, "missing ratings as 0"),
    ("7.1.2", _fargo_only, "expected"),
    ("7.1.2", lambda R, u, i, nb, s: "four", "should be a number"),
    ("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, k)[::-1], "swapped"),
    ("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, len(rec)), "cut the list at k"),
    ("7.1.3", lambda rec, rel, k: (precision_recall_at_k(rec, rel, k)[0],) * 2, "not by k"),
    ("7.1.3", lambda rec, rel, k: (len(set(rec[:k]) & set(rel)) / len(rec), precision_recall_at_k(rec, rel, k)[1]),
     "not by the length"),
    ("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, k)[0], "pair"),
    ("7.1.4", lambda lists, n: np.asarray(lists).size / n, "count each item once"),
    ("7.1.4", lambda lists, n: len(np.unique(lists)), "not a count"),
    ("7.1.4", lambda lists, n: len(np.unique(lists)) / np.asarray(lists).size, "number of recommendations"),
    ("7.1.4", lambda lists, n: np.asarray(lists).shape[1] / n, "not per list"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_reference_agrees_with_recsys_and_the_worked_example():
    rec, relevant = [7, 2, 9, 4, 5, 8], {2, 4, 5}
    assert np.allclose(recsys.precision_recall_ndcg([rec], [relevant], 4)[:2], precision_recall_at_k(rec, relevant, 4))
    nan = np.nan
    R = np.array([[5, 2, 4, nan, nan], [4, 2, 5, 3, 5], [2, 4, nan, 1, 2]])  # Ana, Ben, Cai; Fargo last
    assert predict_user_based(R, 0, 4, [1, 2], [0.8, 0.4]) == pytest.approx(4.3833, abs=1e-4)
