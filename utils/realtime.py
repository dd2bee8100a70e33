"""Real-time recommendation (section 7.3): update a recommender after every event.

Three pieces, all NumPy:

- :class:`FoldIn` keeps an ALS model (:func:`utils.mf.fit_als`) with the item side
  frozen and re-fits one user's ``(p_u, b_u)`` after each new rating by ONE ridge solve
  of size (k+1)×(k+1). It keeps the user's normal equations ``A_u = Σ f_i f_iᵀ + λI`` and
  ``c_u = Σ t_i f_i`` (features ``f_i = [q_i, 1]``, targets ``t_i = r − μ − b_i``), so an
  event costs one rank-one update and one solve: the result equals the full ALS user step
  (:func:`utils.mf.als_user_step`) on all of that user's ratings so far.
- :class:`CoOccurrence`: item-item co-occurrence counts ("watched by the same user"),
  updated per event; it scores items by their co-occurrence with the user's last item.
- :func:`top_k_items` (one user's top-k by ``argpartition``) and :func:`stream` (the
  events in time order), used by :func:`replay_hit_rate` to measure next-item hit rate.
"""
from __future__ import annotations

import numpy as np

from utils import recsys
from utils.mf import MFParams, check_interactions


def _check_user(u, num_users: int) -> int:
    if isinstance(u, bool) or not isinstance(u, (int, np.integer)):
        raise TypeError(f"user id must be an integer index, got {type(u).__name__}")
    if not 0 <= u < num_users:
        raise ValueError(f"unknown user id {u}: ids are 0-based indices below num_users = {num_users}")
    return int(u)


def _check_item(i, num_items: int) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise TypeError(f"item id must be an integer index, got {type(i).__name__}")
    if not 0 <= i < num_items:
        raise ValueError(f"unknown item id {i}: ids are 0-based indices below num_items = {num_items}")
    return int(i)


def fold_in(params: MFParams, items, ratings, reg: float) -> tuple[np.ndarray, float]:
    """(p_u, b_u) of a user with these ratings, the item side of ``params`` fixed.

    argmin Σ (r − μ − b_i − b_u − p_u·q_i)² + reg (‖p_u‖² + b_u²): one ridge regression.
    """
    items = np.asarray(items)
    if items.ndim != 1 or len(items) == 0:
        raise ValueError("fold_in needs a non-empty 1-D array of item ids (empty history: nothing to fit)")
    _, items, ratings = check_interactions(np.zeros(len(items), dtype=np.int64), items, ratings, 1, params.num_items)
    if not reg > 0:
        raise ValueError(f"reg must be > 0 (a ridge solve), got {reg}")
    F = np.hstack([params.Q[items], np.ones((len(items), 1))])
    t = ratings - params.mu - params.item_bias[items]
    x = np.linalg.solve(F.T @ F + reg * np.eye(F.shape[1]), F.T @ t)
    return x[:-1], float(x[-1])


class FoldIn:
    """An ALS model whose user vectors are updated online, one ridge solve per event."""

    def __init__(self, params: MFParams, u, i, r, reg: float):
        u, i, r = check_interactions(u, i, r, params.num_users, params.num_items)
        if not reg > 0:
            raise ValueError(f"reg must be > 0, got {reg}")
        self.params = MFParams(params.mu, params.user_bias.copy(), params.item_bias, params.P.copy(), params.Q)
        self.reg = float(reg)
        d = params.num_factors + 1
        self.features = np.hstack([params.Q, np.ones((params.num_items, 1))])
        self.A = np.tile(reg * np.eye(d), (params.num_users, 1, 1))
        np.add.at(self.A, u, np.einsum("nj,nk->njk", self.features[i], self.features[i]))
        self.c = np.zeros((params.num_users, d))
        np.add.at(self.c, u, (r - params.mu - params.item_bias[i])[:, None] * self.features[i])

    def update(self, u, i, r) -> None:
        """Add rating r of user u for item i and re-solve that user's (p_u, b_u)."""
        u, i = _check_user(u, self.params.num_users), _check_item(i, self.params.num_items)
        if not np.isfinite(r):
            raise ValueError(f"rating must be a finite number, got {r}")
        f = self.features[i]
        self.A[u] += np.outer(f, f)
        self.c[u] += (r - self.params.mu - self.params.item_bias[i]) * f
        x = np.linalg.solve(self.A[u], self.c[u])
        self.params.P[u], self.params.user_bias[u] = x[:-1], x[-1]

    def scores(self, u) -> np.ndarray:
        """Predicted ratings of user u for every item."""
        u = _check_user(u, self.params.num_users)
        p = self.params
        return p.mu + p.user_bias[u] + p.item_bias + p.Q @ p.P[u]


class CoOccurrence:
    """Item-item co-occurrence counts, updated per event; scores = counts with the last item."""

    def __init__(self, u, i, num_users: int, num_items: int):
        u, i, _ = check_interactions(u, i, None, num_users, num_items)
        X = np.zeros((num_users, num_items))
        X[u, i] = 1.0
        self.counts = X.T @ X
        np.fill_diagonal(self.counts, 0.0)
        self.history = [list() for _ in range(num_users)]
        for uu, ii in zip(u, i):
            self.history[uu].append(int(ii))

    def update(self, u, i) -> None:
        """User u consumed item i: i co-occurs once more with each (distinct) earlier item of u."""
        u, i = _check_user(u, len(self.history)), _check_item(i, len(self.counts))
        seen = np.unique([j for j in self.history[u] if j != i]).astype(np.int64)
        if i not in self.history[u]:
            self.counts[i, seen] += 1
            self.counts[seen, i] += 1
        self.history[u].append(i)

    def scores(self, u) -> np.ndarray:
        u = _check_user(u, len(self.history))
        if not self.history[u]:
            raise ValueError(f"user {u} has an empty history: co-occurrence has no last item to start from")
        return self.counts[self.history[u][-1]].copy()


def top_k_items(scores, k: int, exclude=None) -> np.ndarray:
    """The k best item indices of one user's 1-D score vector, best first, skipping ``exclude``
    (an array of item ids): :func:`utils.recsys.top_k` for a single user."""
    s = np.asarray(scores, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"scores must be one user's 1-D vector, got shape {s.shape}")
    mask = np.zeros((1, s.size), dtype=bool)
    if exclude is not None and len(exclude):
        mask[0, np.asarray(exclude, dtype=np.int64)] = True
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= s.size - mask.sum():
        raise ValueError(f"k must be an integer between 1 and the number of allowed items, got {k!r}")
    return recsys.top_k(s[None], k, mask)[0]


def stream(events):
    """The events (a DataFrame with u, i, rating, timestamp) as arrays in time order."""
    if not {"u", "i", "rating", "timestamp"} <= set(getattr(events, "columns", [])):
        raise ValueError("events must be a DataFrame with columns u, i, rating, timestamp (split.test)")
    if len(events) == 0:
        raise ValueError("no events to replay")
    ev = events.sort_values(["timestamp", "u", "i"], kind="stable")
    return (ev["u"].to_numpy(np.int64), ev["i"].to_numpy(np.int64),
            ev["rating"].to_numpy(np.float64), ev["timestamp"].to_numpy(np.int64))


def replay_hit_rate(u, i, r, score_fn, update_fn, seen: list, k: int = 10) -> np.ndarray:
    """Replay events in order: recommend k items to the user (excluding ``seen[u]``), record a
    hit if the event's item is among them, then call ``update_fn(u, i, r)`` (may be None)
    and add i to seen[u]. Returns the 0/1 hit of every event."""
    hits = np.zeros(len(u))
    for n, (uu, ii, rr) in enumerate(zip(u, i, r)):
        rec = top_k_items(score_fn(int(uu)), k, np.fromiter(seen[uu], np.int64, len(seen[uu])))
        hits[n] = ii in rec
        if update_fn is not None:
            update_fn(int(uu), int(ii), float(rr))
        seen[uu].add(int(ii))
    return hits
