"""Neighbourhood and content-based recommenders, and what a list of recommendations looks like.

Section 7.1 builds each piece from its formula and checks it against these versions::

    from utils import cf, data, recsys
    split = recsys.split_by_time(data.load("movielens100k").ratings, test_per_user=10)
    R = recsys.rating_matrix(split.train, split.num_users, split.num_items)   # 0 = not rated
    b = cf.fit_biases(R, reg_user=5, reg_item=5)                  # r_ui ~ mu + b_u + b_i
    S = cf.cosine_similarity(cf.residuals(R, b.matrix()).T)      # item-item, mean-centred
    r_hat = b.predict(u, i) + cf.knn_predict(u, i, sim=S, residuals=cf.residuals(R, b.matrix()),
                                             mask=R > 0, k=30, kind="item")
    scores = cf.knn_scores(R > 0, cf.cosine_similarity((R > 0).T), k=200, kind="item")

Conventions: a rating matrix ``R`` is a dense ``(num_users, num_items)`` float array with 0
where no rating was given (what :func:`utils.recsys.rating_matrix` returns); a boolean
``mask`` marks the observed entries. Similarity matrices have a zero diagonal: nothing is
its own neighbour.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


# --- input checks ----------------------------------------------------------------------

def _matrix(X, name: str) -> np.ndarray:
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (rows, columns) array, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf; use 0 for 'no rating'")
    return arr


def _mask(mask, shape: tuple, name: str = "mask") -> np.ndarray:
    m = np.asarray(mask)
    if m.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {m.shape}")
    return m.astype(bool)


def _indices(values, size: int, what: str) -> np.ndarray:
    idx = np.asarray(values)
    if idx.ndim == 0:
        idx = idx.reshape(1)
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"{what} must be integer indices, got dtype {idx.dtype}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx[(idx < 0) | (idx >= size)][0]
        raise ValueError(f"unknown {what[:-1] if what.endswith('s') else what} {bad}: "
                         f"indices run from 0 to {size - 1}")
    return idx


def _lists(recommended) -> np.ndarray:
    rec = np.asarray(recommended)
    if rec.ndim != 2 or rec.shape[1] == 0:
        raise ValueError(f"recommended must be a (users, k) array of item indices, got shape {rec.shape}")
    if not np.issubdtype(rec.dtype, np.integer):
        raise TypeError(f"recommended must hold integer item indices, got dtype {rec.dtype}")
    return rec


# --- baselines ---------------------------------------------------------------------------

@dataclass
class Biases:
    """The baseline predictor r_ui ~ mu + b_u + b_i (global mean, user and item offsets)."""

    mu: float
    user: np.ndarray
    item: np.ndarray

    def predict(self, users, items) -> np.ndarray:
        u = _indices(users, len(self.user), "users")
        i = _indices(items, len(self.item), "items")
        if u.shape != i.shape:
            raise ValueError(f"users and items must have the same length, got {u.shape} and {i.shape}")
        return self.mu + self.user[u] + self.item[i]

    def matrix(self) -> np.ndarray:
        """The baseline for every (user, item) pair, shape (num_users, num_items)."""
        return self.mu + self.user[:, None] + self.item[None, :]


def fit_biases(R, reg_user: float = 5.0, reg_item: float = 5.0, num_iters: int = 1000,
               tol: float = 1e-10) -> Biases:
    """Regularised user and item biases by alternating least squares.

    Minimises  sum over rated (u, i) of (r_ui - mu - b_u - b_i)^2 + reg_user sum b_u^2
    + reg_item sum b_i^2  with mu the mean rating. Each half-step is exact (a ridge
    regression with one unknown per row), so the loss never increases; it stops when no
    bias moves by more than ``tol``. ``reg = 0`` gives unregularised means (unstable for
    items with one rating; an item with no rating keeps b_i = 0).
    """
    R = _matrix(R, "R")
    if reg_user < 0 or reg_item < 0:
        raise ValueError(f"regularisation must be >= 0, got reg_user={reg_user}, reg_item={reg_item}")
    users, items = np.nonzero(R > 0)
    if users.size == 0:
        raise ValueError("R has no ratings (every entry is 0)")
    r = R[users, items]
    mu = float(r.mean())
    U, I = R.shape
    den_user = np.bincount(users, minlength=U) + reg_user
    den_item = np.bincount(items, minlength=I) + reg_item
    b_user, b_item = np.zeros(U), np.zeros(I)
    for _ in range(num_iters):
        num = np.bincount(items, weights=r - mu - b_user[users], minlength=I)
        new_item = np.divide(num, den_item, out=np.zeros(I), where=den_item > 0)
        num = np.bincount(users, weights=r - mu - new_item[items], minlength=U)
        new_user = np.divide(num, den_user, out=np.zeros(U), where=den_user > 0)
        change = max(np.abs(new_item - b_item).max(), np.abs(new_user - b_user).max())
        b_user, b_item = new_user, new_item
        if change < tol:
            break
    return Biases(mu=mu, user=b_user, item=b_item)


def residuals(R, baseline) -> np.ndarray:
    """r_ui - baseline_ui where rated, 0 elsewhere (the input of mean-centred similarities)."""
    R = _matrix(R, "R")
    B = _matrix(baseline, "baseline")
    if B.shape != R.shape:
        raise ValueError(f"baseline must have R's shape {R.shape}, got {B.shape}")
    return np.where(R > 0, R - B, 0.0)


def mean_center(R, by: str = "user") -> tuple[np.ndarray, np.ndarray]:
    """Subtract each user's (``by="user"``) or item's (``by="item"``) mean rating from its ratings.

    Returns the centred matrix (0 where not rated) and the means (0 for a row or column
    without ratings). Cosine similarity of user-centred rows is the Pearson correlation
    of users (with norms over all their ratings); of user-centred columns, the "adjusted
    cosine" of items (Sarwar et al. 2001).
    """
    R = _matrix(R, "R")
    if by not in ("user", "item"):
        raise ValueError(f"by must be 'user' or 'item', got {by!r}")
    M = R > 0
    axis = 1 if by == "user" else 0
    counts, sums = M.sum(axis), R.sum(axis)
    means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
    full = means[:, None] if by == "user" else means[None, :]
    return np.where(M, R - full, 0.0), means


# --- similarity --------------------------------------------------------------------------

def cosine_similarity(X, mask=None, shrinkage: float = 0.0) -> np.ndarray:
    """Cosine similarity of the rows of ``X`` (0 = missing), with a zero diagonal.

    s_ab = x_a . x_b / (|x_a| |x_b|); a row of zeros has similarity 0 with everything.
    ``shrinkage`` > 0 multiplies s_ab by n_ab / (n_ab + shrinkage), where n_ab counts the
    entries both rows have (``mask``, default ``X != 0``): a similarity computed from
    three common ratings is trusted less than one from three hundred.
    """
    X = _matrix(X, "X")
    if shrinkage < 0:
        raise ValueError(f"shrinkage must be >= 0, got {shrinkage}")
    norms = np.sqrt((X * X).sum(1))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    S = (X @ X.T) * inv[:, None] * inv[None, :]
    if shrinkage > 0:
        Mf = (X != 0 if mask is None else _mask(mask, X.shape)).astype(float)
        common = Mf @ Mf.T
        S *= common / (common + shrinkage)
    np.fill_diagonal(S, 0.0)
    return S


# --- neighbourhood rating prediction ---------------------------------------------------

def _knn_average(owners, targets, sim, values, mask, k: int, reg: float) -> np.ndarray:
    """For each pair: weighted mean of values[owner, c] over the k candidates c (with
    mask[owner, c]) most similar to the target, weights max(sim[target, c], 0)."""
    out = np.zeros(len(owners))
    if len(owners) == 0:
        return out
    order = np.argsort(owners, kind="stable")
    starts = np.flatnonzero(np.r_[True, owners[order][1:] != owners[order][:-1]])
    for start, stop in zip(starts, np.r_[starts[1:], len(order)]):
        pos = order[start:stop]
        o = owners[pos[0]]
        cand = np.flatnonzero(mask[o])
        if cand.size == 0:
            continue
        t = targets[pos]
        s = sim[np.ix_(t, cand)]
        where = np.minimum(np.searchsorted(cand, t), cand.size - 1)
        own = cand[where] == t
        s[np.flatnonzero(own), where[own]] = 0.0  # nothing is its own neighbour
        w = np.maximum(s, 0.0)
        if k < cand.size:  # keep the k largest (ties at the k-th value are all kept)
            kth = -np.partition(-w, k - 1, axis=1)[:, k - 1:k]
            w[w < kth] = 0.0
        den = w.sum(1) + reg
        out[pos] = np.divide(w @ values[o, cand], den, out=np.zeros(len(pos)), where=den > 0)
    return out


def knn_predict(users, items, *, sim, residuals, mask, k: int, kind: str = "item",
                reg: float = 0.0) -> np.ndarray:
    """Neighbourhood correction to a baseline, for each (user, item) pair.

    ``kind="item"``: among the items the user rated, take the k most similar to item i
    (``sim`` is item-item) and average the user's residuals on them,
        sum_j s_ij (r_uj - b_uj) / (sum_j s_ij + reg),   only s_ij > 0 counted;
    ``kind="user"``: among the users who rated item i, the k most similar to user u
    (``sim`` is user-user), averaging their residuals on i. The prediction is
    ``baseline + knn_predict(...)``; ``reg`` > 0 pulls weak neighbourhoods towards the
    baseline. Neighbours tied with the k-th similarity are all kept. Vectorised per user
    (item kind) or per item (user kind).
    """
    R = _matrix(residuals, "residuals")
    U, I = R.shape
    M = _mask(mask, R.shape)
    if kind not in ("item", "user"):
        raise ValueError(f"kind must be 'item' or 'user', got {kind!r}")
    n = I if kind == "item" else U
    S = _matrix(sim, "sim")
    if S.shape != (n, n):
        raise ValueError(f"for kind={kind!r} sim must be {kind}-{kind}, shape {(n, n)}, got {S.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k (number of neighbours) must be a positive integer, got {k!r}")
    if reg < 0:
        raise ValueError(f"reg must be >= 0, got {reg}")
    u = _indices(users, U, "users")
    i = _indices(items, I, "items")
    if u.shape != i.shape:
        raise ValueError(f"users and items must have the same length, got {u.shape} and {i.shape}")
    if kind == "item":
        return _knn_average(u, i, S, R, M, int(k), reg)
    return _knn_average(i, u, S, R.T, M.T, int(k), reg)


# --- top-N scoring ----------------------------------------------------------------------

def keep_top_k(sim, k: int) -> np.ndarray:
    """Keep the k largest positive entries of each row of ``sim`` (the neighbourhood), zero the rest."""
    S = _matrix(sim, "sim")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if k >= S.shape[1]:
        return np.maximum(S, 0.0)
    top = np.argpartition(-S, k - 1, axis=1)[:, :k]
    out = np.zeros_like(S)
    np.put_along_axis(out, top, np.maximum(np.take_along_axis(S, top, axis=1), 0.0), axis=1)
    return out


def knn_scores(mask, sim, k: int, kind: str = "item", users=None) -> np.ndarray:
    """Top-N scores from who-rated-what (implicit feedback), shape (len(users), num_items).

    ``kind="item"``: score(u, i) = sum of s_ij over the items j the user rated that are
    among the k nearest neighbours of i (Deshpande & Karypis 2004);
    ``kind="user"``: score(u, i) = sum of s_uv over the k nearest users v of u who rated i.
    ``users`` (default all) selects rows, e.g. one user for a widget.
    """
    M = np.asarray(mask)
    if M.ndim != 2:
        raise ValueError(f"mask must be a 2-D (users, items) array, got shape {M.shape}")
    Mf = M.astype(bool).astype(float)
    U, I = Mf.shape
    if kind not in ("item", "user"):
        raise ValueError(f"kind must be 'item' or 'user', got {kind!r}")
    n = I if kind == "item" else U
    S = _matrix(sim, "sim")
    if S.shape != (n, n):
        raise ValueError(f"for kind={kind!r} sim must be {kind}-{kind}, shape {(n, n)}, got {S.shape}")
    rows = np.arange(U) if users is None else _indices(users, U, "users")
    if kind == "item":
        return Mf[rows] @ keep_top_k(S, k).T
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return keep_top_k(S[rows], k) @ Mf


# --- content-based ------------------------------------------------------------------------

def tfidf(F) -> np.ndarray:
    """Rows of a 0/1 feature matrix weighted by inverse document frequency, length 1.

    idf_f = log(num_items / num_items_with_f): a feature most items share (Drama) says
    less about an item than a rare one (Film-Noir). A row without features stays 0.
    """
    F = _matrix(F, "F")
    df = (F > 0).sum(0)
    idf = np.log(len(F) / np.maximum(df, 1))
    X = F * idf
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)


DEFAULT_YEAR_EDGES = (1960, 1970, 1980, 1990, 1994, 1996, 1997)


def item_features(genres, years, year_edges=DEFAULT_YEAR_EDGES, year_weight: float = 1.0):
    """Content features of films: TF-IDF genres next to TF-IDF release-period bins.

    ``genres``: one list of genre names per item; ``years``: one year per item (NaN or
    None when unknown, which goes to the most common period). Periods are
    ``[-inf, e0), [e0, e1), ..., [e_last, inf)``. Each block is TF-IDF weighted, the year
    block scaled by ``year_weight``, and each row rescaled to length 1. Returns
    ``(X, names)``.
    """
    genres = list(genres)
    if not genres:
        raise ValueError("item_features needs at least one item")
    if any(isinstance(g, str) or not hasattr(g, "__iter__") for g in genres):
        raise TypeError("genres must hold one list of genre names per item, e.g. [['Comedy', 'Drama'], ...]")
    years = np.array([np.nan if y is None else float(y) for y in years], dtype=float)
    if len(years) != len(genres):
        raise ValueError(f"genres has {len(genres)} items but years has {len(years)}")
    if year_weight < 0:
        raise ValueError(f"year_weight must be >= 0, got {year_weight}")
    names = sorted({g for gs in genres for g in gs})
    column = {g: c for c, g in enumerate(names)}
    G = np.zeros((len(genres), len(names)))
    for row, gs in enumerate(genres):
        G[row, [column[g] for g in gs]] = 1.0
    edges = np.asarray(year_edges, dtype=float)
    period = np.digitize(years, edges)
    known = ~np.isnan(years)
    if known.any():
        period[~known] = np.bincount(period[known]).argmax()
    Y = np.eye(len(edges) + 1)[period]
    labels = [f"< {int(edges[0])}"] + [f"{int(a)}-{int(b) - 1}" for a, b in zip(edges[:-1], edges[1:])] \
        + [f">= {int(edges[-1])}"]
    X = np.hstack([tfidf(G), year_weight * tfidf(Y)])
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    X = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    return X, names + [f"year {s}" for s in labels]


def user_profiles(R, X, min_rating: float = 4.0) -> np.ndarray:
    """Each user's taste in feature space: the weighted mean of the items they liked.

    Weights are r_ui - min_rating + 1 for ratings >= min_rating (a 5 counts twice as
    much as a 4 when min_rating = 4); a user who liked nothing gets the plain mean of
    everything they rated. Rows are rescaled to length 1.
    """
    R = _matrix(R, "R")
    X = _matrix(X, "X")
    if X.shape[0] != R.shape[1]:
        raise ValueError(f"X has {X.shape[0]} items (rows) but R has {R.shape[1]} (columns)")
    rated = R > 0
    empty = np.flatnonzero(~rated.any(1))
    if empty.size:
        raise ValueError(f"user {empty[0]} has an empty history (no ratings): a content-based profile "
                         "needs at least one rated item")
    W = np.where(R >= min_rating, R - min_rating + 1.0, 0.0)
    nothing_liked = W.sum(1) == 0
    W[nothing_liked] = rated[nothing_liked]
    P = W @ X / W.sum(1, keepdims=True)
    norms = np.linalg.norm(P, axis=1, keepdims=True)
    return np.divide(P, norms, out=np.zeros_like(P), where=norms > 0)


def content_scores(profiles, X) -> np.ndarray:
    """Cosine of each user profile with each item's features, shape (users, items)."""
    P, X = _matrix(profiles, "profiles"), _matrix(X, "X")
    if P.shape[1] != X.shape[1]:
        raise ValueError(f"profiles have {P.shape[1]} features but X has {X.shape[1]}")
    pn = np.linalg.norm(P, axis=1, keepdims=True)
    xn = np.linalg.norm(X, axis=1, keepdims=True)
    P = np.divide(P, pn, out=np.zeros_like(P), where=pn > 0)
    X = np.divide(X, xn, out=np.zeros_like(X), where=xn > 0)
    return P @ X.T


# --- beyond accuracy: what the lists look like ------------------------------------------

def catalogue_coverage(recommended, num_items: int) -> float:
    """Share of the catalogue that appears in at least one user's list."""
    rec = _lists(recommended)
    if not isinstance(num_items, (int, np.integer)) or num_items < 1:
        raise ValueError(f"num_items must be a positive integer, got {num_items!r}")
    _indices(rec.ravel(), num_items, "items")
    return len(np.unique(rec)) / num_items


def mean_popularity(recommended, popularity) -> float:
    """Average popularity (e.g. number of training ratings) of the recommended items."""
    rec = _lists(recommended)
    pop = np.asarray(popularity, dtype=float)
    if pop.ndim != 1:
        raise ValueError(f"popularity must be one number per item, got shape {pop.shape}")
    return float(pop[_indices(rec, len(pop), "items")].mean())


def intra_list_diversity(recommended, X) -> float:
    """Mean over lists of the average pairwise distance 1 - cos(x_i, x_j) within a list.

    With genre features, 0 means every film in the list has the same genres.
    """
    rec = _lists(recommended)
    X = _matrix(X, "X")
    if rec.shape[1] < 2:
        raise ValueError("intra-list diversity needs lists of at least 2 items")
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    Xn = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)
    V = Xn[_indices(rec, len(X), "items")]  # (users, k, features)
    sims = np.einsum("ukf,ujf->ukj", V, V)
    k = rec.shape[1]
    off_diagonal = (sims.sum((1, 2)) - np.einsum("ukk->u", sims)) / (k * (k - 1))
    return float(np.mean(1.0 - off_diagonal))


def mmr_rerank(scores, X, k: int = 10, lam: float = 0.7, exclude=None, pool: int = 100) -> np.ndarray:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): a less redundant top-k.

    From each user's ``pool`` best items, pick greedily the item maximising
        lam * relevance - (1 - lam) * max cos(x_item, x_already_picked),
    relevance being the score rescaled to [0, 1] within the pool. ``lam = 1`` returns the
    plain top-k; smaller values trade relevance for variety. ``exclude`` as in
    :func:`utils.recsys.top_k`. Returns (users, k) item indices in the order picked.
    """
    from utils.recsys import top_k

    s = _matrix(scores, "scores")
    X = _matrix(X, "X")
    if X.shape[0] != s.shape[1]:
        raise ValueError(f"X has {X.shape[0]} items but scores has {s.shape[1]} columns")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= pool:
        raise ValueError(f"k must be an integer between 1 and pool={pool}, got {k!r}")
    pool = min(pool, s.shape[1])
    cand = top_k(s, pool, exclude)  # (users, pool), best first
    rel = np.take_along_axis(s, cand, axis=1)
    low, high = rel.min(1, keepdims=True), rel.max(1, keepdims=True)
    rel = np.divide(rel - low, high - low, out=np.ones_like(rel), where=(high - low) > 0)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    V = np.divide(X, norms, out=np.zeros_like(X), where=norms > 0)[cand]  # (users, pool, features)
    users = np.arange(len(s))
    picked = np.zeros((len(s), k), dtype=np.int64)
    taken = np.zeros(cand.shape, dtype=bool)
    max_sim = np.zeros(cand.shape)
    for step in range(k):
        value = lam * rel - (1.0 - lam) * max_sim if step else rel.copy()
        value[taken] = -np.inf
        best = value.argmax(1)
        picked[:, step] = cand[users, best]
        taken[users, best] = True
        max_sim = np.maximum(max_sim, np.einsum("upf,uf->up", V, V[users, best]))
    return picked


def holdout_last(train, n: int = 5):
    """Split a Split's training DataFrame again: each user's ``n`` latest ratings become a
    validation set (for choosing hyperparameters without looking at the test set)."""
    if not {"u", "i", "rating", "timestamp"} <= set(getattr(train, "columns", [])):
        raise ValueError("train must be a Split's DataFrame with columns u, i, rating, timestamp")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    df = train.sort_values(["u", "timestamp", "i"], kind="stable")
    counts = df.groupby("u")["i"].transform("size")
    if (counts <= n).any():
        raise ValueError(f"a user has only {int(counts.min())} training ratings: holding out {n} leaves none")
    is_val = df.groupby("u").cumcount(ascending=False) < n
    return df[~is_val].reset_index(drop=True), df[is_val].reset_index(drop=True)
