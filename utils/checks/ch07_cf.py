"""Checkers for section 7.1 (content-based and collaborative filtering)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


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
            raise not_close(f"for a={np.asarray(a).tolist()} and b={np.asarray(b).tolist()} the co-rated cosine",
                            got, expected, rtol=1e-5, atol=1e-9)
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

def _user_based(R, user, item, neighbours, sims) -> float:
    R = np.asarray(R, dtype=float)
    neighbours, sims = np.asarray(neighbours), np.asarray(sims, dtype=float)
    means = np.nanmean(R[neighbours], axis=1)
    return float(np.nanmean(R[user]) + sims @ (R[neighbours, item] - means) / sims.sum())


def _user_cases():
    """Hidden rating matrices (NaN = missing): the user has not rated the item, the neighbours have."""
    rng = np.random.default_rng(712)
    cases = []
    for num_users, num_items, n_nb in ((6, 8, 2), (12, 15, 4), (20, 30, 6)):
        R = rng.integers(1, 6, size=(num_users, num_items)).astype(float)
        R[rng.random(R.shape) < 0.35] = np.nan
        user, item = 0, num_items - 1
        R[user, item] = np.nan
        R[user, :3] = rng.integers(1, 6, 3)  # the user has ratings
        neighbours = rng.choice(np.arange(1, num_users), size=n_nb, replace=False)
        R[neighbours, item] = rng.integers(1, 6, n_nb)  # every neighbour rated the item
        sims = rng.uniform(0.1, 0.9, n_nb)
        cases.append((R, user, item, neighbours, sims))
    return cases


@exercise("7.1.2", "a mean-centred user-based prediction")
def _check_user_based(predict_user_based) -> str:
    for R, user, item, neighbours, sims in _user_cases():
        got = _number(predict_user_based(R.copy(), user, item, neighbours.copy(), sims.copy()), "the prediction")
        expected = _user_based(R, user, item, neighbours, sims)
        if np.isclose(got, expected, atol=1e-9):
            continue
        mean_u = np.nanmean(R[user])
        means = np.nanmean(R[neighbours], axis=1)
        rated = R[neighbours, item]
        without = np.array([np.nanmean(np.delete(R[v], item)) for v in neighbours])
        mistakes = [
            (sims @ rated / sims.sum(), "that is the similarity-weighted average of the raw ratings: subtract "
                                        "each neighbour's mean first, then add the user's mean back"),
            (expected - mean_u, "that is only the weighted deviation: add the user's own mean rating to it"),
            (mean_u + sims @ (rated - means) / len(sims), "divide by the sum of the similarities, "
                                                          "not by the number of neighbours"),
            (mean_u + (rated - means).mean(), "the deviations must be weighted by the similarities"),
            (mean_u + sims @ (rated - without) / sims.sum(),
             "each neighbour's mean includes their rating of the item (the mean of ALL their ratings)"),
            (float(np.nan_to_num(R[user]).mean()) + sims @ (rated - np.nan_to_num(R[neighbours]).mean(1)) / sims.sum(),
             "the means count missing ratings as 0: average only the rated entries (np.nanmean)"),
        ]
        for value, message in mistakes:
            if np.isclose(got, value, atol=1e-9):
                raise Wrong(message)
        yours, right = numbers(got, expected)
        raise Wrong(f"for a hidden {R.shape[0]}×{R.shape[1]} matrix with {len(neighbours)} neighbours: expected "
                    f"{right}, got {yours} (the check allows {tolerance(1e-5, 1e-9)}). Compute the user's mean, "
                    "each neighbour's mean, their deviations on the item, and the similarity-weighted average "
                    "of those deviations")
    return "mean-centred user-based predictions right on three hidden rating matrices"


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
        (p_got, p_right), (r_got, r_right) = numbers(p, p_ref), numbers(r, r_ref)
        raise Wrong(f"{where} expected (precision, recall) = ({p_right}, {r_right}), got ({p_got}, {r_got}) "
                    f"(the check allows {tolerance(1e-5, 1e-8)})")
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
        raise not_close(f"{where} the coverage", got, expected, rtol=1e-5, atol=1e-8)
    return f"matches the share of distinct recommended items on {len(cases)} sets of lists"
