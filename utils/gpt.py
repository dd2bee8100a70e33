"""A small GPT: a decoder-only Transformer in PyTorch, with the tools to train and sample it (chapter 6.4).

The model follows nanoGPT and GPT-2 (Radford et al., 2019), with the same parameter names
as the inline model of section 1.1, so that a ``state_dict`` moves between them::

    from utils import gpt
    config = gpt.GPTConfig(vocab_size=88, block_size=128, n_layer=4, n_head=4, n_embd=128)
    model = gpt.GPT(config)
    logits = model(idx)                           # (batch, T, vocab_size) next-token scores
    loss = model.loss(idx, targets)               # mean cross-entropy, nats per token
    out = model.generate(idx, 200, temperature=0.8, top_k=20)

- :class:`GPTConfig`, :class:`CausalSelfAttention`, :class:`MLP`, :class:`Block`, :class:`GPT`:
  token + learned position embeddings, pre-LN blocks (causal multi-head self-attention,
  GELU MLP), a final LayerNorm and a linear head (tied to the token embedding by default).
- Sampling: :func:`apply_temperature`, :func:`top_k_filter`, :func:`top_p_filter`,
  :func:`next_token_probs` and :func:`sample_next` (temperature 0 means greedy).
- Characters: :func:`encode_chars`, :func:`decode_chars` (through a :class:`utils.text.Vocab`),
  :func:`block_split` (train/validation by contiguous blocks), :func:`get_batch` (random
  windows), :func:`eval_windows` and :func:`evaluate_loss` (fixed windows).
- Training helpers: :func:`cosine_lr` (linear warm-up, cosine decay) and
  :func:`repeated_ngram_share` (a repetition measure for generated text).
- Fair scoring: :func:`spread_positions` and :func:`sliding_logprobs` (every scored token
  sees a full context) and :class:`CharNGram` (add-k and interpolated Kneser-Ney n-gram
  baselines, scored on the same positions).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "GPTConfig", "CausalSelfAttention", "MLP", "Block", "GPT", "KVCache",
    "apply_temperature", "top_k_filter", "top_p_filter", "next_token_probs", "sample_next",
    "encode_chars", "decode_chars", "block_split", "get_batch", "eval_windows", "evaluate_loss",
    "cosine_lr", "repeated_ngram_share", "spread_positions", "sliding_logprobs", "CharNGram",
]


# --- input checks -------------------------------------------------------------------

def _int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)


def _logits(logits, who: str) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{who}: logits must be a torch tensor, got {type(logits).__name__}")
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"{who}: logits must have a non-empty last axis (..., vocab_size), "
                         f"got shape {tuple(logits.shape)}")
    if not logits.is_floating_point():
        raise TypeError(f"{who}: logits must be floating point, got dtype {logits.dtype}")
    if torch.isnan(logits).any():
        raise ValueError(f"{who}: logits contain NaN")
    return logits


# --- the model ----------------------------------------------------------------------

@dataclass
class GPTConfig:
    """Shape of a GPT. Names as in GPT-2 / nanoGPT.

    ``block_size`` is the context length T (the longest sequence the position
    embedding covers); ``n_embd`` the width d; ``n_head`` must divide ``n_embd``.
    ``tie_weights``: the output head reuses the token-embedding matrix (GPT-2).
    """

    vocab_size: int = 88
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    tie_weights: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            _int(getattr(self, name), f"GPTConfig.{name}")
        if self.n_embd % self.n_head:
            divisors = [h for h in range(1, self.n_embd + 1) if self.n_embd % h == 0]
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} must be divisible by n_head={self.n_head}; "
                             f"each head gets n_embd / n_head dimensions (try n_head in {divisors[:8]})")
        dropout = _real(self.dropout, "GPTConfig.dropout")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GPTConfig.dropout must be in [0, 1), got {self.dropout}")

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t sees positions 0..t only.

    ``c_attn`` computes queries, keys and values in one (d -> 3d) product; the heads
    split d into ``n_head`` slices; ``c_proj`` mixes the concatenated heads.
    ``forward(x, explicit=False, cache=None)`` uses PyTorch's fused
    ``scaled_dot_product_attention(is_causal=True)``; ``explicit=True`` writes the
    softmax(QKᵀ/√d_k + mask)V out and keeps the weights in ``self.weights``
    (batch, heads, T, keys), for pictures of what a head looks at. ``cache`` (a
    list, empty at first) holds the keys and values of earlier positions: the new
    positions attend to them and are appended (the KV cache of text generation).
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.weights = None

    def forward(self, x: torch.Tensor, explicit: bool = False, cache: list | None = None) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        past = 0
        if cache is not None:  # [keys, values] of the earlier positions: append the new ones
            if cache:
                past = cache[0].shape[2]
                k, v = torch.cat([cache[0], k], dim=2), torch.cat([cache[1], v], dim=2)
            cache[:] = [k, v]
        S = k.shape[2]  # number of keys: past + T
        # query i (absolute position past + i) may see keys 0 .. past + i
        allowed = torch.ones(T, S, dtype=torch.bool, device=x.device).tril(diagonal=past)
        if explicit:
            scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
            att = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1)
            self.weights = att.detach()
            att = F.dropout(att, self.dropout, self.training)
            y = att @ v
        else:
            p = self.dropout if self.training else 0.0
            if past == 0:
                y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
            elif T == 1:  # one new query sees every key: no mask needed
                y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
            else:
                y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=p)
        y = y.transpose(1, 2).reshape(B, T, C)  # the heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Position-wise feed-forward network d -> 4d -> d with GELU."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LN Transformer block: x + attn(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, explicit: bool = False, cache: list | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), explicit=explicit, cache=cache)  # residual paths carry the gradient
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only Transformer language model: ids (batch, T) -> next-token logits (batch, T, V).

    Initialisation as in GPT-2: weights N(0, 0.02), biases 0, and the two
    projections that write into the residual stream (``attn.c_proj``,
    ``mlp.c_proj``) scaled by 1/√(2 n_layer), so the stream's variance does not
    grow with depth.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT needs a GPTConfig, got {type(config).__name__}")
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.transformer.wte.weight  # one tensor for both
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_params(self, non_embedding: bool = False) -> int:
        """Number of parameters (a tied matrix counted once).

        ``non_embedding=True`` leaves out the position embedding and, when the
        head is untied, the token embedding: the count that scaling laws use.
        """
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.transformer.wpe.weight.numel()
            if not self.config.tie_weights:
                n -= self.transformer.wte.weight.numel()
        return n

    def flops_per_token(self, T: int | None = None, training: bool = True) -> int:
        """Matrix-product FLOPs per token for a sequence of ``T`` tokens (default: block_size).

        Forward: 2 FLOPs per weight of every matrix product (12 n_layer d² in the
        blocks, V d in the head; lookups are free) plus 4 T d per layer for the
        attention scores QKᵀ and their product with V, averaged as if every query saw
        all T keys (what the fused kernel computes). Training (forward + backward)
        is three times the forward pass: the 6ND rule of section 1.1 plus 12 n_layer T d.
        """
        c = self.config
        T = c.block_size if T is None else _int(T, "T")
        forward = 2 * (12 * c.n_layer * c.n_embd**2 + c.vocab_size * c.n_embd) + 4 * c.n_layer * T * c.n_embd
        return 3 * forward if training else forward

    def _check_idx(self, idx, check_length: bool = True) -> torch.Tensor:
        if not isinstance(idx, torch.Tensor):
            raise TypeError(f"GPT: token ids must be a torch tensor, got {type(idx).__name__}")
        if idx.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"GPT: token ids must be integers (torch.long), got dtype {idx.dtype}")
        if idx.ndim != 2 or idx.shape[1] == 0:
            raise ValueError(f"GPT: token ids must have shape (batch, T) with T >= 1, got {tuple(idx.shape)}")
        if check_length and idx.shape[1] > self.config.block_size:
            raise ValueError(f"GPT: a sequence of {idx.shape[1]} tokens is longer than the context "
                             f"block_size={self.config.block_size}; crop it to the last "
                             f"{self.config.block_size} tokens")
        if idx.numel() and (idx.min() < 0 or idx.max() >= self.config.vocab_size):
            raise ValueError(f"GPT: token ids must lie in 0..{self.config.vocab_size - 1}, got values from "
                             f"{int(idx.min())} to {int(idx.max())}")
        return idx

    def forward(self, idx: torch.Tensor, explicit: bool = False, cache: "KVCache | None" = None) -> torch.Tensor:
        """Logits (batch, T, vocab_size): position t scores the token that follows idx[:, t].

        With a :class:`KVCache`, ``idx`` continues the positions already in the cache
        (their keys and values are reused, the new ones appended).
        """
        idx = self._check_idx(idx)
        past = 0
        if cache is not None:
            if not isinstance(cache, KVCache) or len(cache.layers) != self.config.n_layer:
                raise TypeError(f"GPT: cache must be a KVCache(n_layer={self.config.n_layer}), got {cache!r}")
            past = cache.length
            if past + idx.shape[1] > self.config.block_size:
                raise ValueError(f"GPT: the cache holds {past} positions and {idx.shape[1]} more do not fit "
                                 f"in block_size={self.config.block_size}; start a new cache")
        pos = torch.arange(past, past + idx.shape[1], device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        layer_caches = cache.layers if cache is not None else [None] * self.config.n_layer
        for block, layer_cache in zip(self.transformer.h, layer_caches):
            x = block(x, explicit=explicit, cache=layer_cache)
        return self.lm_head(self.transformer.ln_f(x))

    def loss(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean next-token cross-entropy in nats (targets[:, t] is the token after idx[:, t])."""
        if not isinstance(targets, torch.Tensor) or targets.shape != idx.shape:
            got = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
            raise ValueError(f"GPT.loss: targets must be a tensor shaped like idx {tuple(idx.shape)}, got {got}")
        logits = self(idx)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))

    @torch.no_grad()
    def attention_maps(self, idx: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer, each (batch, n_head, T, T) (row = query, column = key)."""
        was_training = self.training
        self.eval()
        self(idx, explicit=True)
        self.train(was_training)
        return [block.attn.weights for block in self.transformer.h]

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, temperature=1.0, top_k=None, top_p=None,
                 generator: torch.Generator | None = None, use_cache: bool = True, return_logprobs: bool = False):
        """Append ``max_new_tokens`` tokens to each row of ``idx``, one at a time.

        Each step takes the logits at the last position and draws the next token with
        :func:`sample_next`; ``temperature``, ``top_k`` and ``top_p`` may be numbers or
        one value per row (temperature 0 = greedy). Returns (batch, T + max_new_tokens).

        Without the cache, every step runs the model on the last ``block_size`` tokens.
        With it (default), the keys and values of earlier positions are kept and each
        step runs the model on one new token only; because the position embedding is
        absolute, a full cache is rebuilt from the last ``block_size // 2`` tokens. The
        two agree (up to rounding) while the text fits in ``block_size``; after that the cached
        version sees between half and all of the context. The model is put in eval mode
        for the call (no dropout) and restored afterwards.

        ``return_logprobs=True`` also returns, for each new token, its log-probability
        under the model's own unfiltered distribution (temperature 1, no top-k/top-p),
        shape (batch, max_new_tokens): minus their mean is the model's loss on its sample.
        """
        idx = self._check_idx(idx, check_length=False)  # longer prompts are cropped below
        max_new_tokens = _int(max_new_tokens, "max_new_tokens", minimum=0)
        bs = self.config.block_size
        was_training = self.training
        self.eval()
        cache = None
        logprobs = []
        for _ in range(max_new_tokens):
            if not use_cache:
                logits = self(idx[:, -bs:])[:, -1, :]
            elif cache is None or cache.length == bs:  # (re)fill the cache from the recent context
                keep = bs if cache is None else bs // 2
                cache = KVCache(self.config.n_layer)
                logits = self(idx[:, -keep:], cache=cache)[:, -1, :]
            else:
                logits = self(idx[:, -1:], cache=cache)[:, -1, :]
            nxt = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            if return_logprobs:
                logprobs.append(logits.float().log_softmax(dim=-1).gather(-1, nxt[:, None])[:, 0])
            idx = torch.cat([idx, nxt[:, None]], dim=1)
        self.train(was_training)
        if return_logprobs:
            empty = torch.zeros(idx.shape[0], 0)
            return idx, (torch.stack(logprobs, dim=1) if logprobs else empty)
        return idx


class KVCache:
    """Keys and values of the positions a :class:`GPT` has already processed, one [k, v] per layer.

    Each k and v has shape (batch, n_head, positions, head_dim). Pass the same cache to
    successive ``model(idx, cache=cache)`` calls to feed a sequence piece by piece.
    """

    def __init__(self, n_layer: int):
        self.layers = [[] for _ in range(_int(n_layer, "n_layer"))]

    @property
    def length(self) -> int:
        return self.layers[0][0].shape[2] if self.layers[0] else 0

    def __repr__(self) -> str:
        return f"KVCache({len(self.layers)} layers, {self.length} positions)"


# --- sampling ---------------------------------------------------------------------

def _per_row(value, logits: torch.Tensor, name: str, integer: bool = False) -> torch.Tensor:
    """A number, or one number per row of ``logits``, as a tensor shaped (..., 1) for broadcasting."""
    batch = logits.shape[:-1]
    if isinstance(value, torch.Tensor):
        if value.shape != batch:
            raise ValueError(f"{name}: one value per row needs shape {tuple(batch)}, got {tuple(value.shape)}")
        if integer and value.is_floating_point():
            raise TypeError(f"{name} must hold integers, got dtype {value.dtype}")
        if not integer and not torch.isfinite(value.double()).all():
            raise ValueError(f"{name} must be finite")
        t = value.to(logits.device)
    else:
        t = torch.tensor(_int(value, name) if integer else _real(value, name), device=logits.device).expand(batch)
    return (t.to(torch.long) if integer else t.to(logits.dtype)).unsqueeze(-1)


def apply_temperature(logits: torch.Tensor, temperature) -> torch.Tensor:
    """``logits / temperature``: below 1 sharpens the softmax, above 1 flattens it.

    ``temperature`` is a number or one per row. Temperature 0 is the greedy limit; it
    has no finite logits, so it is refused here (:func:`sample_next` treats 0 as arg-max).
    """
    logits = _logits(logits, "apply_temperature")
    t = _per_row(temperature, logits, "temperature")
    if (t <= 0).any():
        raise ValueError(f"temperature must be positive, got {temperature}; temperature 0 means greedy "
                         "decoding (arg-max), which sample_next(..., temperature=0) does")
    return logits / t


def top_k_filter(logits: torch.Tensor, k) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row and set the others to -inf.

    ``k`` is an integer or one per row. Ties with the k-th largest value are kept
    too (so a row may keep more than k); ``k`` larger than the vocabulary keeps all.
    """
    logits = _logits(logits, "top_k_filter")
    k = _per_row(k, logits, "top_k", integer=True)
    if (k < 1).any():
        raise ValueError(f"top_k must be at least 1, got {k.squeeze(-1).tolist()}")
    k = k.clamp(max=logits.shape[-1])
    kth = torch.sort(logits, dim=-1, descending=True).values.gather(-1, k - 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p) -> torch.Tensor:
    """Nucleus filtering: keep the smallest set of most likely tokens whose probability reaches ``p``.

    Tokens are sorted by probability; a token is kept if the mass of the tokens
    ranked above it is still below ``p``, so the most likely token always stays.
    ``p`` (a number or one per row) in (0, 1]; 1 keeps everything (Holtzman et al.,
    2020, "The Curious Case of Neural Text Degeneration").
    """
    logits = _logits(logits, "top_p_filter")
    p = _per_row(p, logits, "top_p")
    if ((p <= 0) | (p > 1)).any():
        raise ValueError(f"top_p must be in (0, 1], got {p.squeeze(-1).tolist()}")
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    mass_before = probs.cumsum(dim=-1) - probs
    remove_sorted = mass_before >= p
    remove = torch.zeros_like(remove_sorted).scatter(-1, order, remove_sorted)
    return logits.masked_fill(remove, float("-inf"))


def next_token_probs(logits: torch.Tensor, temperature=1.0, top_k=None, top_p=None) -> torch.Tensor:
    """The distribution :func:`sample_next` draws from: temperature, then top-k, then top-p, then softmax.

    Each setting is a number or one per row; ``None`` switches a filter off.
    Temperature 0 gives the one-hot distribution of the arg-max (greedy decoding).
    """
    logits = _logits(logits, "next_token_probs")
    t = _per_row(temperature, logits, "temperature")
    if (t < 0).any():
        raise ValueError(f"temperature must be >= 0 (0 = greedy), got {t.squeeze(-1).tolist()}")
    greedy = t == 0
    scaled = logits / torch.where(greedy, torch.ones_like(t), t)
    if top_k is not None:
        scaled = top_k_filter(scaled, top_k)
    if top_p is not None:
        scaled = top_p_filter(scaled, top_p)
    probs = scaled.softmax(dim=-1)
    if greedy.any():
        one_hot = F.one_hot(logits.argmax(dim=-1), logits.shape[-1]).to(probs.dtype)
        probs = torch.where(greedy, one_hot, probs)
    return probs


def sample_next(logits: torch.Tensor, temperature=1.0, top_k=None, top_p=None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw one token id per row of ``logits`` (batch, vocab) from :func:`next_token_probs`."""
    logits = _logits(logits, "sample_next")
    if logits.ndim != 2:
        raise ValueError(f"sample_next: logits must have shape (batch, vocab_size), got {tuple(logits.shape)}")
    probs = next_token_probs(logits, temperature, top_k, top_p)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


# --- character data ------------------------------------------------------------------

def encode_chars(text: str, vocab) -> np.ndarray:
    """The ids of the characters of ``text`` in ``vocab`` (a :class:`utils.text.Vocab`), int64.

    Equal to ``vocab.encode(list(text))`` but vectorised (5 million characters in
    a fraction of a second). Characters outside the vocabulary raise a ValueError
    that names them (a character model has no sensible <unk> to predict).
    """
    if not isinstance(text, str):
        raise TypeError(f"encode_chars: text must be a string, got {type(text).__name__}")
    if not hasattr(vocab, "stoi"):
        raise TypeError(f"encode_chars: vocab must be a utils.text.Vocab, got {type(vocab).__name__}")
    if not text:
        return np.zeros(0, dtype=np.int64)
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    unique, inverse = np.unique(codes, return_inverse=True)
    chars = [chr(int(c)) for c in unique]
    missing = [ch for ch in chars if ch not in vocab.stoi]
    if missing:
        raise ValueError(f"encode_chars: characters not in the vocabulary: {missing[:10]}; "
                         "build the vocabulary from a text that contains them")
    table = np.array([vocab.stoi[ch] for ch in chars], dtype=np.int64)
    return table[inverse.reshape(-1)]


def decode_chars(ids, vocab) -> str:
    """The text of ``ids`` (special tokens such as <pad> are dropped)."""
    if not hasattr(vocab, "itos"):
        raise TypeError(f"decode_chars: vocab must be a utils.text.Vocab, got {type(vocab).__name__}")
    if isinstance(ids, torch.Tensor):
        ids = ids.tolist()
    return "".join(vocab.decode(ids, stop_at_eos=False))


def _ids(ids, who: str) -> np.ndarray:
    if isinstance(ids, torch.Tensor):
        ids = ids.numpy()
    ids = np.asarray(ids)
    if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{who}: ids must be a 1-D array of integer token ids, got shape {ids.shape} "
                         f"and dtype {ids.dtype}")
    return ids


def block_split(ids, val_fraction: float = 0.1, num_blocks: int = 100):
    """Split a token stream (an id array, or a string) into training and validation parts by blocks.

    The stream is cut into ``num_blocks`` contiguous blocks of (almost) equal
    length, and every ``round(1 / val_fraction)``-th block (the middle one of each
    group) goes to validation. Validation text thus comes from all over the corpus,
    yet no validation character lies inside a training window, except within a
    window's length of the few block borders. Returns (train, val), each the
    concatenation of its blocks; a string gives strings cut at the same places.
    """
    if not isinstance(ids, str):
        ids = _ids(ids, "block_split")
    val_fraction = _real(val_fraction, "val_fraction")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    num_blocks = _int(num_blocks, "num_blocks", minimum=2)
    if len(ids) < num_blocks:
        raise ValueError(f"block_split: {len(ids)} tokens cannot be cut into {num_blocks} blocks")
    every = max(2, round(1 / val_fraction))
    size, extra = divmod(len(ids), num_blocks)  # the first `extra` blocks get one more (like np.array_split)
    bounds = np.cumsum([0] + [size + (i < extra) for i in range(num_blocks)])
    blocks = [ids[bounds[i]:bounds[i + 1]] for i in range(num_blocks)]
    is_val = [(i % every) == every // 2 for i in range(num_blocks)]
    join = "".join if isinstance(ids, str) else np.concatenate
    return (join([b for b, v in zip(blocks, is_val) if not v]), join([b for b, v in zip(blocks, is_val) if v]))


def get_batch(ids, batch_size: int, block_size: int, generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random windows of ``block_size`` tokens and, shifted by one, their targets."""
    ids = _ids(ids, "get_batch")
    batch_size, block_size = _int(batch_size, "batch_size"), _int(block_size, "block_size")
    if len(ids) < block_size + 1:
        raise ValueError(f"get_batch: need at least block_size + 1 = {block_size + 1} tokens, got {len(ids)}")
    data = torch.from_numpy(np.ascontiguousarray(ids, dtype=np.int64))
    starts = torch.randint(0, len(ids) - block_size, (batch_size,), generator=generator)
    offsets = starts[:, None] + torch.arange(block_size + 1)
    chunk = data[offsets]
    return chunk[:, :-1], chunk[:, 1:]


def eval_windows(ids, block_size: int, num_windows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``num_windows`` windows spread evenly over ``ids`` (the same every call), with targets."""
    ids = _ids(ids, "eval_windows")
    block_size, num_windows = _int(block_size, "block_size"), _int(num_windows, "num_windows")
    if len(ids) < block_size + 1:
        raise ValueError(f"eval_windows: need at least {block_size + 1} tokens, got {len(ids)}")
    starts = np.linspace(0, len(ids) - block_size - 1, num_windows).astype(np.int64)
    chunk = torch.from_numpy(np.asarray(ids, dtype=np.int64)[starts[:, None] + np.arange(block_size + 1)])
    return chunk[:, :-1], chunk[:, 1:]


@torch.no_grad()
def evaluate_loss(model: GPT, ids, num_windows: int = 128, block_size: int | None = None,
                  batch_size: int = 64) -> float:
    """Mean cross-entropy (nats per token) of ``model`` over fixed windows of ``ids``.

    Every position of every window counts, including the first ones that see
    little context: this is the quantity training minimises.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"evaluate_loss: model must be a GPT, got {type(model).__name__}")
    block_size = model.config.block_size if block_size is None else block_size
    x, y = eval_windows(ids, block_size, num_windows)
    device = next(model.parameters()).device  # the windows are built on the CPU
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
        total += model.loss(xb, yb).item() * len(xb)
    model.train(was_training)
    return total / len(x)


# --- training and evaluation helpers ----------------------------------------------------

def cosine_lr(step: int, max_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up to ``max_lr``, then cosine decay to ``min_lr``.

    Warm-up: ``max_lr (step + 1) / warmup_steps`` for the first ``warmup_steps``
    steps; then ``min_lr + (max_lr - min_lr) (1 + cos(π progress)) / 2`` with
    progress going from 0 to 1 at ``total_steps``; ``min_lr`` after that.
    """
    step = _int(step, "step", minimum=0)
    warmup_steps = _int(warmup_steps, "warmup_steps", minimum=0)
    total_steps = _int(total_steps, "total_steps")
    max_lr, min_lr = _real(max_lr, "max_lr"), _real(min_lr, "min_lr")
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps ({warmup_steps}) must be smaller than total_steps ({total_steps})")
    if not 0 <= min_lr <= max_lr:
        raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={min_lr}, max_lr={max_lr}")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.cos(math.pi * progress))


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """Share of the character n-grams of ``text`` that already occurred earlier in it.

    1 - distinct / total: 0 for text that never repeats itself, near 1 for a loop
    such as "the the the ...". Degenerate generation (greedy decoding) scores high.
    """
    if not isinstance(text, str):
        raise TypeError(f"repeated_ngram_share: text must be a string, got {type(text).__name__}")
    n = _int(n, "n")
    if len(text) < n:
        raise ValueError(f"repeated_ngram_share: text of {len(text)} characters has no {n}-grams")
    grams = [text[i:i + n] for i in range(len(text) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams)


# --- scoring with full context, and count-based n-gram baselines -------------------------

def spread_positions(n: int, context: int, num_positions: int) -> np.ndarray:
    """``num_positions`` target positions spread evenly over ``context .. n - 1`` (the same every call).

    Every returned position p has at least ``context`` tokens before it, so a model
    with a context of ``context`` tokens and an n-gram model of order <= ``context``
    can both score token p from a full context.
    """
    n, context = _int(n, "n"), _int(context, "context", minimum=0)
    num_positions = _int(num_positions, "num_positions")
    if n - context < num_positions:
        raise ValueError(f"spread_positions: {n} tokens have only {n - context} positions after a context "
                         f"of {context}; asked for {num_positions}")
    return np.linspace(context, n - 1, num_positions).round().astype(np.int64)


@torch.no_grad()
def sliding_logprobs(model: GPT, ids, positions, batch_size: int = 256) -> np.ndarray:
    """ln p(ids[p] | the ``block_size`` tokens before p) for every p in ``positions`` (float64 array).

    Sliding-window scoring: each target is the *last* position of its own window, so
    every scored token sees the model's whole context (unlike :func:`evaluate_loss`,
    which averages over all positions of a window, the first ones seeing almost
    nothing). It costs one window per scored token. Runs on the model's device.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"sliding_logprobs: model must be a GPT, got {type(model).__name__}")
    ids = _ids(ids, "sliding_logprobs")
    positions = _ids(positions, "sliding_logprobs (positions)")
    T = model.config.block_size
    if len(positions) and (positions.min() < T or positions.max() >= len(ids)):
        raise ValueError(f"sliding_logprobs: positions must lie in {T}..{len(ids) - 1} (a full context of "
                         f"block_size={T} before each), got {positions.min()}..{positions.max()}")
    batch_size = _int(batch_size, "batch_size")
    device = next(model.parameters()).device
    data = np.asarray(ids, dtype=np.int64)
    was_training = model.training
    model.eval()
    out = []
    for i in range(0, len(positions), batch_size):
        p = positions[i:i + batch_size]
        x = torch.from_numpy(data[p[:, None] - T + np.arange(T)]).to(device)
        y = torch.from_numpy(data[p]).to(device)
        logp = model(x)[:, -1, :].float().log_softmax(dim=-1)
        out.append(logp.gather(-1, y[:, None])[:, 0].double().cpu().numpy())
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros(0)


def _codes(ids: np.ndarray, start: np.ndarray, length: int, base: int) -> np.ndarray:
    """The ``length`` tokens from each start as one base-``base`` integer (oldest token first)."""
    code = np.zeros(len(start), dtype=np.int64)
    for j in range(length):
        code = code * base + ids[start + j]
    return code


def _count(keys: np.ndarray, sorted_keys: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """counts[sorted_keys == key] for each key, 0 where it is missing."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.where(sorted_keys[pos] == keys, counts[pos], 0)


class CharNGram:
    """Count-based n-gram models of a token stream, every order up to ``max_order``, on integer ids.

    ``CharNGram(train_ids, max_order, num_symbols)`` counts every m-gram, m = 1 ..
    ``max_order``, once. :meth:`logprobs` then scores target positions of another
    stream with

    - ``smoothing="add-k"``: (c(h, w) + k) / (c(h) + k |V|) with a context h of
      ``order - 1`` tokens (k = 1 is Laplace's add-one; an unseen context gives the
      uniform distribution);
    - ``smoothing="kneser-ney"``: interpolated Kneser-Ney (Kneser and Ney, 1995; Chen
      and Goodman, 1998) with one absolute discount ``discount`` in (0, 1): the
      highest order uses counts, the lower orders *continuation* counts (in how many
      different contexts a string occurs), each order gives the mass it discounted to
      the next shorter context, and the unigram level to the uniform distribution.

    ``num_symbols`` is |V|, the number of symbols a prediction spreads over (ids must be
    smaller than ``base``, default ``max(ids) + 1``).
    """

    def __init__(self, train_ids, max_order: int, num_symbols: int, base: int | None = None):
        ids = _ids(train_ids, "CharNGram")
        self.max_order = _int(max_order, "max_order")
        self.num_symbols = _int(num_symbols, "num_symbols", minimum=2)
        self.base = int(ids.max()) + 1 if base is None else _int(base, "base", minimum=int(ids.max()) + 1)
        if float(self.base) ** self.max_order >= 2.0 ** 62:
            raise ValueError(f"CharNGram: max_order {self.max_order} is too high for base {self.base}")
        if len(ids) <= self.max_order:
            raise ValueError(f"CharNGram: {len(ids)} tokens are too few for order {self.max_order}")
        self._ids = np.asarray(ids, dtype=np.int64)
        B = self.base
        self.grams, self.cont, self._stats = {}, {}, {}
        for m in range(1, self.max_order + 1):  # raw counts of every m-gram
            codes = _codes(self._ids, np.arange(len(ids) - m + 1), m, B)
            self.grams[m] = np.unique(codes, return_counts=True)
        for m in range(1, self.max_order):  # continuation counts: distinct tokens before each m-gram
            longer = self.grams[m + 1][0]
            self.cont[m] = np.unique(longer % B ** m, return_counts=True)

    def _context_stats(self, keys, m, table):
        """For context codes ``keys`` of m - 1 tokens: total count and number of distinct followers."""
        key = (m, table is self.grams[m])
        if key not in self._stats:  # computed once per table, then reused by every call
            g, c = table
            ctx = g // self.base
            starts = np.flatnonzero(np.r_[True, ctx[1:] != ctx[:-1]])
            self._stats[key] = (ctx[starts], np.add.reduceat(c, starts), np.diff(np.r_[starts, len(ctx)]))
        uctx, totals, types = self._stats[key]
        return _count(keys, uctx, totals), _count(keys, uctx, types)

    def logprobs(self, ids, positions, order: int, smoothing: str = "kneser-ney", k: float = 1.0,
                 discount: float = 0.75) -> np.ndarray:
        """ln p(ids[p] | the ``order - 1`` tokens before p) for each p in ``positions`` (float64 array)."""
        ids = np.asarray(_ids(ids, "CharNGram.logprobs"), dtype=np.int64)
        p = _ids(positions, "CharNGram.logprobs (positions)")
        order = _int(order, "order")
        if order > self.max_order:
            raise ValueError(f"CharNGram: order {order} > max_order {self.max_order}")
        if len(p) and (p.min() < order - 1 or p.max() >= len(ids)):
            raise ValueError(f"CharNGram: positions must lie in {order - 1}..{len(ids) - 1}")
        if len(ids) and (ids.min() < 0 or ids.max() >= self.base):
            raise ValueError(f"CharNGram: ids must lie in 0..{self.base - 1}")
        V, B = self.num_symbols, self.base
        if smoothing == "add-k":
            k = _real(k, "k")
            if k <= 0:
                raise ValueError(f"add-k smoothing needs k > 0, got {k}")
            gram = _codes(ids, p - order + 1, order, B)
            count = _count(gram, *self.grams[order]).astype(float)
            total, _ = self._context_stats(gram // B, order, self.grams[order])
            return np.log((count + k) / (total + k * V))
        if smoothing != "kneser-ney":
            raise ValueError(f"smoothing must be 'add-k' or 'kneser-ney', got {smoothing!r}")
        D = _real(discount, "discount")
        if not 0.0 < D < 1.0:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        prob = np.full(len(p), 1.0 / V)
        for m in range(1, order + 1):  # from the unigram level up to the full order
            table = self.grams[m] if m == order else self.cont[m]
            gram = _codes(ids, p - m + 1, m, B)
            count = _count(gram, *table).astype(float)
            total, types = self._context_stats(gram // B, m, table)
            seen = total > 0
            safe = np.where(seen, total, 1.0)
            mixed = (np.maximum(count - D, 0.0) + D * types * prob) / safe
            prob = np.where(seen, mixed, prob)
        return np.log(prob)

    def context_counts(self, ids, positions, order: int) -> np.ndarray:
        """How often the ``order - 1`` tokens before each position occur in the training stream."""
        ids = np.asarray(_ids(ids, "CharNGram.context_counts"), dtype=np.int64)
        p = _ids(positions, "CharNGram.context_counts (positions)")
        order = _int(order, "order")
        if order > self.max_order:
            raise ValueError(f"CharNGram: order {order} > max_order {self.max_order}")
        if order == 1:
            return np.full(len(p), len(self._ids), dtype=np.int64)
        return _count(_codes(ids, p - order + 1, order - 1, self.base), *self.grams[order - 1])
