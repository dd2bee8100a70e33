"""How big is a model? Parameters, training memory, training compute and time.

Built in section 1.1 ("What makes a model large") and reused by the scaling-law
chapter. Every count here is exact for the architecture it names and is checked
against real PyTorch modules in ``tests/test_sizing.py``:

    from utils import sizing
    n = sizing.transformer_params(n_layer=12, d_model=768, n_head=12,
                                  vocab_size=50257, block_size=1024)   # GPT-2 small: 124,439,808
    sizing.training_memory_bytes(n, "bf16")      # weights + grads + Adam states, in bytes
    flops = sizing.training_flops(n, 300e9)      # 6 N D
    sizing.training_days(flops, n_gpus=1024, flops_per_gpu=312e12, utilization=0.4)

Units: parameters are counts, memory is in bytes (1 GB = 1e9 bytes), compute is
in floating-point operations (FLOPs, a multiply-add counts as 2), time in days.
"""
from __future__ import annotations

import numbers

#: Bytes per number for the data types a model is stored in.
DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2, "fp64": 8, "int8": 1}
_DTYPE_ALIASES = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16",
                  "half": "fp16", "float64": "fp64", "double": "fp64"}

#: Number of extra tensors per parameter that each optimizer keeps.
OPTIMIZER_STATES = {"adam": 2, "adamw": 2, "sgd": 0, "sgd_momentum": 1}

SECONDS_PER_DAY = 86_400


# --- input checks -------------------------------------------------------------

def _count(value, name: str, minimum: int = 1) -> int:
    """An integer size such as a layer width: must be an int >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _positive(value, name: str, allow_zero: bool = False) -> float:
    """A positive real number such as a parameter count or a FLOP rate."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {value}")
    return value


def dtype_bytes(dtype: str) -> int:
    """Bytes per number of ``dtype`` ('fp32', 'bf16', 'fp16', 'fp64', 'int8' or torch-style names)."""
    if not isinstance(dtype, str):
        raise TypeError(f"dtype must be a string such as 'fp32' or 'bf16', got {type(dtype).__name__}")
    key = _DTYPE_ALIASES.get(dtype.lower(), dtype.lower())
    if key not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[key]


# --- parameter counts ---------------------------------------------------------

def mlp_params(sizes, bias: bool = True) -> int:
    """Parameters of a stack of dense layers with widths ``sizes = [n_in, h1, ..., n_out]``.

    Layer ``i`` has a ``sizes[i] x sizes[i+1]`` weight matrix and, with ``bias``,
    ``sizes[i+1]`` biases: the total is sum of (n_in + 1) * n_out.
    """
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise TypeError(f"sizes must be a list of layer widths such as [784, 128, 10], got {sizes!r}")
    sizes = [_count(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
    return sum(n_in * n_out + (n_out if bias else 0) for n_in, n_out in zip(sizes, sizes[1:]))


def conv_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True, groups: int = 1) -> int:
    """Parameters of one 2-D convolution (``torch.nn.Conv2d``).

    Each of the ``out_channels`` filters sees ``in_channels / groups`` input
    channels through a ``kh x kw`` window, plus one bias:
    ``out * (in / groups) * kh * kw + out``. The count does not depend on the
    image size: the same filter slides over every position (weight sharing).
    """
    in_channels = _count(in_channels, "in_channels")
    out_channels = _count(out_channels, "out_channels")
    groups = _count(groups, "groups")
    if isinstance(kernel_size, (tuple, list)):
        if len(kernel_size) != 2:
            raise ValueError(f"kernel_size must be an int or a pair (kh, kw), got {kernel_size!r}")
        kh, kw = (_count(k, "kernel_size") for k in kernel_size)
    else:
        kh = kw = _count(kernel_size, "kernel_size")
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide both in_channels={in_channels} "
                         f"and out_channels={out_channels}")
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def transformer_param_breakdown(n_layer: int, d_model: int, n_head: int, vocab_size: int, block_size: int,
                                tied_embeddings: bool = True, bias: bool = True, mlp_ratio: int = 4) -> dict[str, int]:
    """Parameters of a GPT-2-style decoder, by component (see :func:`transformer_params`)."""
    n_layer = _count(n_layer, "n_layer")
    d = _count(d_model, "d_model")
    n_head = _count(n_head, "n_head")
    vocab_size = _count(vocab_size, "vocab_size")
    block_size = _count(block_size, "block_size")
    mlp_ratio = _count(mlp_ratio, "mlp_ratio")
    if d % n_head:
        raise ValueError(f"d_model={d} must be divisible by n_head={n_head}: each head gets "
                         f"d_model / n_head dimensions (try n_head={_nearest_divisor(d, n_head)})")
    b = 1 if bias else 0
    hidden = mlp_ratio * d
    attention = (d * 3 * d + b * 3 * d) + (d * d + b * d)  # qkv projection + output projection
    mlp = (d * hidden + b * hidden) + (hidden * d + b * d)  # expand + contract
    layernorm = 2 * (2 * d if bias else d)  # two LayerNorms per block, each a scale (and a shift)
    return {
        "token embedding": vocab_size * d,
        "position embedding": block_size * d,
        "attention": n_layer * attention,
        "MLP": n_layer * mlp,
        "LayerNorm": n_layer * layernorm + (2 * d if bias else d),  # + the final LayerNorm
        "output head": 0 if tied_embeddings else vocab_size * d,
    }


def transformer_params(n_layer: int, d_model: int, n_head: int, vocab_size: int, block_size: int,
                       tied_embeddings: bool = True, bias: bool = True, mlp_ratio: int = 4) -> int:
    """Exact parameter count of a GPT-2-style decoder-only Transformer.

    Components (``d = d_model``, ``V = vocab_size``, ``T = block_size``):

    - token embedding ``V d`` and learned position embedding ``T d``;
    - per block: attention qkv ``d x 3d`` (+ ``3d`` biases) and output projection
      ``d x d`` (+ ``d``); an MLP ``d -> 4d -> d`` with biases; two LayerNorms
      (``2d`` each): in total ``12 d^2 + 13 d`` per block;
    - a final LayerNorm ``2d``;
    - the output head ``d x V`` shares the token-embedding matrix when
      ``tied_embeddings`` (as in GPT-2), otherwise it adds ``V d``.

    ``n_head`` does not change the count (the heads split ``d``), but it must
    divide ``d_model``. ``bias=False`` drops all biases and LayerNorm shifts
    (nanoGPT's option); ``mlp_ratio`` sets the MLP's expansion (4 in GPT-2/3).
    """
    return sum(transformer_param_breakdown(n_layer, d_model, n_head, vocab_size, block_size,
                                           tied_embeddings=tied_embeddings, bias=bias,
                                           mlp_ratio=mlp_ratio).values())


def _nearest_divisor(d: int, n_head: int) -> int:
    divisors = [h for h in range(1, d + 1) if d % h == 0]
    return min(divisors, key=lambda h: (abs(h - n_head), h))


# --- memory -------------------------------------------------------------------

def training_memory_breakdown(n_params, dtype: str = "fp32", optimizer: str = "adam",
                              master_weights: bool | None = None) -> dict[str, float]:
    """Bytes of training state per component: weights, gradients, master copy, optimizer states.

    - ``dtype="fp32"``: weights, gradients and Adam's two moments ``m`` and ``v``
      are float32: 4 + 4 + 4 + 4 = 16 bytes per parameter.
    - ``dtype="bf16"`` (or ``"fp16"``), mixed precision: the forward and backward
      passes use 2-byte weights and gradients, but the optimizer updates a float32
      *master copy* of the weights, and ``m`` and ``v`` are float32 too, because
      a small update added to a bf16 weight is rounded away. 2 + 2 + 4 + 4 + 4 =
      16 bytes per parameter: mixed precision saves compute and activation memory,
      not optimizer memory. ``master_weights=False`` keeps everything in the
      low-precision dtype (2 + 2 + 2 + 2 = 8 bytes with Adam), which is what a
      plain ``model.to(torch.bfloat16)`` with ``torch.optim.Adam`` stores.

    Activations (which grow with batch size and context length) and temporary
    buffers are *not* included: they come on top.
    """
    n = _positive(n_params, "n_params")
    size = dtype_bytes(dtype)
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZER_STATES:
        raise ValueError(f"unknown optimizer {optimizer!r}; use one of {', '.join(OPTIMIZER_STATES)}")
    n_states = OPTIMIZER_STATES[optimizer.lower()]
    low_precision = size < 4
    if master_weights is None:
        master_weights = low_precision
    if master_weights and not low_precision:
        raise ValueError(f"master_weights=True only makes sense with a 2-byte dtype (bf16, fp16), not {dtype!r}")
    state_bytes = 4 if master_weights else size
    names = ["Adam m (1st moment)", "Adam v (2nd moment)"] if n_states == 2 else ["momentum"] * n_states
    out = {"weights": n * size, "gradients": n * size}
    if master_weights:
        out["fp32 master weights"] = n * 4
    for name in names:
        out[name] = n * state_bytes
    return out


def training_memory_bytes(n_params, dtype: str = "fp32", optimizer: str = "adam",
                          master_weights: bool | None = None) -> float:
    """Total bytes of weights + gradients (+ master copy) + optimizer states.

    See :func:`training_memory_breakdown` for the parts. With Adam this is
    16 bytes per parameter in fp32 and in bf16 mixed precision alike.
    """
    return sum(training_memory_breakdown(n_params, dtype, optimizer, master_weights).values())


def weights_bytes(n_params, dtype: str = "bf16") -> float:
    """Bytes to hold the weights alone, e.g. for inference: ``n_params * bytes(dtype)``."""
    return _positive(n_params, "n_params") * dtype_bytes(dtype)


# --- compute and time ---------------------------------------------------------

def training_flops(n_params, n_tokens) -> float:
    """Training compute ``C = 6 N D`` FLOPs for ``N`` parameters and ``D`` tokens.

    Per token, each weight takes part in one multiply-add in the forward pass
    (2 FLOPs) and two in the backward pass (gradient with respect to the input
    and to the weight: 4 FLOPs). Attention scores add ``~12 n_layer T d`` per
    token, small while ``T << 6 d`` (section 1.1 measures both).
    """
    return 6.0 * _positive(n_params, "n_params") * _positive(n_tokens, "n_tokens")


def training_days(flops, n_gpus, flops_per_gpu, utilization: float = 0.4) -> float:
    """Wall-clock days to do ``flops`` on ``n_gpus`` that each peak at ``flops_per_gpu``.

    ``utilization`` (model FLOPs utilization, MFU) is the share of peak actually
    achieved; 0.3–0.5 is typical for large training runs.
    """
    flops = _positive(flops, "flops")
    n_gpus = _count(n_gpus, "n_gpus")
    flops_per_gpu = _positive(flops_per_gpu, "flops_per_gpu")
    utilization = _positive(utilization, "utilization")
    if utilization > 1:
        raise ValueError(f"utilization is a fraction of peak in (0, 1], got {utilization}")
    return flops / (n_gpus * flops_per_gpu * utilization) / SECONDS_PER_DAY
