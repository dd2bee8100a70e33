"""Low-rank adaptation (LoRA) written from scratch (chapter 9.2).

LoRA (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022)
freezes a pretrained weight W (d_out x d_in) and learns a low-rank update instead::

    y = W x + b + (alpha / r) * B (A x),     A: (r, d_in), B: (d_out, r), r << min(d_in, d_out)

B starts at zero, so the adapted model starts *exactly* equal to the pretrained one;
A starts random (else the gradient of B, which is (A x)-shaped, would be zero too).
Only A and B are trained: r (d_in + d_out) numbers per matrix instead of d_in d_out,
and Adam keeps its two moments for those only. After training, B A can be added into
W (:func:`merge_lora`): the merged model has the original shape and costs nothing
extra at inference; :func:`unmerge_lora` subtracts it again (to swap adapters)::

    from utils import gpt, lora
    model = gpt.GPT(config)                 # pretrained
    names = lora.inject_lora(model, r=4, alpha=8)   # freezes everything, adds A and B
    counts = lora.count_params(model)       # {'total': ..., 'trainable': ..., 'frozen': ...}
    opt = torch.optim.Adam(lora.trainable_parameters(model), lr=3e-3)
    ...
    lora.merge_lora(model)                  # W <- W + (alpha / r) B A; same outputs

- :class:`LoRALinear`: an ``nn.Linear`` with a frozen base and the A, B pair.
- :func:`inject_lora`: replace the chosen linears of a model (by default the four of
  every block of a :class:`utils.gpt.GPT`: ``attn.c_attn``, ``attn.c_proj``,
  ``mlp.c_fc``, ``mlp.c_proj``) and freeze all other parameters.
- :func:`lora_layers`, :func:`merge_lora`, :func:`unmerge_lora`, :func:`merge_and_unload`.
- Counting: :func:`count_params` (shared, tied tensors counted once),
  :func:`trainable_parameters`, :func:`optimizer_state_bytes` (what an optimizer really holds).
"""
from __future__ import annotations

import math
import numbers

import torch
from torch import nn

__all__ = ["LoRALinear", "GPT_TARGETS", "inject_lora", "lora_layers", "merge_lora", "unmerge_lora",
           "merge_and_unload", "count_params", "trainable_parameters", "optimizer_state_bytes"]

GPT_TARGETS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


def _rank(r) -> int:
    if isinstance(r, bool) or not isinstance(r, numbers.Integral):
        raise TypeError(f"LoRA rank r must be an integer, got {type(r).__name__} ({r!r})")
    if r < 1:
        raise ValueError(f"LoRA rank r must be at least 1, got {r}")
    return int(r)


def _alpha(alpha, r: int) -> float:
    if alpha is None:
        return float(r)
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not math.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"LoRA alpha must be a positive number, got {alpha!r}")
    return float(alpha)


class LoRALinear(nn.Module):
    """``base(x) + (alpha / r) * (x Aᵀ) Bᵀ`` with ``base`` (an ``nn.Linear``) frozen.

    ``A`` (r, d_in) is drawn like an ``nn.Linear`` weight, uniform in ±1/√d_in
    (from ``generator`` if given); ``B`` (d_out, r) is zero. ``alpha=None`` means
    alpha = r (scale 1). Keeping alpha fixed while r changes keeps the size of the
    update, and so the learning rate that suits it, roughly independent of r (Hu et al.).
    While ``merged`` is True the update lives inside ``base.weight`` and the
    forward pass is the plain linear layer.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float | None = None,
                 generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        r = _rank(r)
        if r > min(base.in_features, base.out_features):
            raise ValueError(f"LoRA rank r={r} exceeds min(d_in, d_out) = "
                             f"{min(base.in_features, base.out_features)} of a {base.in_features} -> "
                             f"{base.out_features} linear: a larger rank adds parameters and no expressiveness")
        self.base, self.r, self.alpha = base, r, _alpha(alpha, r)
        self.scale = self.alpha / r
        for p in base.parameters():
            p.requires_grad_(False)
        w = base.weight
        bound = 1.0 / math.sqrt(base.in_features)
        A = torch.rand(r, base.in_features, generator=generator, dtype=w.dtype) * (2 * bound) - bound
        self.A = nn.Parameter(A.to(w.device))
        self.B = nn.Parameter(torch.zeros(base.out_features, r, dtype=w.dtype, device=w.device))
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The update (alpha / r) B A, shaped like ``base.weight`` (d_out, d_in)."""
        return self.scale * (self.B @ self.A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.base.in_features:
            raise ValueError(f"LoRALinear: input has {x.shape[-1]} features in its last axis, the layer "
                             f"expects {self.base.in_features} (shape {tuple(x.shape)})")
        y = self.base(x)
        if self.merged:
            return y
        return y + self.scale * ((x @ self.A.T) @ self.B.T)  # two thin products, never the d_out x d_in matrix

    @torch.no_grad()
    def merge(self) -> None:
        """W <- W + (alpha / r) B A; the forward pass then skips the low-rank path."""
        if self.merged:
            raise RuntimeError("LoRALinear.merge: already merged (unmerge first)")
        self.base.weight += self.delta_weight()
        self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W <- W - (alpha / r) B A: the pretrained weight again (up to rounding)."""
        if not self.merged:
            raise RuntimeError("LoRALinear.unmerge: not merged")
        self.base.weight -= self.delta_weight()
        self.merged = False

    def extra_repr(self) -> str:
        return (f"in={self.in_features}, out={self.out_features}, r={self.r}, alpha={self.alpha:g}, "
                f"merged={self.merged}")


def inject_lora(model: nn.Module, r: int, alpha: float | None = None, targets=GPT_TARGETS,
                seed: int = 0, freeze: bool = True) -> list[str]:
    """Replace every ``nn.Linear`` of ``model`` whose name ends with one of ``targets`` by a :class:`LoRALinear`.

    ``freeze=True`` (default) first sets ``requires_grad=False`` on every parameter of the
    model, so that only the new A and B matrices train. The A matrices are drawn from a
    generator seeded with ``seed`` (the same adapters every run). Returns the names of
    the replaced modules, e.g. ``['transformer.h.0.attn.c_attn', ...]``; raises if none matched.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"inject_lora needs a torch nn.Module, got {type(model).__name__}")
    r = _rank(r)
    if isinstance(targets, str):
        targets = (targets,)
    targets = tuple(targets)
    if lora_layers(model):
        raise ValueError("inject_lora: the model already has LoRA layers; inject into a fresh copy "
                         "(copy.deepcopy of the pretrained model)")
    chosen = [name for name, m in model.named_modules()
              if isinstance(m, nn.Linear) and any(name == t or name.endswith("." + t) for t in targets)]
    if not chosen:
        linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
        raise ValueError(f"inject_lora: no nn.Linear matches targets {targets}; the model's linears are "
                         f"{linears[:8]}{' ...' if len(linears) > 8 else ''}")
    if freeze:
        for p in model.parameters():
            p.requires_grad_(False)
    g = torch.Generator().manual_seed(int(seed))
    for name in chosen:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, LoRALinear(getattr(parent, child), r, alpha, generator=g))
    return chosen


def lora_layers(model: nn.Module) -> dict[str, LoRALinear]:
    """Every :class:`LoRALinear` of ``model``, by module name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def _layers_or_raise(model: nn.Module, who: str) -> dict[str, LoRALinear]:
    layers = lora_layers(model)
    if not layers:
        raise ValueError(f"{who}: the model has no LoRA layers (call inject_lora first)")
    return layers


def merge_lora(model: nn.Module) -> None:
    """Add every adapter's (alpha / r) B A into its frozen weight (in place)."""
    for layer in _layers_or_raise(model, "merge_lora").values():
        layer.merge()


def unmerge_lora(model: nn.Module) -> None:
    """Subtract every adapter's update again (in place)."""
    for layer in _layers_or_raise(model, "unmerge_lora").values():
        layer.unmerge()


def merge_and_unload(model: nn.Module) -> nn.Module:
    """Merge every adapter and put the plain ``nn.Linear`` back in its place: the model has its
    original structure and size again (what one ships for inference). In place; returns ``model``."""
    for name, layer in _layers_or_raise(model, "merge_and_unload").items():
        if not layer.merged:
            layer.merge()
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, child, layer.base)
    return model


def _unique(params) -> list[nn.Parameter]:
    seen, out = set(), []
    for p in params:
        if id(p) not in seen:  # a tied tensor (GPT's embedding = output head) counts once
            seen.add(id(p))
            out.append(p)
    return out


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters with ``requires_grad`` (each tensor once): what to give the optimizer."""
    return [p for p in _unique(model.parameters()) if p.requires_grad]


def count_params(model: nn.Module) -> dict[str, int]:
    """Numbers of parameters: ``total``, ``trainable`` (requires_grad) and ``frozen``; tied tensors once."""
    params = _unique(model.parameters())
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params)
    return {"total": total, "trainable": trainable, "frozen": total - trainable}


def optimizer_state_bytes(optimizer: torch.optim.Optimizer, include_scalars: bool = False) -> int:
    """Bytes of the tensors an optimizer keeps between steps (Adam: ``exp_avg`` and ``exp_avg_sq``).

    Counted from ``optimizer.state`` after at least one step (the state is created
    lazily). One-element tensors (Adam's per-tensor ``step`` counter) are left out
    unless ``include_scalars=True``. For Adam in float32 this is 2 x 4 = 8 bytes per
    trainable parameter.
    """
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer_state_bytes needs a torch optimizer, got {type(optimizer).__name__}")
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if isinstance(value, torch.Tensor) and (include_scalars or value.numel() > 1):
                total += value.numel() * value.element_size()
    return total
