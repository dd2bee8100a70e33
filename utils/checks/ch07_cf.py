"""Checkers for section 7.1 (content-based and collaborative filtering)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise


def _number(value, what: str) -> float:
    if isinstance(value, bool):
        raise Wrong(f"{what} should be a number, got a bool")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    return out


# --- 7.1.1 --------------------------------------------------------------------------------

def _cosine_corated(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    x, y = a[both], b[both]
    den = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / den) if both.any() and den > 0 else 0.0


@exercise("7.1.1", "cosine similarity over co-rated items")
def _check_cosine_corated(cosine_corated) -> str:
    nan = np.nan
    cases = [
        ([5, 3, nan, 4, nan], [4, nan, 2, 5, 1]),
        ([1, 2, 3, nan], [3, 2, 1, 4]),
        ([nan, 4, 4, 2, 5, nan], [2, 5, nan, 1, 4, 3]),
    ]
    rng = np.random.default_rng(71)
    for _ in range(20):
        a = rng.integers(1, 6, size=12).astype(float)
        b = rng.integers(1, 6, size=12).astype(float)
        a[rng.random(12) < 0.4] = nan
        b[rng.random(12) < 0.4] = nan
        cases.append((a, b))
    for a, b in cases:
        got = _number(cosine_corated(np.array(a, dtype=float), np.array(b, dtype=float)),
                      "cosine_corated(a, b)")
        expected = _cosine_corated(a, b)
        if np.isnan(got):
            raise Wrong("the result is NaN: np.nan spreads through sums and products; keep only the "
                        "positions where both vectors are rated (np.isnan) before computing anything")
        if not np.isclose(got, expected, atol=1e-9):
            full = np.nan_to_num(np.asarray(a, float)) @ np.nan_to_num(np.asarray(b, float)) / (
                np.linalg.norm(np.nan_to_num(np.asarray(a, float))) * np.linalg.norm(np.nan_to_num(np.asarray(b, float))))
            if np.isclose(got, full, atol=1e-9):
                raise Wrong("the norms must use only the co-rated positions too: you used each vector's "
                            "full length (missing as 0), which is the chapter's version, not this one")
            raise Wrong(f"for a={np.asarray(a).tolist()} and b={np.asarray(b).tolist()} the co-rated cosine is "
                        f"{expected:.4f}, you returned {got:.4f}")
    try:
        none = cosine_corated(np.array([1.0, nan, 3.0]), np.array([nan, 2.0, nan]))
    except (ValueError, ZeroDivisionError, FloatingPointError) as err:
        raise Wrong(f"two vectors with no rating in common should give 0.0, your code raised "
                    f"{type(err).__name__}")
    none = _number(none, "cosine_corated with nothing in common")
    if np.isnan(none) or none != 0.0:
        raise Wrong(f"two vectors with no rating in common should give 0.0, you returned {none}")
    return "matches the co-rated cosine on 23 pairs of vectors, and gives 0.0 when nothing is shared"


# --- 7.1.2 --------------------------------------------------------------------------------

_ANA = np.array([5, 2, 4, np.nan])  # Alien, Brazil, Casablanca, Dune (Fargo unknown)
_BEN = np.array([4, 2, 5, 3, 5])
_CAI = np.array([2, 4, np.nan, 1, 2])
_SIMS = np.array([0.8, 0.4])


def _fargo_prediction() -> float:
    mean_ana = np.nanmean(_ANA)
    means = np.array([np.nanmean(_BEN), np.nanmean(_CAI)])
    fargo = np.array([_BEN[-1], _CAI[-1]])
    return float(mean_ana + _SIMS @ (fargo - means) / _SIMS.sum())


@exercise("7.1.2", "a mean-centred prediction by hand")
def _check_fargo(answer) -> str:
    got = _number(answer, "the prediction")
    expected = _fargo_prediction()
    if np.isclose(got, expected, atol=0.01):
        return f"Ana's predicted rating of Fargo is {expected:.3f} stars"
    mean_ana = np.nanmean(_ANA)
    fargo = np.array([_BEN[-1], _CAI[-1]])
    means = np.array([np.nanmean(_BEN), np.nanmean(_CAI)])
    means_without = np.array([np.nanmean(_BEN[:-1]), np.nanmean(_CAI[:-1])])
    mistakes = [
        (_SIMS @ fargo / _SIMS.sum(), "that is the similarity-weighted average of the raw ratings: subtract "
                                      "each neighbour's mean first, then add Ana's mean back"),
        (expected - mean_ana, "that is only the weighted deviation: add Ana's own mean rating to it"),
        (mean_ana + _SIMS @ (fargo - means) / 2, "divide by the sum of the similarities (0.8 + 0.4), "
                                                 "not by the number of neighbours"),
        (mean_ana + (fargo - means).mean(), "the deviations must be weighted by the similarities"),
        (mean_ana + _SIMS @ (fargo - means_without) / _SIMS.sum(),
         "each neighbour's mean includes their rating of Fargo (the mean of ALL their ratings)"),
    ]
    for value, message in mistakes:
        if np.isclose(got, value, atol=0.01):
            raise Wrong(message)
    raise Wrong(f"{got:.3f} is not it: compute Ana's mean, each neighbour's mean, their deviations on "
                "Fargo, and the similarity-weighted average of those deviations")


# --- 7.1.3 --------------------------------------------------------------------------------

def _pr_at_k(recommended, relevant, k):
    top = list(recommended)[:k]
    hits = sum(item in set(relevant) for item in top)
    return hits / k, hits / len(set(relevant))


@exercise("7.1.3", "precision@k and recall@k of one list")
def _check_precision_recall(precision_recall_at_k) -> str:
    cases = [([7, 2, 9, 4, 5, 8], {2, 4, 5}, 4), ([1, 2, 3], {3}, 3), ([4, 8, 15, 16, 23, 42], {8, 42, 99, 100, 4}, 5),
             ([10, 11, 12], {1, 2}, 2)]
    rng = np.random.default_rng(73)
    for _ in range(20):
        rec = rng.permutation(40)[:12].tolist()
        relevant = set(rng.choice(40, size=int(rng.integers(1, 8)), replace=False).tolist())
        cases.append((rec, relevant, int(rng.integers(1, 12))))
    for rec, relevant, k in cases:
        out = precision_recall_at_k(list(rec), set(relevant), k)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise Wrong("return a pair (precision, recall)")
        p, r = _number(out[0], "precision"), _number(out[1], "recall")
        p_ref, r_ref = _pr_at_k(rec, relevant, k)
        if np.isclose(p, p_ref) and np.isclose(r, r_ref):
            continue
        hits = sum(item in relevant for item in rec[:k])
        all_hits = sum(item in relevant for item in rec)
        where = f"for recommended={list(rec)}, relevant={sorted(relevant)}, k={k}"
        mistakes = [
            ((r_ref, p_ref), f"precision and recall are swapped {where}"),
            ((all_hits / k, all_hits / len(relevant)), f"only the first k recommendations count: cut the list at k ({where})"),
            ((all_hits / len(rec), all_hits / len(relevant)),
             f"only the first k recommendations count: cut the list at k ({where})"),
            ((p_ref, hits / k), f"recall divides the hits by the number of relevant items, not by k ({where})"),
            ((hits / len(rec), r_ref), f"precision@k divides the hits by k, not by the length of the whole list ({where})"),
        ]
        for (p_wrong, r_wrong), message in mistakes:
            if np.isclose(p, p_wrong) and np.isclose(r, r_wrong):
                raise Wrong(message)
        raise Wrong(f"{where} expected (precision, recall) = ({p_ref:.4f}, {r_ref:.4f}), got ({p:.4f}, {r:.4f})")
    return f"matches precision@k and recall@k (as in utils.recsys) on {len(cases)} lists"


# --- 7.1.4 --------------------------------------------------------------------------------

@exercise("7.1.4", "catalogue coverage")
def _check_coverage(catalogue_coverage) -> str:
    rng = np.random.default_rng(74)
    cases = [(np.array([[0, 1, 2], [1, 2, 3], [2, 3, 0]]), 10)]
    for _ in range(10):
        num_items = int(rng.integers(20, 200))
        lists = np.stack([rng.choice(num_items // 2, size=5, replace=False) for _ in range(int(rng.integers(2, 30)))])
        cases.append((lists, num_items))
    for lists, num_items in cases:
        got = _number(catalogue_coverage(lists.copy(), num_items), "the coverage")
        expected = len(np.unique(lists)) / num_items
        if np.isclose(got, expected):
            continue
        where = f"for {len(lists)} lists of {lists.shape[1]} items and num_items={num_items}"
        if np.isclose(got, lists.size / num_items):
            raise Wrong(f"count each item once, however many lists it appears in (np.unique) ({where})")
        if np.isclose(got, len(np.unique(lists))):
            raise Wrong(f"return a share of the catalogue (divide by num_items), not a count ({where})")
        if np.isclose(got, len(np.unique(lists)) / lists.size):
            raise Wrong(f"divide by num_items, the size of the catalogue, not by the number of "
                        f"recommendations ({where})")
        if np.isclose(got, lists.shape[1] / num_items):
            raise Wrong(f"coverage is measured over all users' lists together, not per list ({where})")
        raise Wrong(f"{where} the coverage is {expected:.4f}, you returned {got:.4f}")
    return f"matches the share of distinct recommended items on {len(cases)} sets of lists"
