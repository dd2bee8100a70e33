"""Mixture of experts (MoE): sparse, conditional computation, written from scratch (chapter 9.6).

A mixture-of-experts layer replaces one feed-forward network (FFN) by ``E`` of them,
the *experts*, and a *router* that sends every token to only ``k`` of them::

    p = softmax(x W_r)                       router probabilities over the E experts, (tokens, E)
    S = top-k(p)                             the k experts chosen for this token
    g_i = p_i                 (k = 1, as in the Switch Transformer), or
    g_i = p_i / sum_{j in S} p_j   (k > 1, renormalised over the chosen ones, as in Mixtral)
    y = sum_{i in S} g_i * FFN_i(x)

Parameters grow with E, the work per token with k only. Trained alone, the router
tends to send most tokens to a few experts (collapse); the Switch Transformer's
load-balancing loss (Fedus et al., 2022, JMLR; arXiv 2101.03961) pushes back::

    L_balance = E * sum_i f_i * P_i,   f_i = share of the routed (token, slot) pairs that go to expert i,
                                       P_i = mean router probability of expert i over the tokens

which is 1 at perfect balance (f_i = P_i = 1/E) and up to E when one expert takes all.
The router z-loss (Zoph et al., 2022, ST-MoE; arXiv 2202.08906), mean(logsumexp(logits)²),
keeps the router's logits small. Use::

    from utils import gpt, moe
    model = moe.make_moe_gpt(config, n_experts=4, k=1)     # a utils.gpt.GPT whose MLPs are MoE layers
    loss = model.loss(x, y) + 0.01 * moe.balance_loss(model)
    moe.expert_load(model)                                 # tokens per expert in the last forward pass
    moe.count_params(model)                                # {'total': ..., 'active': ...}
    moe.flops_per_token(model)                             # training FLOPs per token, active experts only

- :class:`FeedForward` (d -> hidden -> d, GELU; ``gpt.MLP`` is FeedForward(d, 4d)),
  :class:`MoE`, :func:`top_k_gates`, :func:`load_balancing_loss`, :func:`router_z_loss`.
- Models: :func:`replace_mlp`, :func:`make_moe_gpt`, :func:`make_dense_gpt` (any MLP width),
  :func:`moe_layers`, :func:`balance_loss`, :func:`z_loss`, :func:`expert_load`, :func:`route`.
- Accounting: :func:`count_params` (total and active), :func:`flops_per_token`.
- Training: :func:`train_lm` (AdamW, warm-up + cosine, the auxiliary losses added) .
"""
from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from utils import gpt

__all__ = ["FeedForward", "MoE", "top_k_gates", "load_balancing_loss", "router_z_loss", "replace_mlp",
           "make_moe_gpt", "make_dense_gpt", "moe_layers", "balance_loss", "z_loss", "expert_load", "route",
           "count_params", "flops_per_token", "train_lm"]


def _int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _weight(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class FeedForward(nn.Module):
    """d -> hidden -> d with GELU: one expert, or a dense MLP of any width.

    Same parameter names as :class:`utils.gpt.MLP` (``c_fc``, ``c_proj``), which is
    ``FeedForward(d, 4 d)``.
    """

    def __init__(self, n_embd: int, hidden: int, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.c_fc = nn.Linear(_int(n_embd, "n_embd"), _int(hidden, "hidden"), bias=bias)
        self.c_proj = nn.Linear(hidden, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


def top_k_gates(logits: torch.Tensor, k: int, normalize: bool | None = None):
    """Router softmax and the top-``k`` choice for each row of ``logits`` (tokens, E).

    Returns ``(gates, index, probs)``: ``index`` (tokens, k) the chosen experts, best
    first; ``gates`` (tokens, k) their weights; ``probs`` (tokens, E) the full softmax.
    ``normalize`` (default: True when k > 1) divides the chosen probabilities by their
    sum, as Mixtral does. With k = 1 a normalised gate is always 1 and the router would
    get no gradient from the task loss, so the Switch Transformer keeps the raw p_i.
    """
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2 or not logits.is_floating_point():
        got = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"top_k_gates: logits must be a float tensor (tokens, n_experts), got {got}")
    k = _int(k, "k")
    if k > logits.shape[1]:
        raise ValueError(f"top_k_gates: k={k} is more than the {logits.shape[1]} experts")
    normalize = k > 1 if normalize is None else bool(normalize)
    probs = logits.softmax(dim=-1)
    gates, index = probs.topk(k, dim=-1)
    if normalize:
        gates = gates / gates.sum(dim=-1, keepdim=True)
    return gates, index, probs


def load_balancing_loss(probs: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Switch Transformer's auxiliary loss E * sum_i f_i P_i (Fedus et al., 2022, eq. 4).

    ``probs`` (tokens, E): router probabilities; ``index`` (tokens, k): chosen experts.
    f_i is the share of the tokens x k routing slots that go to expert i (counts, no
    gradient), P_i the mean probability of expert i (differentiable). It equals 1 when
    both are uniform, and E when every token goes to one expert with probability 1.
    """
    if probs.ndim != 2 or index.ndim != 2 or index.shape[0] != probs.shape[0]:
        raise ValueError(f"load_balancing_loss: probs (tokens, E) and index (tokens, k) must agree in tokens, "
                         f"got {tuple(probs.shape)} and {tuple(index.shape)}")
    if probs.shape[0] == 0:
        raise ValueError("load_balancing_loss: no tokens")
    E = probs.shape[1]
    counts = torch.bincount(index.reshape(-1), minlength=E).to(probs.dtype)
    f = counts / index.numel()
    P = probs.mean(dim=0)
    return E * (f * P).sum()


def router_z_loss(logits: torch.Tensor) -> torch.Tensor:
    """ST-MoE's router z-loss: mean over tokens of logsumexp(logits)² (Zoph et al., 2022, eq. 5)."""
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"router_z_loss: logits must be (tokens, n_experts) with tokens >= 1, "
                         f"got {tuple(logits.shape)}")
    return logits.logsumexp(dim=-1).square().mean()


class MoE(nn.Module):
    """A mixture-of-experts layer: ``n_experts`` :class:`FeedForward` experts, top-``k`` routing.

    ``forward(x)`` takes (..., d) and returns the same shape. Each call keeps, for the
    auxiliary losses and for pictures: ``self.balance`` (:func:`load_balancing_loss`),
    ``self.logits`` (the router's, from which ``self.z`` computes :func:`router_z_loss`),
    ``self.index`` (tokens, k) the chosen experts and ``self.counts`` (E,) the tokens
    each expert processed. The experts run one
    after the other on the tokens routed to them (gather, compute, scatter-add):
    the work is k tokens' worth of FFN per token, whatever E is.
    """

    def __init__(self, n_embd: int, n_experts: int, k: int = 1, hidden: int | None = None,
                 normalize: bool | None = None, bias: bool = True, dropout: float = 0.0):
        super().__init__()
        self.n_embd, self.n_experts = _int(n_embd, "n_embd"), _int(n_experts, "n_experts")
        self.k = _int(k, "k")
        if self.k > self.n_experts:
            raise ValueError(f"MoE: k={k} experts per token, but only n_experts={n_experts}")
        self.hidden = 4 * self.n_embd if hidden is None else _int(hidden, "hidden")
        self.normalize = normalize
        self.router = nn.Linear(self.n_embd, self.n_experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(self.n_embd, self.hidden, bias, dropout)
                                     for _ in range(self.n_experts))
        self.balance = self.logits = self.index = self.counts = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.shape[-1] != self.n_embd:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"MoE: input must end in n_embd={self.n_embd}, got {got}")
        h = x.reshape(-1, self.n_embd)
        logits = self.router(h)
        gates, index, probs = top_k_gates(logits, self.k, self.normalize)
        # dispatch: sort the (token, slot) pairs by expert, so each expert gets one contiguous slice
        flat = index.reshape(-1)
        order = torch.argsort(flat, stable=True)
        token = order // self.k  # which token each sorted pair belongs to
        counts = torch.bincount(flat, minlength=self.n_experts)
        x_sorted = h[token]
        outputs = [expert(chunk) for expert, chunk in zip(self.experts, x_sorted.split(counts.tolist()))]
        # combine: weight each expert output by its gate and add it back to its token
        weighted = torch.cat(outputs) * gates.reshape(-1)[order, None]
        out = torch.zeros_like(h).index_add_(0, token, weighted)
        self.balance = load_balancing_loss(probs, index)
        self.logits = logits  # the z-loss is computed from them only when asked for (see `z`)
        self.index, self.counts = index.detach(), counts
        return out.reshape(x.shape)

    @property
    def z(self) -> torch.Tensor | None:
        """Router z-loss of the last forward pass (None before the first)."""
        return None if self.logits is None else router_z_loss(self.logits)


def replace_mlp(model: gpt.GPT, make: Callable[[gpt.GPTConfig], nn.Module]) -> gpt.GPT:
    """Put ``make(config)`` in place of every block's MLP of a :class:`utils.gpt.GPT` (in place)."""
    if not isinstance(model, gpt.GPT):
        raise TypeError(f"replace_mlp: model must be a utils.gpt.GPT, got {type(model).__name__}")
    for block in model.transformer.h:
        block.mlp = make(model.config)
    return model


def _init_like_gpt(model: gpt.GPT) -> gpt.GPT:
    """GPT-2 initialisation for the new modules: N(0, 0.02), zero biases, c_proj scaled by 1/√(2 L)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear) and ".mlp." in f".{name}.":
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
            if name.endswith("c_proj"):
                nn.init.normal_(module.weight, mean=0.0, std=0.02 / math.sqrt(2 * model.config.n_layer))
    return model


def make_moe_gpt(config: gpt.GPTConfig, n_experts: int, k: int = 1, hidden: int | None = None,
                 normalize: bool | None = None) -> gpt.GPT:
    """A :class:`utils.gpt.GPT` whose every MLP is an :class:`MoE` (experts of width ``hidden``, default 4d).

    Draws from the global torch generator (seed it first): attention and embeddings
    come out as in ``gpt.GPT(config)`` with the same seed, the experts and routers after.
    """
    model = gpt.GPT(config)
    replace_mlp(model, lambda c: MoE(c.n_embd, n_experts, k, hidden, normalize, c.bias, c.dropout))
    return _init_like_gpt(model)


def make_dense_gpt(config: gpt.GPTConfig, hidden: int) -> gpt.GPT:
    """A :class:`utils.gpt.GPT` whose MLPs are :class:`FeedForward` of width ``hidden`` (4d is the usual GPT)."""
    model = gpt.GPT(config)
    replace_mlp(model, lambda c: FeedForward(c.n_embd, hidden, c.bias, c.dropout))
    return _init_like_gpt(model)


def moe_layers(model: nn.Module) -> list[MoE]:
    """The :class:`MoE` layers of ``model``, in order (empty for a dense model)."""
    return [m for m in model.modules() if isinstance(m, MoE)]


def _sum(model: nn.Module, attr: str) -> torch.Tensor:
    layers = moe_layers(model)
    if not layers:
        return torch.zeros(())
    if any(getattr(m, attr) is None for m in layers):
        raise RuntimeError(f"the MoE layers have no {attr} yet: run a forward pass first")
    return sum(getattr(m, attr) for m in layers)


def balance_loss(model: nn.Module) -> torch.Tensor:
    """Sum over the MoE layers of their load-balancing loss from the last forward pass (0 if dense)."""
    return _sum(model, "balance")


def z_loss(model: nn.Module) -> torch.Tensor:
    """Sum over the MoE layers of their router z-loss from the last forward pass (0 if dense)."""
    return _sum(model, "z")


def expert_load(model: nn.Module) -> np.ndarray:
    """Tokens (routing slots) each expert processed in the last forward pass, (layers, E) integers."""
    layers = moe_layers(model)
    if not layers or layers[0].counts is None:
        raise RuntimeError("expert_load: no MoE layer has run yet (is this an MoE model? run a forward pass)")
    return np.stack([m.counts.cpu().numpy() for m in layers])


@torch.no_grad()
def route(model: gpt.GPT, idx: torch.Tensor) -> np.ndarray:
    """The first-choice expert of every token of ``idx`` (batch, T) in every MoE layer: (layers, batch, T)."""
    was_training = model.training
    model.eval()
    model(idx.to(next(model.parameters()).device))
    model.train(was_training)
    return np.stack([m.index[:, 0].reshape(idx.shape).cpu().numpy() for m in moe_layers(model)])


def count_params(model: nn.Module) -> dict[str, int]:
    """Total parameters, and the *active* ones a token uses: all but the experts it is not routed to.

    Tied tensors are counted once. Every expert of a layer has the same size, so a
    token uses k of the E experts' parameters in each MoE layer (and all the rest).
    """
    total = sum(p.numel() for p in model.parameters())
    idle = 0
    for m in moe_layers(model):
        per_expert = sum(p.numel() for p in m.experts[0].parameters())
        idle += (m.n_experts - m.k) * per_expert
    return {"total": total, "active": total - idle}


def _matrix_weights(module: nn.Module) -> int:
    return sum(m.weight.numel() for m in module.modules() if isinstance(m, nn.Linear))


def flops_per_token(model: gpt.GPT, T: int | None = None, training: bool = True) -> int:
    """Matrix-product FLOPs per token of a GPT whose MLPs may be MoE layers (active experts only).

    Same accounting as :meth:`utils.gpt.GPT.flops_per_token`, which it equals for the
    plain GPT: 2 FLOPs per weight used (attention projections, the router, the k chosen
    experts, the head) plus 4 T d per layer for the attention scores; training is 3x.
    """
    if not isinstance(model, gpt.GPT):
        raise TypeError(f"flops_per_token: model must be a utils.gpt.GPT, got {type(model).__name__}")
    c = model.config
    T = c.block_size if T is None else _int(T, "T")
    weights = c.vocab_size * c.n_embd
    for block in model.transformer.h:
        weights += _matrix_weights(block.attn)
        if isinstance(block.mlp, MoE):
            weights += block.mlp.router.weight.numel() + block.mlp.k * _matrix_weights(block.mlp.experts[0])
        else:
            weights += _matrix_weights(block.mlp)
    forward = 2 * weights + 4 * c.n_layer * T * c.n_embd
    return 3 * forward if training else forward


def train_lm(model: gpt.GPT, ids, steps: int, lr: float, batch_size: int = 32, balance_weight: float = 0.0,
             z_weight: float = 0.0, seed: int = 0, weight_decay: float = 0.1, log_every: int = 10) -> dict:
    """Next-token training with AdamW, warm-up + cosine decay and clipping at norm 1.

    The loss is cross-entropy + ``balance_weight`` x :func:`balance_loss` + ``z_weight`` x
    :func:`z_loss` (both 0 for a dense model). Batches come from a generator seeded with
    ``seed``, so models trained with the same seed see the same tokens in the same order.
    Returns a history: the steps logged, the cross-entropy and the balancing loss there,
    and the load (layers, E) of every logged step.
    """
    steps, batch_size = _int(steps, "steps"), _int(batch_size, "batch_size")
    balance_weight, z_weight = _weight(balance_weight, "balance_weight"), _weight(z_weight, "z_weight")
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    g = torch.Generator().manual_seed(seed)
    has_moe = bool(moe_layers(model))
    history = {"step": [], "ce": [], "balance": [], "load": []}
    model.train()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = gpt.cosine_lr(step, lr, max(1, steps // 20), steps)
        x, y = gpt.get_batch(ids, batch_size, model.config.block_size, generator=g)
        x, y = x.to(device), y.to(device)
        ce = model.loss(x, y)
        loss = ce
        if has_moe and balance_weight:
            loss = loss + balance_weight * balance_loss(model)
        if has_moe and z_weight:
            loss = loss + z_weight * z_loss(model)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % log_every == 0 or step == steps - 1:
            history["step"].append(step)
            history["ce"].append(ce.item())
            if has_moe:
                history["balance"].append(balance_loss(model).item() / len(moe_layers(model)))
                history["load"].append(expert_load(model))
    return history
