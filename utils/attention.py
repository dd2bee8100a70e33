"""Attention and the Transformer block, from scratch in NumPy (chapter 3.5).

Every layer follows the course's layer protocol (``params``, ``grads``,
``forward``, ``backward``; float64; batches first) and matches PyTorch forward
and backward to 1e-6 in float64:

- :func:`scaled_dot_product_attention` and
  :func:`scaled_dot_product_attention_backward`: softmax(Q Kᵀ / √d_k + mask) V
  and its gradients (like ``torch.nn.functional.scaled_dot_product_attention``).
- :func:`causal_mask`: the lower-triangular mask of a decoder (GPT).
- :class:`MultiHeadAttention`: weights laid out like ``torch.nn.MultiheadAttention``
  (``in_proj_weight`` of shape (3E, E), ``in_proj_bias``, ``out_proj.weight``,
  ``out_proj.bias``); :meth:`MultiHeadAttention.from_torch` copies them.
- :class:`LayerNorm`: like ``torch.nn.LayerNorm`` over the last axis.
- :func:`sinusoidal_positional_encoding`: the fixed encodings of Vaswani et al. (2017).
- :class:`TransformerBlock`: one pre-LN block, x + MHA(LN(x)), then x + MLP(LN(x)),
  with the same parameter names as ``torch.nn.TransformerEncoderLayer(norm_first=True,
  batch_first=True, activation="gelu", dropout=0.0)``.

Masks follow PyTorch's ``scaled_dot_product_attention``: a boolean mask is
True where a query MAY attend to a key; a float mask is added to the scores
(0 to keep, -inf to block). Note that ``torch.nn.MultiheadAttention``'s boolean
``attn_mask`` uses the opposite convention (True = blocked): pass it ``~mask``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = [
    "scaled_dot_product_attention", "scaled_dot_product_attention_backward", "causal_mask",
    "MultiHeadAttention", "LayerNorm", "sinusoidal_positional_encoding", "TransformerBlock",
]


# --- input checks ----------------------------------------------------------------

def _as_float_array(x, who: str, name: str) -> np.ndarray:
    """``x`` as a float64 array, or a TypeError naming the function and the argument."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{who}: {name} must be a numeric array, got {type(x).__name__}")
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{who}: {name} must be a numeric array, got {type(x).__name__}") from err
    return arr


def _check_int(value, who: str, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _check_rng(rng, who: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: rng must be a numpy Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def _additive_mask(mask, scores_shape: tuple, who: str) -> np.ndarray:
    """A mask (boolean: True = may attend; or float: added) as an additive float array."""
    if isinstance(mask, (str, bytes)):
        raise TypeError(f"{who}: mask must be a boolean or float array, got {type(mask).__name__}")
    mask = np.asarray(mask)
    if mask.dtype == bool:
        additive = np.where(mask, 0.0, -np.inf)
    elif np.issubdtype(mask.dtype, np.number):
        additive = mask.astype(np.float64)
        if np.isnan(additive).any() or np.isposinf(additive).any():
            raise ValueError(f"{who}: a float mask may hold finite numbers and -inf, not NaN or +inf")
    else:
        raise TypeError(f"{who}: mask must be a boolean or float array, got dtype {mask.dtype}")
    try:
        fits = mask.ndim >= 2 and np.broadcast_shapes(mask.shape, scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{who}: mask of shape {mask.shape} does not fit the attention scores of shape "
                         f"{scores_shape} (..., queries, keys); a causal mask for T positions is (T, T)")
    if np.isneginf(np.broadcast_to(additive, scores_shape)).all(axis=-1).any():
        raise ValueError(f"{who}: the mask blocks every key for some query; each query must be "
                         "allowed to attend to at least one key (softmax over nothing is undefined)")
    return additive


def _softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


# --- scaled dot-product attention ----------------------------------------------

def _check_qkv(Q, K, V, who: str):
    Q = _as_float_array(Q, who, "Q")
    K = _as_float_array(K, who, "K")
    V = _as_float_array(V, who, "V")
    for name, arr in (("Q", Q), ("K", K), ("V", V)):
        if arr.ndim < 2:
            raise ValueError(f"{who}: {name} must have at least 2 axes (..., positions, features), "
                             f"got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"{who}: {name} is empty (shape {arr.shape})")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"{who}: queries and keys must have the same feature size d_k, got Q of shape "
                         f"{Q.shape} and K of shape {K.shape}")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError(f"{who}: K and V must have one row per key position, got K of shape {K.shape} "
                         f"and V of shape {V.shape}")
    if not (Q.shape[:-2] == K.shape[:-2] == V.shape[:-2]):
        raise ValueError(f"{who}: Q, K and V must have the same leading (batch, head) axes, got shapes "
                         f"{Q.shape}, {K.shape} and {V.shape}")
    return Q, K, V


def _scale(scale, d_k: int, who: str) -> float:
    if scale is None:
        return 1.0 / math.sqrt(d_k)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)) \
            or not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"{who}: scale must be a positive number, got {scale!r}")
    return float(scale)


def scaled_dot_product_attention(Q, K, V, mask=None, scale=None) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(Q Kᵀ · scale + mask) V``; returns ``(output, weights)``.

    Shapes: Q (..., T_q, d_k), K (..., T_k, d_k), V (..., T_k, d_v) with the same
    leading axes; output (..., T_q, d_v); weights (..., T_q, T_k), each row a
    probability distribution over the keys. ``scale`` defaults to 1/√d_k.
    ``mask``: boolean (True = may attend) or float (added to the scores, -inf
    blocks), of shape (T_q, T_k) or anything that broadcasts to the scores.
    """
    who = "scaled_dot_product_attention"
    Q, K, V = _check_qkv(Q, K, V, who)
    scale = _scale(scale, Q.shape[-1], who)
    scores = (Q @ np.swapaxes(K, -1, -2)) * scale
    if mask is not None:
        scores = scores + _additive_mask(mask, scores.shape, who)
    weights = _softmax(scores)
    return weights @ V, weights


def scaled_dot_product_attention_backward(d_output, Q, K, V, weights, scale=None):
    """Gradients ``(dQ, dK, dV)`` of a loss through :func:`scaled_dot_product_attention`.

    ``d_output`` is ∂loss/∂output and ``weights`` the attention weights P that
    the forward pass returned (the mask is already inside P: blocked entries are
    0 and get no gradient). With S = scale · Q Kᵀ and O = P V:

        dV = Pᵀ dO,   dP = dO Vᵀ,   dS = P ⊙ (dP − rowsum(dP ⊙ P)),
        dQ = scale · dS K,   dK = scale · dSᵀ Q.
    """
    who = "scaled_dot_product_attention_backward"
    Q, K, V = _check_qkv(Q, K, V, who)
    P = _as_float_array(weights, who, "weights")
    dO = _as_float_array(d_output, who, "d_output")
    expected_P = Q.shape[:-1] + (K.shape[-2],)
    if P.shape != expected_P:
        raise ValueError(f"{who}: weights should have shape {expected_P} (..., T_q, T_k), got {P.shape}")
    expected_out = Q.shape[:-1] + (V.shape[-1],)
    if dO.shape != expected_out:
        raise ValueError(f"{who}: d_output should have the output's shape {expected_out}, got {dO.shape}")
    scale = _scale(scale, Q.shape[-1], who)
    dV = np.swapaxes(P, -1, -2) @ dO
    dP = dO @ np.swapaxes(V, -1, -2)
    dS = P * (dP - (dP * P).sum(axis=-1, keepdims=True))
    dQ = scale * dS @ K
    dK = scale * np.swapaxes(dS, -1, -2) @ Q
    return dQ, dK, dV


def causal_mask(T: int) -> np.ndarray:
    """Boolean (T, T) mask, True on and below the diagonal: position t may attend to 0..t only."""
    T = _check_int(T, "causal_mask", "T")
    return np.tril(np.ones((T, T), dtype=bool))


# --- positional encoding ---------------------------------------------------------

def sinusoidal_positional_encoding(T: int, d: int, base: float = 10000.0) -> np.ndarray:
    """The (T, d) sinusoidal positional encodings of "Attention Is All You Need".

    PE[p, 2i] = sin(p / base^(2i/d)) and PE[p, 2i+1] = cos(p / base^(2i/d)):
    pair i is a clock turning at angular frequency ω_i = base^(−2i/d) per
    position. Because a shift by k positions rotates every pair by ω_i k,
    PE[p + k] is a fixed linear function of PE[p], and PE[p]·PE[p + k] =
    Σ_i cos(ω_i k) depends on the offset k only. An odd d drops the last cosine.
    """
    who = "sinusoidal_positional_encoding"
    T = _check_int(T, who, "T")
    d = _check_int(d, who, "d")
    if isinstance(base, bool) or not isinstance(base, (int, float, np.integer, np.floating)) or not base > 1:
        raise ValueError(f"{who}: base must be a number greater than 1, got {base!r}")
    positions = np.arange(T, dtype=np.float64)[:, None]
    omega = float(base) ** (-np.arange(0, d, 2, dtype=np.float64) / d)  # (ceil(d/2),)
    angles = positions * omega
    pe = np.empty((T, 2 * len(omega)))
    pe[:, 0::2] = np.sin(angles)
    pe[:, 1::2] = np.cos(angles)
    return pe[:, :d]


# --- layers ------------------------------------------------------------------------

class _Linear:
    """Y = X Wᵀ + b over the last axis (torch.nn.Linear layout: weight is (out, in))."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator, name: str = "Linear"):
        bound = 1.0 / math.sqrt(in_features)  # torch.nn.Linear's default range
        self.name = f"{name}({in_features} -> {out_features})"
        self.params = {"weight": rng.uniform(-bound, bound, size=(out_features, in_features)),
                       "bias": rng.uniform(-bound, bound, size=out_features)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._X = None

    def forward(self, X: np.ndarray) -> np.ndarray:
        W = self.params["weight"]
        if X.shape[-1] != W.shape[1]:
            raise ValueError(f"{self.name}: expected input with {W.shape[1]} features, got shape {X.shape}")
        self._X = X
        return X @ W.T + self.params["bias"]

    def backward(self, dY: np.ndarray) -> np.ndarray:
        X = self._X
        W = self.params["weight"]
        self.grads["weight"] = dY.reshape(-1, W.shape[0]).T @ X.reshape(-1, W.shape[1])
        self.grads["bias"] = dY.reshape(-1, W.shape[0]).sum(axis=0)
        return dY @ W


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x Φ(x) (torch.nn.GELU's default)."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _gelu_grad(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * (1.0 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)


class MultiHeadAttention:
    """Multi-head attention (self- or cross-), laid out like ``torch.nn.MultiheadAttention``.

    Parameters (the names of torch's ``state_dict``):
    ``in_proj_weight`` (3E, E) stacks W_q, W_k, W_v; ``in_proj_bias`` (3E,);
    ``out_proj.weight`` (E, E); ``out_proj.bias`` (E,).

    ``forward(X, mask=None, context=None)``: X is (batch, T, E). Queries come
    from X; keys and values from ``context`` (batch, S, E), default X (self-
    attention). Each of the H heads attends in its own E/H-dimensional slice;
    the heads are concatenated and mixed by ``out_proj``. After a forward pass,
    ``attn_weights`` holds the per-head weights (batch, H, T, S) and
    ``avg_attn_weights`` their mean over heads, what torch returns by default.
    ``mask``: (T, S), (batch, T, S) or broadcastable to (batch, H, T, S); True
    (or 0.0) = may attend. No dropout.

    ``backward(dY)`` returns dX and fills ``grads``; with a ``context`` its
    gradient is left in ``d_context``.
    """

    def __init__(self, embed_dim: int, num_heads: int, rng: np.random.Generator):
        who = "MultiHeadAttention"
        embed_dim = _check_int(embed_dim, who, "embed_dim")
        num_heads = _check_int(num_heads, who, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"{who}: embed_dim {embed_dim} is not divisible by num_heads {num_heads}; "
                             f"each head gets embed_dim / num_heads features (try num_heads in "
                             f"{[h for h in range(1, embed_dim + 1) if embed_dim % h == 0][:8]})")
        rng = _check_rng(rng, who)
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        E = embed_dim
        xavier = math.sqrt(6.0 / (E + 3 * E))  # torch: xavier_uniform_ on the stacked (3E, E) matrix
        self.params = {
            "in_proj_weight": rng.uniform(-xavier, xavier, size=(3 * E, E)),
            "in_proj_bias": np.zeros(3 * E),
            "out_proj.weight": rng.uniform(-1 / math.sqrt(E), 1 / math.sqrt(E), size=(E, E)),
            "out_proj.bias": np.zeros(E),
        }
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.attn_weights = None
        self.d_context = None
        self._cache = None

    def __repr__(self) -> str:
        return f"MultiHeadAttention(E={self.embed_dim}, heads={self.num_heads})"

    def __call__(self, X, mask=None, context=None):
        return self.forward(X, mask=mask, context=context)

    @property
    def avg_attn_weights(self) -> np.ndarray:
        """Attention weights averaged over heads, (batch, T, S), like torch's default output."""
        if self.attn_weights is None:
            raise RuntimeError(f"{self!r}: run forward first")
        return self.attn_weights.mean(axis=1)

    # (batch, T, E) <-> (batch, H, T, E/H)
    def _split(self, X: np.ndarray) -> np.ndarray:
        B, T, _ = X.shape
        return X.reshape(B, T, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    @staticmethod
    def _merge(X: np.ndarray) -> np.ndarray:
        B, H, T, d = X.shape
        return X.transpose(0, 2, 1, 3).reshape(B, T, H * d)

    def _check_input(self, X, name: str) -> np.ndarray:
        X = _as_float_array(X, repr(self), name)
        if X.ndim != 3 or X.shape[-1] != self.embed_dim:
            raise ValueError(f"{self!r}: expected {name} of shape (batch, time, {self.embed_dim}), "
                             f"got shape {X.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"{self!r}: {name} is empty (shape {X.shape})")
        return X

    def forward(self, X, mask=None, context=None) -> np.ndarray:
        X = self._check_input(X, "X")
        C = X if context is None else self._check_input(context, "context")
        if C.shape[0] != X.shape[0]:
            raise ValueError(f"{self!r}: X of shape {X.shape} and context of shape {C.shape} must have "
                             "the same batch size")
        E = self.embed_dim
        W, b = self.params["in_proj_weight"], self.params["in_proj_bias"]
        q = self._split(X @ W[:E].T + b[:E])
        k = self._split(C @ W[E:2 * E].T + b[E:2 * E])
        v = self._split(C @ W[2 * E:].T + b[2 * E:])
        if mask is not None:
            m = np.asarray(mask)
            if m.ndim == 3:  # (batch, T, S): the same mask for every head
                m = m[:, None]
            mask = _additive_mask(m, (X.shape[0], self.num_heads, X.shape[1], C.shape[1]), repr(self))
        heads, P = scaled_dot_product_attention(q, k, v, mask=mask)
        concat = self._merge(heads)
        self.attn_weights = P
        self._cache = (X, C, context is None, q, k, v, P, concat)
        return concat @ self.params["out_proj.weight"].T + self.params["out_proj.bias"]

    def backward(self, dY) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        X, C, self_attention, q, k, v, P, concat = self._cache
        dY = _as_float_array(dY, repr(self), "dY")
        if dY.shape != X.shape:
            raise ValueError(f"{self!r}: dY must have the output's shape {X.shape}, got {dY.shape}")
        E = self.embed_dim
        W = self.params["in_proj_weight"]
        flat = lambda A: A.reshape(-1, A.shape[-1])  # noqa: E731  (batch*time, features)
        self.grads["out_proj.weight"] = flat(dY).T @ flat(concat)
        self.grads["out_proj.bias"] = flat(dY).sum(axis=0)
        d_heads = self._split(dY @ self.params["out_proj.weight"])
        dq, dk, dv = scaled_dot_product_attention_backward(d_heads, q, k, v, P)
        dq, dk, dv = self._merge(dq), self._merge(dk), self._merge(dv)
        self.grads["in_proj_weight"] = np.concatenate(
            [flat(dq).T @ flat(X), flat(dk).T @ flat(C), flat(dv).T @ flat(C)])
        self.grads["in_proj_bias"] = np.concatenate([flat(d).sum(axis=0) for d in (dq, dk, dv)])
        dX = dq @ W[:E]
        dC = dk @ W[E:2 * E] + dv @ W[2 * E:]
        if self_attention:
            self.d_context = None
            return dX + dC
        self.d_context = dC
        return dX

    @classmethod
    def from_torch(cls, module) -> "MultiHeadAttention":
        """A copy of a ``torch.nn.MultiheadAttention`` (with biases, kdim = vdim = embed_dim)."""
        import torch

        if not isinstance(module, torch.nn.MultiheadAttention):
            raise TypeError(f"MultiHeadAttention.from_torch expects torch.nn.MultiheadAttention, "
                            f"got {type(module).__name__}")
        if not module._qkv_same_embed_dim or module.in_proj_bias is None or module.bias_k is not None:
            raise ValueError("MultiHeadAttention.from_torch supports the default layout only: "
                             "kdim = vdim = embed_dim, bias=True, add_bias_kv=False")
        layer = cls(module.embed_dim, module.num_heads, np.random.default_rng(0))
        state = module.state_dict()
        for name in layer.params:
            layer.params[name] = state[name].detach().cpu().double().numpy().copy()
        return layer


class LayerNorm:
    """Layer normalisation over the last axis, like ``torch.nn.LayerNorm(normalized_shape, eps)``.

    y = weight · (x − mean) / √(var + eps) + bias, with the biased variance
    (divide by N). ``weight`` starts at ones and ``bias`` at zeros.
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5):
        who = "LayerNorm"
        self.normalized_shape = _check_int(normalized_shape, who, "normalized_shape")
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not eps > 0:
            raise ValueError(f"{who}: eps must be a positive number, got {eps!r}")
        self.eps = float(eps)
        self.params = {"weight": np.ones(self.normalized_shape), "bias": np.zeros(self.normalized_shape)}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def __repr__(self) -> str:
        return f"LayerNorm({self.normalized_shape})"

    def __call__(self, X):
        return self.forward(X)

    def forward(self, X) -> np.ndarray:
        X = _as_float_array(X, repr(self), "X")
        if X.ndim == 0 or X.shape[-1] != self.normalized_shape:
            raise ValueError(f"{self!r}: expected input whose last axis has {self.normalized_shape} "
                             f"features, got shape {X.shape}")
        if X.size == 0:
            raise ValueError(f"{self!r}: input is empty (shape {X.shape})")
        mean = X.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(X.var(axis=-1, keepdims=True) + self.eps)
        X_hat = (X - mean) * inv_std
        self._cache = (X_hat, inv_std)
        return X_hat * self.params["weight"] + self.params["bias"]

    def backward(self, dY) -> np.ndarray:
        """dX = (1/σ) (g − mean(g) − x̂ · mean(g ⊙ x̂)) with g = dY ⊙ weight."""
        if self._cache is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        X_hat, inv_std = self._cache
        dY = _as_float_array(dY, repr(self), "dY")
        if dY.shape != X_hat.shape:
            raise ValueError(f"{self!r}: dY must have the output's shape {X_hat.shape}, got {dY.shape}")
        N = self.normalized_shape
        self.grads["weight"] = (dY * X_hat).reshape(-1, N).sum(axis=0)
        self.grads["bias"] = dY.reshape(-1, N).sum(axis=0)
        g = dY * self.params["weight"]
        return inv_std * (g - g.mean(axis=-1, keepdims=True) - X_hat * (g * X_hat).mean(axis=-1, keepdims=True))

    @classmethod
    def from_torch(cls, module) -> "LayerNorm":
        """A copy of a ``torch.nn.LayerNorm`` over one axis, with its weight, bias and eps."""
        import torch

        if not isinstance(module, torch.nn.LayerNorm):
            raise TypeError(f"LayerNorm.from_torch expects torch.nn.LayerNorm, got {type(module).__name__}")
        if len(module.normalized_shape) != 1 or module.weight is None or module.bias is None:
            raise ValueError("LayerNorm.from_torch supports normalisation over the last axis with "
                             "elementwise_affine=True and bias=True")
        layer = cls(module.normalized_shape[0], eps=module.eps)
        layer.params["weight"] = module.weight.detach().cpu().double().numpy().copy()
        layer.params["bias"] = module.bias.detach().cpu().double().numpy().copy()
        return layer


class TransformerBlock:
    """One pre-LN Transformer block (GPT-2 and most large models since):

        H = X + MHA(LN₁(X), mask);   Y = H + W₂ GELU(W₁ LN₂(H) + b₁) + b₂.

    Parameter names equal those of ``torch.nn.TransformerEncoderLayer(embed_dim,
    num_heads, ff_dim, dropout=0.0, activation="gelu", batch_first=True,
    norm_first=True)``, so :meth:`from_torch` copies one. ``forward(X, mask)``
    takes (batch, T, E); ``backward(dY)`` returns dX and fills ``grads``.
    """

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int | None, rng: np.random.Generator,
                 eps: float = 1e-5):
        who = "TransformerBlock"
        rng = _check_rng(rng, who)
        embed_dim = _check_int(embed_dim, who, "embed_dim")
        ff_dim = 4 * embed_dim if ff_dim is None else _check_int(ff_dim, who, "ff_dim")
        self.embed_dim, self.ff_dim = embed_dim, ff_dim
        self.norm1 = LayerNorm(embed_dim, eps)
        self.self_attn = MultiHeadAttention(embed_dim, num_heads, rng)
        self.norm2 = LayerNorm(embed_dim, eps)
        self.linear1 = _Linear(embed_dim, ff_dim, rng, "TransformerBlock.linear1")
        self.linear2 = _Linear(ff_dim, embed_dim, rng, "TransformerBlock.linear2")
        self._hidden = None

    def __repr__(self) -> str:
        return f"TransformerBlock(E={self.embed_dim}, heads={self.self_attn.num_heads}, ff={self.ff_dim})"

    def __call__(self, X, mask=None):
        return self.forward(X, mask=mask)

    _PARTS = ("self_attn", "linear1", "linear2", "norm1", "norm2")

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{part}.{k}": v for part in self._PARTS for k, v in getattr(self, part).params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{part}.{k}": v for part in self._PARTS for k, v in getattr(self, part).grads.items()}

    def forward(self, X, mask=None) -> np.ndarray:
        X = _as_float_array(X, repr(self), "X")
        if X.ndim != 3 or X.shape[-1] != self.embed_dim:
            raise ValueError(f"{self!r}: expected X of shape (batch, time, {self.embed_dim}), got shape {X.shape}")
        H = X + self.self_attn.forward(self.norm1.forward(X), mask=mask)
        pre = self.linear1.forward(self.norm2.forward(H))
        self._hidden = pre
        return H + self.linear2.forward(_gelu(pre))

    def backward(self, dY) -> np.ndarray:
        if self._hidden is None:
            raise RuntimeError(f"{self!r}: call forward before backward")
        dY = _as_float_array(dY, repr(self), "dY")
        d_pre = self.linear2.backward(dY) * _gelu_grad(self._hidden)
        dH = dY + self.norm2.backward(self.linear1.backward(d_pre))
        return dH + self.norm1.backward(self.self_attn.backward(dH))

    @classmethod
    def from_torch(cls, module) -> "TransformerBlock":
        """A copy of ``torch.nn.TransformerEncoderLayer(..., activation="gelu", batch_first=True, norm_first=True)``."""
        import torch
        import torch.nn.functional as F

        if not isinstance(module, torch.nn.TransformerEncoderLayer):
            raise TypeError(f"TransformerBlock.from_torch expects torch.nn.TransformerEncoderLayer, "
                            f"got {type(module).__name__}")
        if not (module.norm_first and module.self_attn.batch_first and module.activation is F.gelu):
            raise ValueError("TransformerBlock.from_torch needs a pre-LN layer: TransformerEncoderLayer("
                             "..., activation='gelu', batch_first=True, norm_first=True)")
        if module.norm1.eps != module.norm2.eps:
            raise ValueError("TransformerBlock.from_torch needs norm1 and norm2 with the same eps")
        block = cls(module.self_attn.embed_dim, module.self_attn.num_heads, module.linear1.out_features,
                    np.random.default_rng(0), eps=module.norm1.eps)
        state = module.state_dict()
        for part in cls._PARTS:
            layer = getattr(block, part)
            for k in layer.params:
                layer.params[k] = state[f"{part}.{k}"].detach().cpu().double().numpy().copy()
        return block
