"""Shared pieces of the recommendation chapter: splits, the rating matrix, metrics.

Every recommender in chapter 7 is trained on the same split and judged by the same
functions, so that their numbers can be compared::

    from utils import data, recsys
    ml = data.load("movielens100k")
    split = recsys.split_by_time(ml.ratings, test_per_user=10)
    R = recsys.rating_matrix(split.train, split.num_users, split.num_items)
    scores = ...                                  # (num_users, num_items), higher = better
    recsys.ranking_report(scores, split, k=10)    # precision@k, recall@k, NDCG@k, hit rate

Users and items are re-indexed from 0 (``split.user_index`` maps the dataset's ids).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Split:
    """Train and test ratings (pandas DataFrames with 0-based ``u`` and ``i`` columns)."""

    train: "object"
    test: "object"
    num_users: int
    num_items: int
    user_index: dict
    item_index: dict

    def test_items(self) -> list[np.ndarray]:
        """For each user (0..num_users-1), the items in their test set."""
        groups = self.test.groupby("u")["i"].apply(np.asarray)
        return [groups.get(u, np.array([], dtype=np.int64)) for u in range(self.num_users)]


def _check_ratings(ratings) -> None:
    needed = {"user", "item", "rating", "timestamp"}
    if not hasattr(ratings, "columns") or not needed <= set(ratings.columns):
        raise ValueError(f"ratings must be a DataFrame with columns {sorted(needed)} "
                         "(data.load('movielens100k').ratings)")
    if len(ratings) == 0:
        raise ValueError("ratings is empty")


def split_by_time(ratings, test_per_user: int = 10) -> Split:
    """Each user's ``test_per_user`` most recent ratings are the test set; the rest train.

    A per-user split ("leave the last n out"): every user's test ratings come after that
    user's own training ratings, so the model is never asked to predict a user's past from
    their future, as a random split would. It is NOT a global time cutoff: users are active
    at different times, so the training set also holds other users' ratings dated after a
    given test rating (measure it with :func:`leak_share`). Every user keeps at least one
    training rating.
    """
    _check_ratings(ratings)
    if not isinstance(test_per_user, (int, np.integer)) or test_per_user < 1:
        raise ValueError(f"test_per_user must be a positive integer, got {test_per_user!r}")
    users = np.sort(ratings["user"].unique())
    items = np.sort(ratings["item"].unique())
    user_index = {int(u): k for k, u in enumerate(users)}
    item_index = {int(i): k for k, i in enumerate(items)}
    df = ratings.assign(u=ratings["user"].map(user_index).astype("int64"),
                        i=ratings["item"].map(item_index).astype("int64"))
    df = df.sort_values(["u", "timestamp", "i"], kind="stable")
    rank_from_end = df.groupby("u").cumcount(ascending=False)
    counts = df.groupby("u")["i"].transform("size")
    if (counts <= test_per_user).any():
        few = int(counts.min())
        raise ValueError(f"a user has only {few} ratings: test_per_user={test_per_user} would leave no training data")
    is_test = rank_from_end < test_per_user
    train, test = df[~is_test].reset_index(drop=True), df[is_test].reset_index(drop=True)
    return Split(train=train, test=test, num_users=len(users), num_items=len(items),
                 user_index=user_index, item_index=item_index)


def leak_share(split: Split) -> float:
    """How much of the training log lies in the test period's future.

    For each test rating, the share of all training ratings dated strictly after it; the
    mean over test ratings. 0 for a split by one global time cutoff; for the per-user split
    of :func:`split_by_time` it is not 0, because one user's test period overlaps other
    users' training ratings.
    """
    t_train = np.sort(split.train["timestamp"].to_numpy())
    t_test = split.test["timestamp"].to_numpy()
    if len(t_train) == 0 or len(t_test) == 0:
        raise ValueError("the split needs training and test ratings")
    after = len(t_train) - np.searchsorted(t_train, t_test, side="right")
    return float(np.mean(after / len(t_train)))


def rating_matrix(train, num_users: int, num_items: int) -> np.ndarray:
    """Dense (num_users, num_items) float array: the rating, or 0 where none was given."""
    if not {"u", "i", "rating"} <= set(getattr(train, "columns", [])):
        raise ValueError("train must be a Split's DataFrame with columns u, i, rating")
    R = np.zeros((num_users, num_items))
    R[train["u"].to_numpy(), train["i"].to_numpy()] = train["rating"].to_numpy()
    return R


def rmse(predicted, actual) -> float:
    """Root mean squared error between two equally long arrays of ratings."""
    p, a = np.asarray(predicted, dtype=float), np.asarray(actual, dtype=float)
    if p.shape != a.shape:
        raise ValueError(f"predicted and actual must have the same shape, got {p.shape} and {a.shape}")
    if p.size == 0:
        raise ValueError("cannot compute the RMSE of no ratings")
    return float(np.sqrt(np.mean((p - a) ** 2)))


def top_k(scores, k: int, exclude=None) -> np.ndarray:
    """Indices of the k highest scores per row, best first; ``exclude`` (a boolean array
    of the same shape, e.g. the training ratings) marks items that may not be recommended."""
    s = np.array(scores, dtype=float, copy=True)
    if s.ndim != 2:
        raise ValueError(f"scores must be a (users, items) array, got shape {s.shape}")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be an integer between 1 and {s.shape[1]}, got {k!r}")
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=bool)
        if exclude.shape != s.shape:
            raise ValueError(f"exclude must have the scores' shape {s.shape}, got {exclude.shape}")
        s[exclude] = -np.inf
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def precision_recall_ndcg(recommended, relevant, k: int) -> tuple[float, float, float, float]:
    """Mean precision@k, recall@k, NDCG@k and hit rate@k over users with relevant items.

    ``recommended``: per user, a ranked list of item indices (at least k long);
    ``relevant``: per user, the set (or array) of relevant items (e.g. the test items).
    NDCG uses binary relevance: DCG = sum over hits of 1 / log2(rank + 1), divided by the
    DCG of a perfect ranking of min(k, |relevant|) hits.
    """
    if len(recommended) != len(relevant):
        raise ValueError(f"recommended has {len(recommended)} users but relevant has {len(relevant)}")
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    p, r, n, h = [], [], [], []
    for rec, rel in zip(recommended, relevant):
        rel = set(np.asarray(rel).tolist())
        if not rel:
            continue
        rec = list(rec)[:k]
        if len(rec) < k:
            raise ValueError(f"each recommendation list needs at least k={k} items, got {len(rec)}")
        hits = np.array([item in rel for item in rec], dtype=float)
        p.append(hits.sum() / k)
        r.append(hits.sum() / len(rel))
        n.append((hits * discounts).sum() / discounts[: min(k, len(rel))].sum())
        h.append(float(hits.any()))
    if not p:
        raise ValueError("no user has any relevant item")
    return float(np.mean(p)), float(np.mean(r)), float(np.mean(n)), float(np.mean(h))


def ranking_report(scores, split: Split, k: int = 10, exclude_train: bool = True) -> dict:
    """precision@k, recall@k, NDCG@k and hit rate@k of ``scores`` on the split's test items.

    Items the user rated in training are excluded from the ranking (recommending a film
    someone has already rated is not a recommendation). Every test rating counts as
    relevant, whatever its stars: the question is "what will they watch next?".
    """
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (split.num_users, split.num_items):
        raise ValueError(f"scores must have shape (num_users, num_items) = {(split.num_users, split.num_items)}, "
                         f"got {scores.shape}")
    exclude = None
    if exclude_train:
        exclude = np.zeros(scores.shape, dtype=bool)
        exclude[split.train["u"].to_numpy(), split.train["i"].to_numpy()] = True
    recommended = top_k(scores, k, exclude)
    p, r, n, h = precision_recall_ndcg(recommended, split.test_items(), k)
    return {f"precision@{k}": p, f"recall@{k}": r, f"ndcg@{k}": n, f"hit@{k}": h}
