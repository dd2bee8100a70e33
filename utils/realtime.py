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
- :func:`fit_implicit_als` and :class:`ImplicitFoldIn`: implicit-feedback ALS (Hu, Koren
  and Volinsky 2008) and its fold-in, one k×k solve per event, equal to the full user step
  (:func:`implicit_als_step`) on everything the user has consumed so far.
- :func:`top_k_items` (one user's top-k by ``argpartition``), :func:`stream` (the events in
  time order) and :func:`merged_log` (training and test events in one time-ordered log, so
  that pooled counts can be built from the past only), used by :func:`replay_hit_rate` to
  measure next-item hit rate. Ties in time are broken at random when given an ``rng``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from utils import recsys
from utils.mf import MFParams, check_interactions, fit_ials


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
        self.c = np.zeros((params.num_users, d))
        t = r - params.mu - params.item_bias[i]
        for uu, rows in _groups(u, params.num_users):
            F = self.features[i[rows]]
            self.A[uu] += F.T @ F
            self.c[uu] = F.T @ t[rows]

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


def _groups(rows, num_rows: int):
    """(row, positions of that row in ``rows``) for every row that occurs."""
    order = np.argsort(rows, kind="stable")
    starts = np.searchsorted(rows[order], np.arange(num_rows + 1))
    for r in range(num_rows):
        if starts[r + 1] > starts[r]:
            yield r, order[starts[r]:starts[r + 1]]


def implicit_als_step(Y, rows, cols, num_rows: int, reg: float, alpha: float, which=None) -> np.ndarray:
    """The exact implicit-ALS solve for every row (or the rows in ``which``), ``Y`` fixed.

    Row r (a user, or an item when the roles are swapped) has preference 1 for the columns it
    interacted with and 0 for all others, with confidence 1 + alpha·n_rc (n_rc = number of
    interactions). Its vector minimises Σ_c conf_rc (pref_rc − x·y_c)² + reg‖x‖² over ALL
    columns, whose normal equations are
    (YᵀY + Σ_c alpha·n_rc y_c y_cᵀ + reg·I) x = Σ_{c: n_rc>0} (1 + alpha·n_rc) y_c.
    """
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if not reg > 0 or not alpha >= 0:
        raise ValueError(f"reg must be > 0 and alpha >= 0, got reg={reg}, alpha={alpha}")
    k = Y.shape[1]
    G = Y.T @ Y + reg * np.eye(k)
    wanted = np.arange(num_rows) if which is None else np.asarray(which, dtype=np.int64)
    A, b = np.tile(G, (len(wanted), 1, 1)), np.zeros((len(wanted), k))
    position = np.full(num_rows, -1)
    position[wanted] = np.arange(len(wanted))
    for r, where in _groups(rows, num_rows):
        if position[r] < 0:
            continue
        c, n = np.unique(cols[where], return_counts=True)
        Yc = Y[c]
        A[position[r]] += alpha * (Yc * n[:, None]).T @ Yc
        b[position[r]] = (1 + alpha * n) @ Yc
    return np.linalg.solve(A, b[..., None])[..., 0]


def fit_implicit_als(u, i, num_users: int, num_items: int, num_factors: int, reg: float, alpha: float,
                     num_sweeps: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Implicit-feedback ALS (Hu, Koren and Volinsky 2008) on the interactions (u, i).

    The batch model is chapter 7.2's :func:`utils.mf.fit_ials` (one implementation in the
    course); this returns its user factors X (num_users, k) and item factors Y (num_items, k),
    scores X @ Y.T, as the fold-in below expects.
    """
    params, _ = fit_ials(u, i, num_users, num_items, num_factors, reg, alpha, num_sweeps, rng)
    return params.P, params.Q


class ImplicitFoldIn:
    """Implicit ALS with the item factors frozen; a user's vector is re-solved after each event.

    Keeps, per user, ``A_u = Σ alpha·n_ui y_i y_iᵀ`` and ``b_u = Σ (1 + alpha·n_ui) y_i``; the
    shared ``YᵀY + reg·I`` is computed once. An event (u, i) adds alpha·y_i y_iᵀ to A_u and
    (1 + alpha)·y_i (first time) or alpha·y_i (a repeat) to b_u, then one k×k solve: the
    result equals :func:`implicit_als_step` on all of the user's events so far.
    """

    def __init__(self, X, Y, u, i, reg: float, alpha: float):
        u, i, _ = check_interactions(u, i, None, len(X), len(Y))
        if not reg > 0 or not alpha >= 0:
            raise ValueError(f"reg must be > 0 and alpha >= 0, got reg={reg}, alpha={alpha}")
        self.X, self.Y = np.array(X, dtype=float, copy=True), np.asarray(Y, dtype=float)
        self.reg, self.alpha = float(reg), float(alpha)
        k = self.Y.shape[1]
        self.G = self.Y.T @ self.Y + reg * np.eye(k)
        self.A, self.b = np.zeros((len(X), k, k)), np.zeros((len(X), k))
        self.count = [dict() for _ in range(len(X))]
        for uu, where in _groups(u, len(X)):
            c, n = np.unique(i[where], return_counts=True)
            Yc = self.Y[c]
            self.A[uu] = alpha * (Yc * n[:, None]).T @ Yc
            self.b[uu] = (1 + alpha * n) @ Yc
            self.count[uu] = dict(zip(c.tolist(), n.tolist()))

    def update(self, u, i, r=None) -> None:
        """User u consumed item i (``r`` is ignored: implicit feedback); re-solve x_u."""
        u, i = _check_user(u, len(self.X)), _check_item(i, len(self.Y))
        y = self.Y[i]
        self.A[u] += self.alpha * np.outer(y, y)
        self.b[u] += (self.alpha if self.count[u].get(i, 0) else 1 + self.alpha) * y
        self.count[u][i] = self.count[u].get(i, 0) + 1
        self.X[u] = np.linalg.solve(self.G + self.A[u], self.b[u])

    def scores(self, u) -> np.ndarray:
        """x_u · y_i for every item (higher = more likely to be consumed)."""
        return self.Y @ self.X[_check_user(u, len(self.X))]


class CoOccurrence:
    """Item-item co-occurrence counts, updated per event; scores = counts with the last item.

    Built from the interactions (u, i) given (in that order; pass none to start from zero and
    build the counts from a time-ordered log with :meth:`update`).
    """

    def __init__(self, u, i, num_users: int, num_items: int):
        if len(u) == 0 and len(i) == 0:
            u = i = np.zeros(0, dtype=np.int64)  # an empty start: counts come from update()
        else:
            u, i, _ = check_interactions(u, i, None, num_users, num_items)
        X = np.zeros((num_users, num_items))
        X[u, i] = 1.0
        self.counts = X.T @ X
        np.fill_diagonal(self.counts, 0.0)
        self.history = [list() for _ in range(num_users)]
        self.distinct = [list() for _ in range(num_users)]
        self.seen = X.astype(bool)
        for uu, ii in zip(u.tolist(), i.tolist()):
            self.history[uu].append(ii)
        for uu in range(num_users):
            self.distinct[uu] = np.flatnonzero(self.seen[uu]).tolist()

    def update(self, u, i) -> None:
        """User u consumed item i: i co-occurs once more with each (distinct) earlier item of u."""
        u, i = _check_user(u, len(self.history)), _check_item(i, len(self.counts))
        if not self.seen[u, i]:
            earlier = np.asarray(self.distinct[u], dtype=np.int64)
            self.counts[i, earlier] += 1
            self.counts[earlier, i] += 1
            self.seen[u, i] = True
            self.distinct[u].append(i)
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


def _check_events(events, name: str) -> None:
    if not {"u", "i", "rating", "timestamp"} <= set(getattr(events, "columns", [])):
        raise ValueError(f"{name} must be a DataFrame with columns u, i, rating, timestamp (split.test)")
    if len(events) == 0:
        raise ValueError("no events to replay")


def stream(events, rng=None):
    """The events (a DataFrame with u, i, rating, timestamp) as arrays in time order.

    Events with the same timestamp have no known order. Without ``rng`` they are ordered by
    user and item index (deterministic, but arbitrary); with a numpy Generator ``rng`` they
    are put in a random order, so that a replay can be repeated over several orders.
    """
    _check_events(events, "events")
    if rng is None:
        ev = events.sort_values(["timestamp", "u", "i"], kind="stable")
    else:
        ev = events.iloc[np.lexsort((rng.permutation(len(events)), events["timestamp"].to_numpy()))]
    return (ev["u"].to_numpy(np.int64), ev["i"].to_numpy(np.int64),
            ev["rating"].to_numpy(np.float64), ev["timestamp"].to_numpy(np.int64))


def merged_log(train, test, rng=None):
    """Training and test events in one time-ordered log: (u, i, r, t, is_test) arrays.

    Pooled statistics (popularity, co-occurrence) built by replaying this log from the start
    see, at each event, only events that came before it. Within one timestamp the training
    events come first (a user's test events never precede their own training events), and
    each group is in random order when ``rng`` is given (by user and item index otherwise).
    ``u[is_test]`` etc. is then the test stream in that order.
    """
    _check_events(train, "train")
    _check_events(test, "test")
    log = (train.assign(_test=False), test.assign(_test=True))
    both = pd.concat(log, ignore_index=True)
    if rng is None:
        both = both.sort_values(["timestamp", "_test", "u", "i"], kind="stable")
    else:
        key = rng.permutation(len(both))
        both = both.iloc[np.lexsort((key, both["_test"].to_numpy(), both["timestamp"].to_numpy()))]
    return (both["u"].to_numpy(np.int64), both["i"].to_numpy(np.int64), both["rating"].to_numpy(np.float64),
            both["timestamp"].to_numpy(np.int64), both["_test"].to_numpy(bool))


def replay_hit_rate(u, i, r, score_fn, update_fn, seen: list, k: int = 10, evaluate=None) -> np.ndarray:
    """Replay events in order: recommend k items to the user (excluding ``seen[u]``), record a
    hit if the event's item is among them, then call ``update_fn(u, i, r)`` (may be None)
    and add i to seen[u]. Returns the 0/1 hit of every event, or, when ``evaluate`` (a boolean
    array) is given, of the events it marks only: the others just update (a warm-up log)."""
    hits = np.zeros(len(u) if evaluate is None else int(np.sum(evaluate)))
    n = 0
    for pos, (uu, ii, rr) in enumerate(zip(u, i, r)):
        if evaluate is None or evaluate[pos]:
            rec = top_k_items(score_fn(int(uu)), k, np.fromiter(seen[uu], np.int64, len(seen[uu])))
            hits[n] = ii in rec
            n += 1
        if update_fn is not None:
            update_fn(int(uu), int(ii), float(rr))
        seen[uu].add(int(ii))
    return hits
