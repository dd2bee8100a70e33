"""Scaling laws, measured: train a family of small GPTs, fit power laws, predict a larger run (chapter 9.1).

The models are the course's :class:`utils.gpt.GPT`; compute is section 1.1's
``C = 6 N D`` (:func:`utils.sizing.training_flops`)::

    from utils import scaling
    run = scaling.train_run(train_ids, val_x, val_y, scaling.model_config(2, 32, vocab_size=88),
                            n_tokens=100_000)                  # one run: N, D, C, validation loss, CPU s
    fit = scaling.fit_chinchilla(N, D, L)                      # L(N, D) = E + A / N^alpha + B / D^beta
    n_opt, d_opt = scaling.compute_optimal(1e12, fit)          # the best split of a compute budget

- Runs: :func:`model_config` (a GPT shape with one head per 16 dimensions),
  :func:`train_run` (AdamW, warm-up and cosine decay to the run's own token budget,
  then the loss on fixed validation windows).
- Laws: :func:`power_law` and :func:`fit_power_law` (``L = E + A N^-alpha``, or without
  the offset ``E``), :func:`chinchilla_loss` and :func:`fit_chinchilla` (Hoffmann et
  al., 2022, approach 3: Huber loss on log-losses, L-BFGS from a grid of starts).
- Compute: :func:`tokens_for_budget` (``D = C / 6N``), :func:`compute_optimal` (the
  closed-form optimum of the fitted law), :func:`isoflop_minimum` (a parabola in
  ``log N`` through the runs of one budget: approach 2).
- :data:`PUBLISHED`: the published fits this section compares with.
"""
from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
import torch

from utils import gpt, sizing

__all__ = ["PUBLISHED", "ChinchillaFit", "model_config", "train_run", "power_law", "fit_power_law",
           "chinchilla_loss", "fit_chinchilla", "tokens_for_budget", "compute_optimal", "isoflop_minimum"]

#: Published fits of L(N, D) = E + A / N^alpha + B / D^beta (N parameters, D tokens, loss in nats/token).
#: Hoffmann et al. (2022, NeurIPS, arXiv 2203.15556), approach 3, and the refit of the same
#: data by Besiroglu, Erdil, Barnett and You (2024, arXiv 2404.10102).
PUBLISHED = {
    "Hoffmann et al. 2022": dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28),
    "Besiroglu et al. 2024": dict(E=1.82, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658),
}


# --- input checks -------------------------------------------------------------------

def _positive_array(values, name: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers, got {type(values).__name__}") from None
    if x.ndim > 1:
        raise ValueError(f"{name} must be a number or a 1-D array, got shape {x.shape}")
    x = np.atleast_1d(x)
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"{name} must be positive and finite, got {x[~(np.isfinite(x) & (x > 0))][:3]}")
    return x


def _same_length(**arrays) -> None:
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"the arrays must have the same length, got {sizes}")


# --- the runs -----------------------------------------------------------------------

def model_config(n_embd: int, vocab_size: int, n_layer: int = 2, n_head: int = 2,
                 block_size: int = 32) -> gpt.GPTConfig:
    """A GPT shape for the scaling runs: the width ``n_embd`` varies, the rest stays fixed."""
    return gpt.GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer,
                         n_head=n_head, n_embd=n_embd, dropout=0.0, tie_weights=False)


def train_run(train_ids, val_x: torch.Tensor, val_y: torch.Tensor, config: gpt.GPTConfig, n_tokens: int,
              batch_size: int = 16, max_lr: float = 1e-2, warmup_frac: float = 0.05, seed: int = 0) -> dict:
    """Train a fresh GPT on ``n_tokens`` training tokens and score it on fixed validation windows.

    AdamW (weight decay 0.1 on matrices and embeddings), linear warm-up over
    ``warmup_frac`` of the steps, cosine decay to zero at the run's *own* last step
    (Hoffmann et al. showed that reading losses off the middle of a longer schedule
    overestimates them), gradient clipping at norm 1. Steps = ``n_tokens / (batch_size
    * block_size)``, rounded. Returns a dict with the parameter count ``N`` (all
    parameters, the tied embedding/head counted once), the tokens ``D`` actually seen,
    ``C = 6 N D``, the validation loss ``loss`` (nats per token, every window position),
    the steps and the CPU seconds of training.
    """
    if not isinstance(config, gpt.GPTConfig):
        raise TypeError(f"config must be a gpt.GPTConfig, got {type(config).__name__}")
    tokens_per_step = batch_size * config.block_size
    steps = int(round(n_tokens / tokens_per_step))
    if steps < 10:
        raise ValueError(f"n_tokens={n_tokens:,} gives only {steps} steps of {tokens_per_step} tokens; "
                         "use at least 10 steps")
    if val_x.shape != val_y.shape or val_x.ndim != 2 or val_x.shape[1] != config.block_size:
        raise ValueError(f"val_x and val_y must both have shape (windows, block_size={config.block_size}), "
                         f"got {tuple(val_x.shape)} and {tuple(val_y.shape)}")
    cpu = time.process_time()
    torch.manual_seed(seed)
    model = gpt.GPT(config)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=max_lr, betas=(0.9, 0.99), fused=True)
    g = torch.Generator().manual_seed(seed)
    warmup = max(1, int(warmup_frac * steps))
    for step in range(steps):
        lr = gpt.cosine_lr(step, max_lr, warmup, steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        x, y = gpt.get_batch(train_ids, batch_size, config.block_size, generator=g)
        loss = model.loss(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    train_cpu = time.process_time() - cpu
    model.eval()
    with torch.no_grad():
        val = sum(model.loss(val_x[i:i + 256], val_y[i:i + 256]).item() * len(val_x[i:i + 256])
                  for i in range(0, len(val_x), 256)) / len(val_x)
    n = model.num_params()
    d = steps * tokens_per_step
    return dict(n_layer=config.n_layer, n_embd=config.n_embd, N=n, D=d, C=sizing.training_flops(n, d),
                loss=val, final_train_loss=loss.item(), steps=steps, cpu_s=train_cpu)


# --- power laws ---------------------------------------------------------------------

def power_law(x, E: float, A: float, alpha: float):
    """``E + A x^-alpha``: a power law with an offset (the loss no amount of ``x`` removes)."""
    return E + A * np.asarray(x, dtype=float) ** (-alpha)


def fit_power_law(x, loss, offset: bool = True) -> dict:
    """Fit ``loss = E + A x^-alpha`` (or ``A x^-alpha`` when ``offset=False``) by least squares.

    Without the offset the law is a straight line in log-log axes and the fit is
    linear regression of ``log loss`` on ``log x``. With it, ``scipy.optimize.curve_fit``
    starts from that line and keeps ``0 <= E < min(loss)``. Returns ``E, A, alpha`` and the
    residual RMS (in the loss's units).
    """
    from scipy.optimize import curve_fit

    x = _positive_array(x, "x")
    y = _positive_array(loss, "loss")
    _same_length(x=x, loss=y)
    if len(x) < (3 if offset else 2) + 1:
        raise ValueError(f"fitting {'3' if offset else '2'} parameters needs more points, got {len(x)}")
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    E, A, alpha = 0.0, math.exp(intercept), -slope
    if offset:
        (E, A, alpha), _ = curve_fit(power_law, x, y, p0=(0.5 * y.min(), A, max(alpha, 0.05)),
                                     bounds=([0.0, 0.0, 0.0], [y.min(), np.inf, 5.0]), max_nfev=20_000)
    rms = float(np.sqrt(np.mean((power_law(x, E, A, alpha) - y) ** 2)))
    return dict(E=float(E), A=float(A), alpha=float(alpha), rms=rms)


@dataclass(frozen=True)
class ChinchillaFit:
    """``L(N, D) = E + A / N^alpha + B / D^beta`` with the fit's residuals (in log-loss)."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    rms_log: float = float("nan")
    max_abs_log: float = float("nan")

    def loss(self, N, D):
        return chinchilla_loss(N, D, self.E, self.A, self.B, self.alpha, self.beta)

    @property
    def params(self) -> dict:
        return dict(E=self.E, A=self.A, B=self.B, alpha=self.alpha, beta=self.beta)


def chinchilla_loss(N, D, E: float, A: float, B: float, alpha: float, beta: float):
    """``E + A / N^alpha + B / D^beta``: irreducible loss, plus a model-size term, plus a data term."""
    N, D = np.asarray(N, dtype=float), np.asarray(D, dtype=float)
    return E + A * N ** (-alpha) + B * D ** (-beta)


def _huber(r: np.ndarray, delta: float) -> np.ndarray:
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta))


def _profile_start(logN, logD, L, alphas, betas):
    """The best (E, A, B, alpha, beta) on a grid of exponents, with E, A, B >= 0 by least squares.

    For fixed exponents the law is linear in E, A and B (variable projection), so every grid
    point is one small non-negative least-squares problem.
    """
    from scipy.optimize import nnls

    best = None
    for alpha in alphas:
        x = np.exp(-alpha * logN)
        for beta in betas:
            M = np.column_stack([np.ones_like(L), x, np.exp(-beta * logD)])
            coef, resid = nnls(M, L)
            if best is None or resid < best[0]:
                best = (resid, coef, alpha, beta)
    _, (E, A, B), alpha, beta = best
    return E, A, B, alpha, beta


def fit_chinchilla(N, D, loss, delta: float = 1e-3) -> ChinchillaFit:
    """Fit ``L(N, D) = E + A / N^alpha + B / D^beta`` as Hoffmann et al. (2022) did (approach 3).

    The law is written ``log L = LSE(a - alpha log N, b - beta log D, e)`` with
    ``A = exp(a)``, ``B = exp(b)``, ``E = exp(e)`` (LSE = log-sum-exp, which keeps
    every term positive), and the Huber loss (``delta``) of the log-residuals is
    minimised with L-BFGS-B. The objective has local minima, so Hoffmann et al. start
    from a grid of 4,500 points; here the starts come from a grid of exponents on which
    ``E, A, B`` are solved exactly by non-negative least squares (cheaper, and it
    lands in the right basin), plus a few fixed starts. The best end point wins.
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp

    N, D, L = _positive_array(N, "N"), _positive_array(D, "D"), _positive_array(loss, "loss")
    _same_length(N=N, D=D, loss=L)
    if len(L) < 6:
        raise ValueError(f"five parameters need at least 6 runs, got {len(L)}")
    logN, logD, logL = np.log(N), np.log(D), np.log(L)

    def objective(theta):
        a, b, e, alpha, beta = theta
        terms = np.stack([a - alpha * logN, b - beta * logD, np.full_like(logN, e)])
        pred = logsumexp(terms, axis=0)
        r = pred - logL
        w = np.exp(terms - pred)  # d pred / d term: the softmax weights of the log-sum-exp
        dr = np.clip(r, -delta, delta)  # Huber'(r)
        grad = np.array([np.sum(dr * w[0]), np.sum(dr * w[1]), np.sum(dr * w[2]),
                         np.sum(-dr * w[0] * logN), np.sum(-dr * w[1] * logD)])
        return float(np.sum(_huber(r, delta))), grad

    E0, A0, B0, al0, be0 = _profile_start(logN, logD, L, np.linspace(0.05, 2.0, 40), np.linspace(0.05, 2.0, 40))
    tiny = 1e-6 * L.min()
    starts = [[math.log(max(A0, tiny)), math.log(max(B0, tiny)), math.log(max(E0, tiny)), al0, be0]]
    for e in (0.5 * L.min(), 0.9 * L.min()):
        for alpha, beta in ((0.3, 0.3), (0.7, 0.4)):
            starts.append([5.0, 5.0, math.log(e), alpha, beta])
    lower = [-30.0, -30.0, math.log(tiny), 0.0, 0.0]
    upper = [40.0, 40.0, float(logL.min()), 3.0, 3.0]
    best = None
    for x0 in starts:
        res = minimize(objective, np.clip(x0, lower, upper), jac=True, method="L-BFGS-B",
                       bounds=list(zip(lower, upper)))
        if best is None or res.fun < best.fun:
            best = res
    a, b, e, alpha, beta = best.x
    r = np.log(chinchilla_loss(N, D, math.exp(e), math.exp(a), math.exp(b), alpha, beta)) - logL
    return ChinchillaFit(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=float(alpha), beta=float(beta),
                         rms_log=float(np.sqrt(np.mean(r**2))), max_abs_log=float(np.abs(r).max()))


# --- compute budgets ----------------------------------------------------------------

def tokens_for_budget(C, N):
    """Tokens ``D = C / (6 N)`` that a budget of ``C`` FLOPs buys for a model of ``N`` parameters."""
    C, N = _positive_array(C, "C"), _positive_array(N, "N")
    out = C / (6.0 * N)
    return out if out.size > 1 else float(out[0])


def compute_optimal(C, fit) -> tuple:
    """The ``(N, D)`` that minimise ``L(N, D)`` subject to ``6 N D = C`` (Hoffmann et al., 2022, eq. 4).

    Setting the derivative along the budget line to zero gives
    ``N_opt = G (C/6)^(beta / (alpha + beta))`` and ``D_opt = (C/6) / N_opt`` with
    ``G = (alpha A / (beta B))^(1 / (alpha + beta))``. ``fit`` is a :class:`ChinchillaFit`
    or a dict with ``A, B, alpha, beta``. Returns floats for a scalar ``C``, arrays otherwise.
    """
    p = fit.params if isinstance(fit, ChinchillaFit) else dict(fit)
    A, B, alpha, beta = p["A"], p["B"], p["alpha"], p["beta"]
    if min(A, B, alpha, beta) <= 0:
        raise ValueError(f"compute_optimal needs A, B, alpha, beta > 0, got {A}, {B}, {alpha}, {beta}")
    C_arr = _positive_array(C, "C")
    G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
    n_opt = G * (C_arr / 6.0) ** (beta / (alpha + beta))
    d_opt = C_arr / (6.0 * n_opt)
    if C_arr.size == 1 and np.ndim(C) == 0:
        return float(n_opt[0]), float(d_opt[0])
    return n_opt, d_opt


def isoflop_minimum(N, loss) -> tuple[float, float]:
    """Approach 2 of Hoffmann et al.: the minimum of a parabola in ``log N`` through one budget's runs.

    Returns ``(N_min, loss_min)``. Raises if the parabola opens downwards or its minimum
    lies outside the runs' range of ``N`` (the runs do not bracket a minimum).
    """
    N, L = _positive_array(N, "N"), _positive_array(loss, "loss")
    _same_length(N=N, loss=L)
    if len(N) < 3:
        raise ValueError(f"a parabola needs at least 3 runs, got {len(N)}")
    c2, c1, c0 = np.polyfit(np.log(N), L, 2)
    if c2 <= 0:
        raise ValueError("the losses of this budget do not curve upwards in log N: no minimum to read off")
    x = -c1 / (2 * c2)
    if not np.log(N).min() <= x <= np.log(N).max():
        raise ValueError(f"the parabola's minimum (N = {math.exp(x):,.0f}) lies outside the runs "
                         f"(N = {N.min():,.0f} to {N.max():,.0f}): the runs do not bracket it")
    return float(math.exp(x)), float(c0 + c1 * x + c2 * x * x)
