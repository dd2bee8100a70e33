"""Privacy for machine learning, written out (chapter 9, sections 9.8 and 9.9).

Section 9.8, differential privacy and membership inference:

- :func:`per_sample_grads`: one gradient per example with ``torch.func`` (vmap of grad);
- :func:`clip_and_sum`: scale each example's whole gradient to norm at most ``C`` and sum
  (the same clip factor as opacus: ``min(1, C / (norm + 1e-6))``);
- :func:`dp_sgd_step` and :func:`train_dp_sgd`: DP-SGD (Abadi et al., 2016) with Poisson
  sampling, Gaussian noise of standard deviation ``sigma * C`` and division by the
  *expected* batch size;
- :func:`sgm_rdp`, :func:`rdp_to_epsilon`, :func:`dp_epsilon`: the privacy accountant, the
  Renyi DP of the sampled Gaussian mechanism at integer orders (Mironov et al., 2019) and
  its conversion to (epsilon, delta) (Balle et al., 2020), the formulas opacus uses;
- :func:`auc`, :func:`bootstrap_auc_ci`: the membership-inference attack's score.

Section 9.9, federated learning, anonymisation and encryption: :func:`split_clients`,
:func:`fedavg`, :func:`batch_label_leak`, :func:`unique_share`, :func:`k_anonymity`,
:func:`generalise`, :func:`linkage_attack`, :func:`quantise`, :func:`dequantise`.
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

__all__ = ["mlp", "per_sample_grads", "clip_and_sum", "dp_sgd_step", "train_dp_sgd", "train_plain", "accuracy",
           "per_example_loss", "sgm_rdp", "rdp_to_epsilon", "dp_epsilon", "auc", "bootstrap_auc_ci", "dp_auc_bound", "ORDERS",
           "split_clients", "weighted_average", "fedavg", "batch_label_leak", "unique_share", "k_anonymity", "generalise",
           "linkage_attack", "quantise", "dequantise"]

ORDERS = tuple(range(2, 257))  # integer Renyi orders: exact binomial formula, optimum well inside for eps >= 0.3


def mlp(d_in: int = 784, hidden: int = 64, n_classes: int = 10) -> nn.Sequential:
    """The small classifier of 9.8 and 9.9: flatten -> linear -> ReLU -> linear."""
    return nn.Sequential(nn.Flatten(), nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))


def _check_batch(X, y) -> None:
    if len(X) == 0:
        raise ValueError("empty batch: per-sample gradients need at least one example")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} examples but y has {len(y)} labels")


def per_sample_grads(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
                     loss_fn: Callable = nn.functional.cross_entropy) -> dict[str, torch.Tensor]:
    """``{name: (B, *param.shape)}``: the gradient of each example's own loss.

    ``torch.func.grad`` differentiates a function of the parameters for ONE example;
    ``vmap`` maps it over the batch without a Python loop (the batch dimension is added
    back with ``unsqueeze``, so layers see a batch of one).
    """
    _check_batch(X, y)
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def loss_one(p, x, t):
        out = functional_call(model, (p, buffers), (x.unsqueeze(0),))
        return loss_fn(out, t.unsqueeze(0))

    return vmap(grad(loss_one), in_dims=(None, 0, 0))(params, X, y)


def clip_and_sum(grads: dict[str, torch.Tensor], C: float) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Clip each example's gradient (all parameters together) to norm <= ``C``, then sum.

    Returns the summed clipped gradients and the per-example norms before clipping.
    The factor ``min(1, C / (norm + 1e-6))`` is opacus' (the 1e-6 avoids 0/0).
    """
    if not C > 0:
        raise ValueError(f"the clipping norm C must be positive, got {C}")
    norms = torch.stack([g.reshape(len(g), -1).norm(dim=1) for g in grads.values()], dim=1).norm(dim=1)
    factor = (C / (norms + 1e-6)).clamp(max=1.0)
    return {k: torch.einsum("i,i...->...", factor.to(g.dtype), g) for k, g in grads.items()}, norms


def dp_sgd_step(model: nn.Module, X, y, C: float, sigma: float, expected_batch_size: float, lr: float,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """One DP-SGD step in place: per-sample grads, clip to C, sum, add N(0, (sigma C)^2) per
    coordinate, divide by the expected batch size, ``param -= lr * update``. Returns the update.

    Noise is drawn parameter by parameter in ``named_parameters`` order with ``generator``,
    the order opacus uses, so the same generator state gives the same noise.
    """
    params = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    if len(X) == 0:
        summed = {k: torch.zeros_like(p) for k, p in params}
    else:
        summed, _ = clip_and_sum(per_sample_grads(model, X, y), C)
    update = {}
    for k, p in params:
        noise = torch.normal(0.0, sigma * C, size=p.shape, device=p.device, dtype=p.dtype, generator=generator) \
            if sigma > 0 else torch.zeros_like(p)
        update[k] = (summed[k] + noise) / expected_batch_size
    with torch.no_grad():
        for k, p in params:
            p -= lr * update[k]
    return update


def train_dp_sgd(model: nn.Module, X, y, q: float, sigma: float, C: float, steps: int, lr: float,
                 seed: int = 0) -> nn.Module:
    """DP-SGD with Poisson sampling: at every step each example joins the batch with
    probability ``q`` (what the accountant assumes). Returns the trained model."""
    if not 0 < q <= 1:
        raise ValueError(f"the sampling rate q must be in (0, 1], got {q}")
    device = next(model.parameters()).device
    g_cpu = torch.Generator().manual_seed(seed)
    g_noise = torch.Generator(device=device).manual_seed(seed + 1)
    n = len(X)
    for _ in range(steps):
        idx = torch.nonzero(torch.rand(n, generator=g_cpu) < q).squeeze(1).to(device)
        dp_sgd_step(model, X[idx], y[idx], C, sigma, q * n, lr, generator=g_noise)
    return model


def train_plain(model: nn.Module, X, y, epochs: int, lr: float = 1e-3, batch_size: int = 100,
                weight_decay: float = 0.0, seed: int = 0) -> nn.Module:
    """Ordinary (non-private) training with Adam and shuffled mini-batches."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=g).split(batch_size):
            idx = idx.to(X.device)
            opt.zero_grad()
            nn.functional.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    return model


@torch.no_grad()
def per_example_loss(model: nn.Module, X, y) -> np.ndarray:
    """Cross-entropy of each example (the membership-inference attack's signal), as NumPy."""
    model.eval()
    out = nn.functional.cross_entropy(model(X), y, reduction="none").cpu().numpy()
    model.train()
    return out


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    model.eval()
    acc = (model(X).argmax(1) == y).float().mean().item()
    model.train()
    return acc


# ---------------------------------------------------------------- the accountant

def sgm_rdp(q: float, sigma: float, alpha: int) -> float:
    """Renyi DP of ONE step of the sampled Gaussian mechanism at integer order ``alpha``:

        (1 / (alpha - 1)) log sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2))

    (Mironov, Talwar & Zhang, 2019), summed in log space so large orders do not overflow.
    """
    if isinstance(alpha, bool) or int(alpha) != alpha or alpha < 2:
        raise ValueError(f"alpha must be an integer >= 2, got {alpha}")
    if not 0 <= q <= 1 or not sigma > 0:
        raise ValueError(f"need 0 <= q <= 1 and sigma > 0, got q={q}, sigma={sigma}")
    alpha = int(alpha)
    if q == 0:
        return 0.0
    if q == 1:
        return alpha / (2 * sigma ** 2)
    k = np.arange(alpha + 1)
    log_binom = np.array([math.lgamma(alpha + 1) - math.lgamma(i + 1) - math.lgamma(alpha - i + 1) for i in k])
    terms = log_binom + (alpha - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2 * sigma ** 2)
    m = terms.max()
    return float((m + math.log(np.exp(terms - m).sum())) / (alpha - 1))


def rdp_to_epsilon(rdp: Sequence[float], orders: Sequence[float], delta: float) -> tuple[float, float]:
    """(epsilon, best order) from RDP values: the conversion of Balle et al. (2020, Thm 21),
    ``eps = rdp - (log delta + log a) / (a - 1) + log((a - 1) / a)``, minimised over orders."""
    rdp, orders = np.asarray(rdp, dtype=float), np.asarray(orders, dtype=float)
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    eps = rdp - (np.log(delta) + np.log(orders)) / (orders - 1) + np.log((orders - 1) / orders)
    i = int(np.nanargmin(eps))
    return float(eps[i]), float(orders[i])


def dp_epsilon(q: float, sigma: float, steps: int, delta: float, orders: Sequence[int] = ORDERS) -> float:
    """Epsilon after ``steps`` DP-SGD steps (RDP composes by adding)."""
    return rdp_to_epsilon([steps * sgm_rdp(q, sigma, a) for a in orders], orders, delta)[0]


# ---------------------------------------------------------------- the attack's score

def auc(pos, neg) -> float:
    """Area under the ROC curve: the probability that a random positive (member) scores above
    a random negative, ties counting one half. The course's one implementation,
    :func:`utils.embeddings.auc` (the Mann-Whitney statistic)."""
    from utils.embeddings import auc as mann_whitney_auc

    return mann_whitney_auc(pos, neg)


def bootstrap_auc_ci(pos, neg, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of :func:`auc`: members and non-members pooled and
    resampled with replacement, by the course's :func:`utils.clinical.bootstrap_ci`."""
    from utils import clinical

    pos, neg = np.asarray(pos, dtype=float).ravel(), np.asarray(neg, dtype=float).ravel()
    y = np.r_[np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)]
    _, low, high = clinical.bootstrap_ci(y, np.r_[pos, neg], n_boot=n_boot, level=level, seed=seed)
    return low, high


def dp_auc_bound(epsilon: float, delta: float, grid: int = 20001) -> float:
    """The largest ROC AUC ANY membership test can reach against an (epsilon, delta)-DP
    algorithm: its ROC curve lies below TPR = min(1, e^eps FPR + delta,
    1 - e^-eps (1 - delta - FPR)) (Kairouz, Oh & Viswanath, 2015), integrated over FPR."""
    if epsilon < 0 or not 0 <= delta < 1:
        raise ValueError(f"need epsilon >= 0 and 0 <= delta < 1, got {epsilon}, {delta}")
    fpr = np.linspace(0, 1, grid)
    tpr = np.minimum.reduce([np.ones_like(fpr), math.exp(epsilon) * fpr + delta,
                             1 - math.exp(-epsilon) * (1 - delta - fpr)])
    return float(np.trapezoid(np.clip(tpr, 0, 1), fpr))


# ---------------------------------------------------------------- 9.9 federated learning

def split_clients(y, n_clients: int, iid: bool = True, shards_per_client: int = 2, seed: int = 0) -> list[np.ndarray]:
    """Indices of each client's examples. IID: a random equal split. Non-IID: sort by label,
    cut into ``n_clients * shards_per_client`` shards and deal each client that many
    (McMahan et al., 2017): with 2 shards most clients hold only two digits."""
    y = np.asarray(y)
    if n_clients < 1 or n_clients > len(y):
        raise ValueError(f"n_clients must be between 1 and {len(y)}, got {n_clients}")
    rng = np.random.default_rng(seed)
    if iid:
        return [np.sort(part) for part in np.array_split(rng.permutation(len(y)), n_clients)]
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, n_clients * shards_per_client)
    deal = rng.permutation(len(shards)).reshape(n_clients, shards_per_client)
    return [np.sort(np.concatenate([shards[s] for s in row])) for row in deal]


def weighted_average(states: list[dict], weights) -> dict:
    """Average of state dicts, weighted (FedAvg weights each client by its number of examples)."""
    if not states:
        raise ValueError("no client states to average")
    w = torch.as_tensor(np.asarray(weights, dtype=float) / np.sum(weights))
    return {k: sum(wi.to(s[k].dtype) * s[k] for wi, s in zip(w, states)) for k in states[0]}


def fedavg(model: nn.Module, X, y, clients: list[np.ndarray], rounds: int, local_epochs: int = 1,
           lr: float = 0.1, batch_size: int = 50, seed: int = 0, X_val=None, y_val=None):
    """Federated averaging (McMahan et al., 2017), every client taking part in every round:
    each client starts from the global model, runs ``local_epochs`` of SGD on its own data,
    and sends back its weights; the server averages them, weighted by client size.
    Returns the model and the validation accuracy after each round (if X_val is given)."""
    g = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(rounds):
        states, sizes = [], []
        for idx in clients:
            local = copy.deepcopy(model)
            opt = torch.optim.SGD(local.parameters(), lr=lr)
            Xc, yc = X[torch.as_tensor(idx, device=X.device)], y[torch.as_tensor(idx, device=y.device)]
            for _ in range(local_epochs):
                for b in torch.randperm(len(idx), generator=g).split(batch_size):
                    b = b.to(X.device)
                    opt.zero_grad()
                    nn.functional.cross_entropy(local(Xc[b]), yc[b]).backward()
                    opt.step()
            states.append({k: v.detach() for k, v in local.state_dict().items()})
            sizes.append(len(idx))
        model.load_state_dict(weighted_average(states, sizes))
        if X_val is not None:
            history.append(accuracy(model, X_val, y_val))
    return model, history


def batch_label_leak(bias_grad) -> set[int]:
    """Labels present in a batch, read off the gradient of the LAST layer's bias.

    With softmax + cross-entropy that gradient is mean_i (p_i - onehot(y_i)): a class's
    entry is negative only if some example of the batch has that label (p < 1)."""
    g = torch.as_tensor(bias_grad).detach().cpu()
    return set(int(c) for c in torch.nonzero(g < 0).flatten())


# ---------------------------------------------------------------- 9.9 anonymisation

def unique_share(table, columns) -> float:
    """Share of rows whose combination of ``columns`` no other row has."""
    if len(table) == 0:
        raise ValueError("empty table")
    sizes = table.groupby(list(columns), observed=True)[list(columns)[0]].transform("size")
    return float((sizes == 1).mean())


def k_anonymity(table, columns) -> int:
    """The table's k: the size of its smallest group of rows identical on ``columns``."""
    if len(table) == 0:
        raise ValueError("empty table")
    return int(table.groupby(list(columns), observed=True).size().min())


def generalise(users, age_band: int = 1, zip_digits: int = 5):
    """Coarsen MovieLens' quasi-identifiers: age into bands of ``age_band`` years (1 keeps
    it), zip code to its first ``zip_digits`` characters (0 drops it)."""
    if age_band < 1 or not 0 <= zip_digits <= 5:
        raise ValueError(f"need age_band >= 1 and 0 <= zip_digits <= 5, got {age_band}, {zip_digits}")
    out = users.copy()
    out["age"] = (users["age"] // age_band) * age_band
    out["zip_code"] = users["zip_code"].str[:zip_digits]
    return out


def linkage_attack(R: np.ndarray, T: np.ndarray, target: int, items, rng: np.random.Generator,
                   rating_tol: float = 1.0, day_tol: float = 14.0) -> bool:
    """Narayanan & Shmatikov (2008) style: the attacker knows, for ``items`` the target rated,
    the rating within +-``rating_tol`` (a noisy copy of it) and the date within +-``day_tol`` days.
    R, T: users x items ratings (0 = not rated) and days. Each user scores the sum over
    known items of w_i = 1 / log(1 + raters of i) when rating and date are close enough
    (rare items weigh more). Returns True if the target is the unique best match."""
    items = np.asarray(items)
    aux_r = R[target, items] + rng.integers(-int(rating_tol), int(rating_tol) + 1, len(items))
    aux_t = T[target, items] + rng.uniform(-day_tol, day_tol, len(items))
    rated = R[:, items] > 0
    match = rated & (np.abs(R[:, items] - aux_r) <= rating_tol) & (np.abs(T[:, items] - aux_t) <= day_tol)
    w = 1.0 / np.log1p((R[:, items] > 0).sum(axis=0))
    score = match @ w
    best = score.max()
    return bool(score[target] == best and (score == best).sum() == 1)


# ---------------------------------------------------------------- 9.9 encryption

def quantise(x, scale: int = 2 ** 16) -> list[int]:
    """Fixed-point encoding for additive encryption: round(x * scale) as Python ints."""
    return [int(v) for v in np.round(np.asarray(x, dtype=float) * scale).astype(np.int64)]


def dequantise(ints, scale: int = 2 ** 16) -> np.ndarray:
    return np.asarray(ints, dtype=float) / scale
