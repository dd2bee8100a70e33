"""Each checker of section 7.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest

from utils import recsys
from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args, **kwargs):
    raise NotImplementedError


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


FARGO = 11 / 3 + (0.8 * (5 - 3.8) + 0.4 * (2 - 2.25)) / 1.2  # mean(5, 2, 4) + weighted deviations

REFERENCE = {"7.1.1": cosine_corated, "7.1.2": FARGO, "7.1.3": precision_recall_at_k, "7.1.4": catalogue_coverage}


@pytest.mark.parametrize("ex_id", sorted(REFERENCE))
def test_reference_passes(ex_id):
    result = evaluate(ex_id, REFERENCE[ex_id])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("ex_id", ["7.1.1", "7.1.3", "7.1.4"])
def test_stub_is_not_attempted(ex_id):
    assert evaluate(ex_id, stub).status == NOT_ATTEMPTED


def test_ellipsis_is_not_attempted():
    assert evaluate("7.1.2", ...).status == NOT_ATTEMPTED


def test_reference_agrees_with_recsys():
    rec, relevant = [7, 2, 9, 4, 5, 8], {2, 4, 5}
    assert np.allclose(recsys.precision_recall_ndcg([rec], [relevant], 4)[:2], precision_recall_at_k(rec, relevant, 4))
    assert FARGO == pytest.approx(4.3833, abs=1e-4)


# --- wrong answers ----------------------------------------------------------------------------

def failed(ex_id, answer, phrase):
    result = evaluate(ex_id, answer)
    assert result.status == FAILED, result
    assert phrase in result.message, result.message


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


def test_cosine_wrong_answers():
    failed("7.1.1", cosine_missing_as_zero, "co-rated positions")
    failed("7.1.1", cosine_nan, "NaN")
    failed("7.1.1", cosine_no_overlap_nan, "no rating in common")
    failed("7.1.1", lambda a, b: 0.5, "co-rated cosine is")


@pytest.mark.parametrize("wrong, phrase", [
    ((0.8 * 5 + 0.4 * 2) / 1.2, "raw ratings"),
    (FARGO - 11 / 3, "add Ana's own mean"),
    (11 / 3 + (0.8 * 1.2 + 0.4 * (2 - 2.25)) / 2, "sum of the similarities"),
    (11 / 3 + (1.2 - 0.25) / 2, "weighted by the similarities"),
    (11 / 3 + (0.8 * 1.5 + 0.4 * (2 - 7 / 3)) / 1.2, "includes their rating of Fargo"),
    (11 / 3, "is not it"),
    ("four", "should be a number"),
])
def test_fargo_wrong_answers(wrong, phrase):
    failed("7.1.2", wrong, phrase)


def test_precision_recall_wrong_answers():
    failed("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, k)[::-1], "swapped")
    failed("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, len(rec)), "cut the list at k")
    failed("7.1.3", lambda rec, rel, k: (precision_recall_at_k(rec, rel, k)[0],) * 2, "not by k")
    failed("7.1.3", lambda rec, rel, k: (len(set(rec[:k]) & set(rel)) / len(rec), precision_recall_at_k(rec, rel, k)[1]),
           "not by the length")
    failed("7.1.3", lambda rec, rel, k: precision_recall_at_k(rec, rel, k)[0], "pair")


def test_coverage_wrong_answers():
    lists_size = lambda lists, n: np.asarray(lists).size / n
    failed("7.1.4", lists_size, "count each item once")
    failed("7.1.4", lambda lists, n: len(np.unique(lists)), "not a count")
    failed("7.1.4", lambda lists, n: len(np.unique(lists)) / np.asarray(lists).size, "number of recommendations")
    failed("7.1.4", lambda lists, n: np.asarray(lists).shape[1] / n, "not per list")
