"""Model-based recommenders of section 7.2: matrix factorization and implicit feedback.

Explicit ratings (biased matrix factorization, 矩阵分解)::

    r̂_ui = μ + b_u + b_i + p_u · q_i
    J = Σ_(u,i) (r_ui − r̂_ui)² + λ (Σ_u ‖p_u‖² + b_u² + Σ_i ‖q_i‖² + b_i²)

trained either by alternating least squares (:func:`fit_als`, NumPy: every half-step
is one ridge regression per user or per item, solved exactly) or by gradient
descent on the same objective (:class:`BiasedMF` with :func:`utils.train.fit`).

Implicit feedback ("who rated what", not the stars): Bayesian personalised ranking
(:class:`BPR`, Rendle et al. 2009) trained on (user, rated item, sampled unrated item)
triples by :func:`fit_implicit`, which also trains any scorer (BPR's dot product, or the
NCF-style :class:`ConcatMLP`) with binary cross-entropy on sampled negatives.

Every scorer has ``score_all()``: a (num_users, num_items) NumPy array, higher = better,
ready for :func:`utils.recsys.ranking_report`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# --- input checks ---------------------------------------------------------------------


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def _check_reg(reg) -> float:
    if isinstance(reg, bool) or not isinstance(reg, (int, float, np.integer, np.floating)):
        raise TypeError(f"reg must be a number, got {type(reg).__name__}")
    if not np.isfinite(reg) or reg < 0:
        raise ValueError(f"reg (the L2 strength λ) must be a finite number >= 0, got {reg}")
    return float(reg)


def check_interactions(u, i, r=None, num_users: int | None = None, num_items: int | None = None):
    """Validate index arrays (and ratings): same length, not empty, integer ids in range.

    Returns ``(u, i, r)`` as NumPy arrays (int64, int64, float64; ``r`` may be None).
    """
    u, i = np.asarray(u), np.asarray(i)
    if u.ndim != 1 or i.ndim != 1:
        raise ValueError(f"user and item ids must be 1-D arrays, got shapes {u.shape} and {i.shape}")
    if len(u) != len(i):
        raise ValueError(f"{len(u)} user ids but {len(i)} item ids: they must pair up one to one")
    if len(u) == 0:
        raise ValueError("no interactions given (empty history): nothing to train or evaluate on")
    for ids, what, n in ((u, "user", num_users), (i, "item", num_items)):
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"{what} ids must be integers (0-based indices, e.g. split.train['u']), got {ids.dtype}")
        if ids.min() < 0 or (n is not None and ids.max() >= n):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise ValueError(f"unknown {what} id {bad}: ids must be 0-based indices below num_{what}s = {n} "
                             f"(map the dataset's ids with split.{what}_index)")
    u, i = u.astype(np.int64), i.astype(np.int64)
    if r is not None:
        r = np.asarray(r, dtype=np.float64)
        if r.shape != u.shape:
            raise ValueError(f"{len(u)} (user, item) pairs but ratings of shape {r.shape}")
        if not np.isfinite(r).all():
            raise ValueError("ratings contain NaN or infinity")
    return u, i, r


# --- explicit feedback: biased matrix factorization (NumPy) -----------------------------


@dataclass
class MFParams:
    """Parameters of biased MF: global mean ``mu``, biases, and factor matrices P (users) and Q (items)."""

    mu: float
    user_bias: np.ndarray  # (num_users,)
    item_bias: np.ndarray  # (num_items,)
    P: np.ndarray  # (num_users, k)
    Q: np.ndarray  # (num_items, k)

    def __post_init__(self):
        self.user_bias = np.asarray(self.user_bias, dtype=np.float64)
        self.item_bias = np.asarray(self.item_bias, dtype=np.float64)
        self.P = np.asarray(self.P, dtype=np.float64)
        self.Q = np.asarray(self.Q, dtype=np.float64)
        if self.P.ndim != 2 or self.Q.ndim != 2 or self.P.shape[1] != self.Q.shape[1]:
            raise ValueError(f"P and Q must be (users, k) and (items, k) with the same k, "
                             f"got {self.P.shape} and {self.Q.shape}")
        if self.user_bias.shape != (self.P.shape[0],) or self.item_bias.shape != (self.Q.shape[0],):
            raise ValueError(f"user_bias {self.user_bias.shape} and item_bias {self.item_bias.shape} must match "
                             f"P's {self.P.shape[0]} users and Q's {self.Q.shape[0]} items")

    @property
    def num_users(self) -> int:
        return self.P.shape[0]

    @property
    def num_items(self) -> int:
        return self.Q.shape[0]

    @property
    def num_factors(self) -> int:
        return self.P.shape[1]

    def predict(self, u, i) -> np.ndarray:
        """Predicted ratings r̂_ui for paired arrays of user and item indices."""
        u, i, _ = check_interactions(u, i, None, self.num_users, self.num_items)
        return self.mu + self.user_bias[u] + self.item_bias[i] + np.einsum("nk,nk->n", self.P[u], self.Q[i])

    def score_all(self) -> np.ndarray:
        """(num_users, num_items) matrix of predicted ratings."""
        return self.mu + self.user_bias[:, None] + self.item_bias[None, :] + self.P @ self.Q.T


def init_params(num_users: int, num_items: int, num_factors: int, mu: float, rng, scale: float = 0.1) -> MFParams:
    """Small random factors (N(0, scale²)), zero biases. ``num_factors`` may be 0 (biases only)."""
    num_users, num_items = _check_positive_int(num_users, "num_users"), _check_positive_int(num_items, "num_items")
    if isinstance(num_factors, bool) or not isinstance(num_factors, (int, np.integer)) or num_factors < 0:
        raise ValueError(f"num_factors must be an integer >= 0, got {num_factors!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (rng = seed_everything(0)), got {type(rng).__name__}")
    return MFParams(mu=float(mu), user_bias=np.zeros(num_users), item_bias=np.zeros(num_items),
                    P=scale * rng.standard_normal((num_users, num_factors)),
                    Q=scale * rng.standard_normal((num_items, num_factors)))


def mf_objective(params: MFParams, u, i, r, reg: float) -> float:
    """J = sum of squared errors over the given ratings + reg * (squared norms of all biases and factors)."""
    u, i, r = check_interactions(u, i, r, params.num_users, params.num_items)
    reg = _check_reg(reg)
    err = r - params.predict(u, i)
    penalty = sum(float(np.sum(x ** 2)) for x in (params.P, params.Q, params.user_bias, params.item_bias))
    return float(err @ err) + reg * penalty


def mf_gradients(params: MFParams, u, i, r, reg: float) -> MFParams:
    """Exact gradient of :func:`mf_objective` (μ is fixed, its entry is 0).

    With e_ui = r_ui − r̂_ui:  ∂J/∂p_u = −2 Σ_i e_ui q_i + 2λ p_u,  ∂J/∂b_u = −2 Σ_i e_ui + 2λ b_u,
    and symmetrically for q_i and b_i (sums over the ratings of user u, or of item i).
    """
    u, i, r = check_interactions(u, i, r, params.num_users, params.num_items)
    reg = _check_reg(reg)
    e = r - params.predict(u, i)
    gP, gQ = 2 * reg * params.P, 2 * reg * params.Q
    np.add.at(gP, u, -2 * e[:, None] * params.Q[i])
    np.add.at(gQ, i, -2 * e[:, None] * params.P[u])
    g_bu = -2 * np.bincount(u, e, params.num_users) + 2 * reg * params.user_bias
    g_bi = -2 * np.bincount(i, e, params.num_items) + 2 * reg * params.item_bias
    return MFParams(mu=0.0, user_bias=g_bu, item_bias=g_bi, P=gP, Q=gQ)


def _ridge_rows(rows, cols, targets, features, num_rows: int, reg: float) -> np.ndarray:
    """For every row index a: argmin_x Σ_(a,c) (t − f_c·x)² + reg ‖x‖², all at once.

    The normal equations (F_aᵀF_a + reg I) x_a = F_aᵀ t_a are built for all rows with two
    sparse products (Σ_c f_c f_cᵀ and Σ_c t f_c) and solved by one batched ``np.linalg.solve``.
    """
    from scipy import sparse

    d = features.shape[1]
    C = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_rows, len(features)))
    T = sparse.csr_matrix((targets, (rows, cols)), shape=(num_rows, len(features)))
    outer = np.einsum("cj,ck->cjk", features, features).reshape(len(features), d * d)
    A = (C @ outer).reshape(num_rows, d, d) + reg * np.eye(d)
    b = T @ features
    return np.linalg.solve(A, b[:, :, None])[:, :, 0]


def als_user_step(params: MFParams, u, i, r, reg: float) -> MFParams:
    """Exact minimiser of J over all (p_u, b_u) with items fixed: a ridge regression per user.

    User u's unknowns x_u = [p_u, b_u] see features [q_i, 1] and targets r_ui − μ − b_i.
    """
    u, i, r = check_interactions(u, i, r, params.num_users, params.num_items)
    reg, k = _check_reg(reg), params.num_factors
    features = np.hstack([params.Q, np.ones((params.num_items, 1))])
    X = _ridge_rows(u, i, r - params.mu - params.item_bias[i], features, params.num_users, reg)
    return replace(params, P=X[:, :k], user_bias=X[:, k])


def als_item_step(params: MFParams, u, i, r, reg: float) -> MFParams:
    """Exact minimiser of J over all (q_i, b_i) with users fixed (the mirror of :func:`als_user_step`)."""
    u, i, r = check_interactions(u, i, r, params.num_users, params.num_items)
    reg, k = _check_reg(reg), params.num_factors
    features = np.hstack([params.P, np.ones((params.num_users, 1))])
    Y = _ridge_rows(i, u, r - params.mu - params.user_bias[u], features, params.num_items, reg)
    return replace(params, Q=Y[:, :k], item_bias=Y[:, k])


@dataclass
class RMSEHistory:
    """RMSE after every sweep (or epoch), on the training ratings and on each evaluation set."""

    train: list[float] = field(default_factory=list)
    test: list[float] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)


def fit_als(u, i, r, num_users: int, num_items: int, num_factors: int, reg: float, num_sweeps: int, rng,
            test=None, init_scale: float = 0.1) -> tuple[MFParams, RMSEHistory]:
    """Biased MF by alternating least squares: ``num_sweeps`` times (all users, then all items).

    ``test``: optional (u, i, r) arrays; their RMSE is recorded after every sweep.
    μ is the mean training rating. J can only go down from one half-step to the next.
    """
    u, i, r = check_interactions(u, i, r, num_users, num_items)
    reg, num_sweeps = _check_reg(reg), _check_positive_int(num_sweeps, "num_sweeps")
    if reg == 0:
        raise ValueError("ALS needs reg > 0: without it a user with fewer ratings than factors "
                         "has a singular system")
    params = init_params(num_users, num_items, num_factors, r.mean(), rng, init_scale)
    if test is not None:
        test = check_interactions(*test, num_users, num_items)
    history = RMSEHistory()
    for _ in range(num_sweeps):
        params = als_user_step(params, u, i, r, reg)
        params = als_item_step(params, u, i, r, reg)
        history.train.append(_rmse(params.predict(u, i), r))
        history.objective.append(mf_objective(params, u, i, r, reg))
        if test is not None:
            history.test.append(_rmse(params.predict(test[0], test[1]), test[2]))
    return params, history


def _rmse(pred, actual) -> float:
    return float(np.sqrt(np.mean((pred - actual) ** 2)))


def item_bias_baseline(u, i, r, num_users: int, num_items: int, reg_item: float = 5.0,
                       reg_user: float = 10.0) -> MFParams:
    """Biases only, in closed form: damped item means, then damped user means of the residuals."""
    u, i, r = check_interactions(u, i, r, num_users, num_items)
    mu = r.mean()
    b_i = np.bincount(i, r - mu, num_items) / (np.bincount(i, minlength=num_items) + _check_reg(reg_item))
    b_u = np.bincount(u, r - mu - b_i[i], num_users) / (np.bincount(u, minlength=num_users) + _check_reg(reg_user))
    return MFParams(mu=mu, user_bias=b_u, item_bias=b_i, P=np.zeros((num_users, 0)), Q=np.zeros((num_items, 0)))


# --- PyTorch models ---------------------------------------------------------------------

class BiasedMF(nn.Module):
    """r̂ = μ + b_u + b_i + p_u·q_i as a PyTorch module; ``forward(X)`` takes (batch, 2) (user, item) ids.

    Train it on the objective J/N with ``torch.optim.Adam(..., weight_decay=2 * reg / N)``: the
    weight-decay term is exactly the gradient of (reg / N) × the squared norms.
    """

    def __init__(self, num_users: int, num_items: int, num_factors: int, mu: float, init_scale: float = 0.1):
        super().__init__()
        self.num_users = _check_positive_int(num_users, "num_users")
        self.num_items = _check_positive_int(num_items, "num_items")
        k = _check_positive_int(num_factors, "num_factors")
        self.register_buffer("mu", torch.tensor(float(mu)))
        self.user_bias = nn.Parameter(torch.zeros(num_users))
        self.item_bias = nn.Parameter(torch.zeros(num_items))
        self.P = nn.Parameter(init_scale * torch.randn(num_users, k))
        self.Q = nn.Parameter(init_scale * torch.randn(num_items, k))

    def forward(self, X):
        _check_pairs(X, self.num_users, self.num_items)
        u, i = X[:, 0], X[:, 1]
        return self.mu + self.user_bias[u] + self.item_bias[i] + (self.P[u] * self.Q[i]).sum(dim=1)

    def to_params(self) -> MFParams:
        with torch.no_grad():
            return MFParams(mu=float(self.mu), user_bias=self.user_bias.double().cpu().numpy(),
                            item_bias=self.item_bias.double().cpu().numpy(),
                            P=self.P.double().cpu().numpy(), Q=self.Q.double().cpu().numpy())

    def score_all(self) -> np.ndarray:
        return self.to_params().score_all()


class BPR(nn.Module):
    """Implicit-feedback scorer x̂_ui = p_u·q_i + b_i (a user bias would cancel in x̂_ui − x̂_uj)."""

    def __init__(self, num_users: int, num_items: int, num_factors: int, init_scale: float = 0.1):
        super().__init__()
        self.num_users = _check_positive_int(num_users, "num_users")
        self.num_items = _check_positive_int(num_items, "num_items")
        k = _check_positive_int(num_factors, "num_factors")
        self.P = nn.Parameter(init_scale * torch.randn(num_users, k))
        self.Q = nn.Parameter(init_scale * torch.randn(num_items, k))
        self.item_bias = nn.Parameter(torch.zeros(num_items))

    def forward(self, X):
        _check_pairs(X, self.num_users, self.num_items)
        u, i = X[:, 0], X[:, 1]
        return (self.P[u] * self.Q[i]).sum(dim=1) + self.item_bias[i]

    def score_all(self) -> np.ndarray:
        with torch.no_grad():
            return (self.P @ self.Q.T + self.item_bias).double().cpu().numpy()


class ConcatMLP(nn.Module):
    """NCF-style scorer: MLP(concat(p_u, q_i)) -> one logit (He et al. 2017, the "MLP" half of NCF).

    The hidden layer with a ReLU lets user and item features interact; a linear layer on the
    concatenation alone could not (its score would be a user term plus an item term).
    """

    def __init__(self, num_users: int, num_items: int, num_factors: int, num_hiddens: int = 64,
                 init_scale: float = 0.1):
        super().__init__()
        self.num_users = _check_positive_int(num_users, "num_users")
        self.num_items = _check_positive_int(num_items, "num_items")
        k = _check_positive_int(num_factors, "num_factors")
        self.P = nn.Parameter(init_scale * torch.randn(num_users, k))
        self.Q = nn.Parameter(init_scale * torch.randn(num_items, k))
        self.mlp = nn.Sequential(nn.Linear(2 * k, _check_positive_int(num_hiddens, "num_hiddens")),
                                 nn.ReLU(), nn.Linear(num_hiddens, 1))

    def forward(self, X):
        _check_pairs(X, self.num_users, self.num_items)
        return self.mlp(torch.cat((self.P[X[:, 0]], self.Q[X[:, 1]]), dim=1)).squeeze(1)

    def score_all(self) -> np.ndarray:
        """All scores at once. The first layer is linear in the concatenation, W[p; q] + c =
        W_u p + W_i q + c, so it is computed once per user and once per item, not per pair."""
        out = np.empty((self.num_users, self.num_items))
        first, last = self.mlp[0], self.mlp[2]
        k = self.P.shape[1]
        with torch.no_grad():
            user_part = self.P @ first.weight[:, :k].T + first.bias  # (users, hidden)
            item_part = self.Q @ first.weight[:, k:].T  # (items, hidden)
            for u in range(0, self.num_users, 128):  # 128 users at a time: bounded memory
                hidden = torch.relu(user_part[u:u + 128, None, :] + item_part[None, :, :])
                out[u:u + 128] = (hidden @ last.weight[0] + last.bias).double().cpu().numpy()
        return out


def _check_pairs(X, num_users: int, num_items: int) -> None:
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"expected a (batch, 2) tensor of (user, item) ids, got "
                         f"{tuple(X.shape) if hasattr(X, 'shape') else type(X).__name__}")
    if X.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"(user, item) ids must be an integer tensor, got {X.dtype}")
    if len(X) and (X.min() < 0 or X[:, 0].max() >= num_users or X[:, 1].max() >= num_items):
        raise ValueError(f"unknown user or item id: users must be in [0, {num_users}), items in [0, {num_items})")


class BatchLoader:
    """Shuffled mini-batches of (X, y) tensors, for :func:`utils.train.fit` (faster than a DataLoader
    over single examples: one index operation per batch), reshuffled every epoch from ``seed``."""

    def __init__(self, X, y, batch_size: int, shuffle: bool = True, seed: int = 0):
        if len(X) != len(y):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if len(X) == 0:
            raise ValueError("BatchLoader got no examples")
        self.X, self.y = X, y
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n = len(self.X)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.X[idx], self.y[idx]


def pairs_tensor(u, i):
    """(N, 2) int64 tensor of (user, item) ids from two arrays."""
    u, i, _ = check_interactions(u, i)
    return torch.from_numpy(np.stack([u, i], axis=1))


# --- implicit feedback ------------------------------------------------------------------


def seen_matrix(u, i, num_users: int, num_items: int) -> np.ndarray:
    """Boolean (num_users, num_items): True where the user interacted with the item in training."""
    u, i, _ = check_interactions(u, i, None, num_users, num_items)
    seen = np.zeros((num_users, num_items), dtype=bool)
    seen[u, i] = True
    return seen


def sample_negatives(u, seen: np.ndarray, rng) -> np.ndarray:
    """For each user id in ``u``, one item drawn uniformly from the items that user has NOT seen."""
    seen = np.asarray(seen, dtype=bool)
    if seen.ndim != 2:
        raise ValueError(f"seen must be a (num_users, num_items) boolean matrix, got shape {seen.shape}")
    u, _, _ = check_interactions(u, np.zeros(len(np.asarray(u)), dtype=np.int64), None, seen.shape[0], None)
    full = seen.all(axis=1)[u]
    if full.any():
        raise ValueError(f"user {u[np.argmax(full)]} has seen every item: no negative can be sampled")
    j = rng.integers(0, seen.shape[1], size=len(u))
    bad = seen[u, j]
    while bad.any():  # rejection sampling: redraw the few that hit a seen item
        j[bad] = rng.integers(0, seen.shape[1], size=int(bad.sum()))
        bad = seen[u, j]
    return j


def bpr_loss(pos_scores, neg_scores):
    """Mean of −log σ(x̂_ui − x̂_uj), computed stably as softplus(x̂_uj − x̂_ui)."""
    if pos_scores.shape != neg_scores.shape:
        raise ValueError(f"positive and negative scores must pair up, got {tuple(pos_scores.shape)} "
                         f"and {tuple(neg_scores.shape)}")
    return F.softplus(neg_scores - pos_scores).mean()


@dataclass
class ImplicitHistory:
    """Per-epoch mean training loss, wall seconds, and ``eval_fn``'s value if one was given."""

    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    metric_epochs: list[int] = field(default_factory=list)


def fit_implicit(model, u, i, num_epochs: int, rng, loss: str = "bpr", lr: float = 0.01, reg: float = 0.0,
                 batch_size: int = 2048, num_negatives: int = 1, eval_fn=None,
                 eval_every: int = 1) -> ImplicitHistory:
    """Train an implicit-feedback scorer on the positive pairs (u, i) with sampled negatives.

    ``loss="bpr"``: −log σ(x̂_ui − x̂_uj) for one negative j per positive (Rendle et al. 2009);
    ``loss="bce"``: binary cross-entropy with logits, label 1 for (u, i) and 0 for each of
    ``num_negatives`` sampled (u, j). Negatives are drawn anew every epoch, uniformly among the
    items the user has not interacted with. ``reg`` is an L2 penalty on the embeddings used in
    the batch (reg × squared norms / batch size). ``eval_fn(model)``, if given, is called after
    every ``eval_every`` epochs (in eval mode, and after the last epoch) and its value recorded in
    ``history.metric`` (the epochs in ``history.metric_epochs``).
    """
    if loss not in ("bpr", "bce"):
        raise ValueError(f"loss must be 'bpr' or 'bce', got {loss!r}")
    num_epochs = _check_positive_int(num_epochs, "num_epochs")
    num_negatives = _check_positive_int(num_negatives, "num_negatives")
    batch_size = _check_positive_int(batch_size, "batch_size")
    eval_every = _check_positive_int(eval_every, "eval_every")
    reg = _check_reg(reg)
    if loss == "bpr" and num_negatives != 1:
        raise ValueError("BPR pairs each positive with one negative: use num_negatives=1")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    u, i, _ = check_interactions(u, i, None, model.num_users, model.num_items)
    seen = seen_matrix(u, i, model.num_users, model.num_items)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = ImplicitHistory()
    model.train()
    for epoch in range(1, num_epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(u))
        uu = np.repeat(u[order], num_negatives)
        j = sample_negatives(uu, seen, rng)
        total, count = 0.0, 0
        for s in range(0, len(u), batch_size):
            b = order[s:s + batch_size]
            ub, ib = torch.from_numpy(u[b]), torch.from_numpy(i[b])
            jb = torch.from_numpy(j[s * num_negatives:(s + len(b)) * num_negatives])
            ubn = ub.repeat_interleave(num_negatives)
            pos = model(torch.stack([ub, ib], 1))
            neg = model(torch.stack([ubn, jb], 1))
            if loss == "bpr":
                batch_loss = bpr_loss(pos, neg)
            else:
                logits = torch.cat([pos, neg])
                labels = torch.cat([torch.ones_like(pos), torch.zeros_like(neg)])
                batch_loss = F.binary_cross_entropy_with_logits(logits, labels)
            penalty = 0.0
            if reg > 0:
                penalty = reg * (model.P[ub].pow(2).sum() + model.Q[ib].pow(2).sum()
                                 + model.Q[jb].pow(2).sum()) / len(b)
            optimizer.zero_grad()
            (batch_loss + penalty).backward()
            optimizer.step()
            total += batch_loss.item() * len(b)
            count += len(b)
        history.loss.append(total / count)
        history.seconds.append(time.perf_counter() - start)
        if eval_fn is not None and (epoch % eval_every == 0 or epoch == num_epochs):
            model.eval()
            history.metric.append(float(eval_fn(model)))
            history.metric_epochs.append(epoch)
            model.train()
    model.eval()
    return history


# --- implicit alternating least squares (Hu, Koren and Volinsky 2008) --------------------


@dataclass
class IALSParams:
    """Factors of implicit ALS: user factors P (users, k) and item factors Q (items, k); x̂_ui = p_u·q_i."""

    P: np.ndarray
    Q: np.ndarray

    def __post_init__(self):
        self.P = np.asarray(self.P, dtype=np.float64)
        self.Q = np.asarray(self.Q, dtype=np.float64)
        if self.P.ndim != 2 or self.Q.ndim != 2 or self.P.shape[1] != self.Q.shape[1]:
            raise ValueError(f"P and Q must be (users, k) and (items, k) with the same k, "
                             f"got {self.P.shape} and {self.Q.shape}")

    @property
    def num_users(self) -> int:
        return self.P.shape[0]

    @property
    def num_items(self) -> int:
        return self.Q.shape[0]

    def score_all(self) -> np.ndarray:
        """(num_users, num_items) matrix of scores p_u·q_i."""
        return self.P @ self.Q.T


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha (the extra confidence of an observed pair) must be a finite number >= 0, got {alpha}")
    return float(alpha)


def _binary_matrix(rows, cols, num_rows: int, num_cols: int):
    """Sparse 0/1 matrix with a 1 at every (row, col) pair (duplicates count once)."""
    from scipy import sparse

    C = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(num_rows, num_cols))
    C.data[:] = 1.0  # a repeated pair is still one interaction
    return C


def _ials_rows(C, features, reg: float, alpha: float) -> np.ndarray:
    """For every row a of the 0/1 matrix C: argmin_x Σ_c w_ac (C_ac − f_c·x)² + reg ‖x‖²
    over ALL columns c, with confidence w_ac = 1 + alpha·C_ac. Normal equations:
    (FᵀF + alpha Σ_(c observed) f_c f_cᵀ + reg I) x_a = (1 + alpha) Σ_(c observed) f_c."""
    d = features.shape[1]
    outer = np.einsum("cj,ck->cjk", features, features).reshape(len(features), d * d)
    A = (features.T @ features + reg * np.eye(d)) + alpha * (C @ outer).reshape(C.shape[0], d, d)
    b = (1 + alpha) * (C @ features)
    return np.linalg.solve(A, b[:, :, None])[:, :, 0]


def ials_user_step(params: IALSParams, u, i, reg: float, alpha: float) -> IALSParams:
    """Exact minimiser of the iALS objective over all user factors, item factors fixed.

    For user u: min_p Σ_(every item i) c_ui (y_ui − p·q_i)² + reg ‖p‖², where y_ui = 1 if u
    interacted with i (else 0) and c_ui = 1 + alpha·y_ui: a weighted ridge regression.
    """
    u, i, _ = check_interactions(u, i, None, params.num_users, params.num_items)
    reg, alpha = _check_reg(reg), _check_alpha(alpha)
    C = _binary_matrix(u, i, params.num_users, params.num_items)
    return replace(params, P=_ials_rows(C, params.Q, reg, alpha))


def ials_item_step(params: IALSParams, u, i, reg: float, alpha: float) -> IALSParams:
    """The mirror of :func:`ials_user_step`: every item's factors, user factors fixed."""
    u, i, _ = check_interactions(u, i, None, params.num_users, params.num_items)
    reg, alpha = _check_reg(reg), _check_alpha(alpha)
    C = _binary_matrix(i, u, params.num_items, params.num_users)
    return replace(params, Q=_ials_rows(C, params.P, reg, alpha))


def ials_objective(params: IALSParams, u, i, reg: float, alpha: float) -> float:
    """Σ over ALL (user, item) cells of c_ui (y_ui − p_u·q_i)² + reg (‖P‖² + ‖Q‖²)."""
    u, i, _ = check_interactions(u, i, None, params.num_users, params.num_items)
    reg, alpha = _check_reg(reg), _check_alpha(alpha)
    pairs = np.unique(u * params.num_items + i)
    uo, io = pairs // params.num_items, pairs % params.num_items
    s = np.einsum("nk,nk->n", params.P[uo], params.Q[io])
    every_cell = float(np.sum((params.P.T @ params.P) * (params.Q.T @ params.Q)))  # Σ_all s², never forming it
    observed = float(np.sum((1 + alpha) * (1 - s) ** 2 - s ** 2))  # replace the s² of observed cells
    return every_cell + observed + reg * float(np.sum(params.P ** 2) + np.sum(params.Q ** 2))


def fit_ials(u, i, num_users: int, num_items: int, num_factors: int, reg: float, alpha: float,
             num_sweeps: int, rng, init_scale: float = 0.1, eval_fn=None) -> tuple[IALSParams, list]:
    """Implicit ALS (Hu, Koren and Volinsky 2008): ``num_sweeps`` times all users, then all items.

    Every (user, item) cell is a data point: 1 with confidence 1 + alpha where the user
    interacted with the item, 0 with confidence 1 elsewhere. ``eval_fn(params)``, if
    given, is called after every sweep; the list of its values is returned (else []).
    """
    u, i, _ = check_interactions(u, i, None, num_users, num_items)
    reg, alpha = _check_reg(reg), _check_alpha(alpha)
    num_sweeps = _check_positive_int(num_sweeps, "num_sweeps")
    k = _check_positive_int(num_factors, "num_factors")
    if reg == 0:
        raise ValueError("iALS needs reg > 0 (the L2 strength λ)")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    params = IALSParams(P=init_scale * rng.standard_normal((num_users, k)),
                        Q=init_scale * rng.standard_normal((num_items, k)))
    C_users = _binary_matrix(u, i, num_users, num_items)
    C_items = C_users.T.tocsr()
    history = []
    for _ in range(num_sweeps):
        params = replace(params, P=_ials_rows(C_users, params.Q, reg, alpha))
        params = replace(params, Q=_ials_rows(C_items, params.P, reg, alpha))
        if eval_fn is not None:
            history.append(float(eval_fn(params)))
    return params, history


# --- EASE (Steck 2019) ------------------------------------------------------------------


def ease_weights(X, reg: float) -> np.ndarray:
    """EASE item-item weights: argmin_B ‖X − XB‖² + reg ‖B‖² subject to diag(B) = 0.

    Closed form (Steck 2019): P = (XᵀX + reg I)⁻¹, B_ij = −P_ij / P_jj, B_jj = 0. Column j
    is the ridge regression of item j's column on all the other items' columns.
    Scores are X @ B.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be a (users, items) matrix, got shape {X.shape}")
    reg = _check_reg(reg)
    if reg == 0:
        raise ValueError("EASE needs reg > 0: XᵀX is singular for an item nobody interacted with")
    from scipy import linalg

    # Here the inverse itself is wanted (its diagonal scales every column): one Cholesky
    # factorisation of the symmetric positive definite matrix, solved against the identity.
    P = linalg.cho_solve(linalg.cho_factor(X.T @ X + reg * np.eye(X.shape[1])), np.eye(X.shape[1]))
    B = -P / np.diag(P)[None, :]
    np.fill_diagonal(B, 0.0)
    return B


# --- helpers ----------------------------------------------------------------------------


def popularity_scores(u, i, num_users: int, num_items: int) -> np.ndarray:
    """Every user gets the same scores: how many training interactions each item has."""
    u, i, _ = check_interactions(u, i, None, num_users, num_items)
    return np.tile(np.bincount(i, minlength=num_items).astype(float), (num_users, 1))


def cosine_neighbours(factors, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The k items whose factor vectors have the highest cosine with ``item``'s (itself excluded)."""
    V = np.asarray(factors, dtype=np.float64)
    if V.ndim != 2:
        raise ValueError(f"factors must be a (num_items, k) matrix, got shape {V.shape}")
    if isinstance(item, bool) or not isinstance(item, (int, np.integer)) or not 0 <= item < len(V):
        raise ValueError(f"unknown item {item!r}: must be a 0-based index below {len(V)}")
    k = _check_positive_int(k, "k")
    if k >= len(V):
        raise ValueError(f"k={k} neighbours asked but only {len(V) - 1} other items exist")
    norms = np.linalg.norm(V, axis=1)
    sims = V @ V[item] / np.maximum(norms * norms[item], 1e-12)
    sims[item] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return top, sims[top]
