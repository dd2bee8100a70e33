"""Sequence to sequence with attention (chapter 6.3): a date corpus, a GRU encoder-decoder,
greedy and beam-search decoding, BLEU and exact match.

The task is synthetic on purpose: no parallel corpus ships offline with the course, so we
translate dates written in many English formats into the Chinese date format::

    from utils import seq2seq
    seq2seq.FORMATS["us_long"](datetime.date(1998, 3, 7))        # 'March 7, 1998'
    seq2seq.chinese_date(datetime.date(1998, 3, 7), weekday=True)  # '1998年3月7日星期六'
    corpus = seq2seq.date_corpus(num_train=20_000, seed=0)         # split by date, not by string

The model (:class:`Seq2Seq`) is a bidirectional GRU encoder and a GRU decoder. With
``attention=None`` the decoder sees the source only through one vector (the encoder's final
states); with ``"additive"`` (Bahdanau) or ``"dot"`` (scaled dot product, Luong) it reads a
weighted average of all encoder states at every output step (Luong's arrangement: the GRU
step first, then attention on its new state). Padding is masked everywhere: the encoder
runs on packed sequences, attention gives padded positions weight 0, and
:func:`sequence_loss` ignores padded targets. :class:`TransformerSeq2Seq` is a small
Transformer encoder-decoder (``torch.nn`` layers, a causal decoder mask, sinusoidal
positions) with the same interface, so training, greedy decoding and beam search work
unchanged for all three models.

Metrics: :func:`corpus_bleu` (Papineni et al. 2002: clipped n-gram precisions up to 4-grams,
geometric mean, brevity penalty; 0-100 scale) and :func:`exact_match`.
"""
from __future__ import annotations

import datetime as _dt
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from utils import text

__all__ = [
    "MONTHS", "WEEKDAYS", "WEEKDAYS_ZH", "FIRST_DATE", "LAST_DATE", "FORMATS", "TRAIN_FORMATS",
    "HELD_OUT_FORMATS", "WEEKDAY_FORMATS", "ordinal", "chinese_date", "format_date", "Example",
    "DateCorpus", "all_dates", "date_corpus", "make_examples", "build_vocabs", "encode_examples",
    "make_batch", "Attention", "Seq2Seq", "TransformerSeq2Seq", "sequence_loss", "TrainHistory", "train", "greedy_decode",
    "beam_search", "translate", "sequence_log_prob", "ngrams", "modified_precision",
    "brevity_penalty", "BleuResult", "bleu", "corpus_bleu", "exact_match",
]

# --- the date corpus ---------------------------------------------------------------------

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
#: English weekday names in the order of ``date.weekday()`` (Monday = 0).
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAYS_ZH = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
#: The corpus covers 100 years, so that a two-digit year is unambiguous: 50-99 -> 19xx, 00-49 -> 20xx.
FIRST_DATE, LAST_DATE = _dt.date(1950, 1, 1), _dt.date(2049, 12, 31)


def _check_date(d, who: str) -> _dt.date:
    if isinstance(d, _dt.datetime):
        d = d.date()
    if not isinstance(d, _dt.date):
        raise TypeError(f"{who}: expected a datetime.date, got {type(d).__name__} ({d!r})")
    return d


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 22 -> '22nd' (English day ordinals)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"ordinal: expected an integer, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"ordinal: expected a positive integer, got {n}")
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def chinese_date(d: _dt.date, weekday: bool = False) -> str:
    """The target format: '1998年3月7日', plus '星期六' when ``weekday`` (computed, never guessed)."""
    d = _check_date(d, "chinese_date")
    out = f"{d.year}年{d.month}月{d.day}日"
    return out + WEEKDAYS_ZH[d.weekday()] if weekday else out


def _two_digit_year(d: _dt.date) -> str:
    if not FIRST_DATE <= d <= LAST_DATE:
        raise ValueError(f"a two-digit year is ambiguous outside {FIRST_DATE.year}-{LAST_DATE.year}, got {d}")
    return f"{d.year % 100:02d}"


#: Source formats: name -> function(date) -> English string. Examples for 1998-03-07 (a Saturday).
FORMATS: dict[str, Callable[[_dt.date], str]] = {
    "iso": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",                          # 1998-03-07
    "us_numeric": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}",                   # 03/07/1998
    "dotted": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year:04d}",                       # 07.03.1998
    "compact": lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",                        # 19980307
    "us_long": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",                     # March 7, 1998
    "eu_long": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",                      # 7 March 1998
    "short": lambda d: f"{d.day} {MONTHS[d.month - 1][:3]} {_two_digit_year(d)}",        # 7 Mar 98
    "us_ordinal": lambda d: f"{MONTHS[d.month - 1]} {ordinal(d.day)}, {d.year}",         # March 7th, 1998
    "oracle": lambda d: f"{d.day:02d}-{MONTHS[d.month - 1][:3].upper()}-{d.year}",       # 07-MAR-1998
    "weekday_long": lambda d: (f"{WEEKDAYS[d.weekday()]}, the {ordinal(d.day)} of "
                               f"{MONTHS[d.month - 1]} {d.year}"),           # Saturday, the 7th of March 1998
    "weekday_short": lambda d: (f"{WEEKDAYS[d.weekday()][:3]}, {MONTHS[d.month - 1][:3]} "
                                f"{d.day}, {d.year}"),                                   # Sat, Mar 7, 1998
    "weekday_eu": lambda d: f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1]} {d.year}",  # Saturday 7 March 1998
    # held out of training: a generalisation probe
    "eu_ordinal": lambda d: f"{ordinal(d.day)} {MONTHS[d.month - 1]} {d.year}",          # 7th March 1998
    "ymd_slash": lambda d: f"{d.year}/{d.month}/{d.day}",                                # 1998/3/7
}
#: Formats that name the weekday: their target ends with 星期X.
WEEKDAY_FORMATS = frozenset({"weekday_long", "weekday_short", "weekday_eu"})
HELD_OUT_FORMATS = ("eu_ordinal", "ymd_slash")
TRAIN_FORMATS = tuple(name for name in FORMATS if name not in HELD_OUT_FORMATS)


def format_date(d: _dt.date, fmt: str) -> tuple[str, str]:
    """The (English source, Chinese target) pair of date ``d`` written in format ``fmt``."""
    d = _check_date(d, "format_date")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return FORMATS[fmt](d), chinese_date(d, weekday=fmt in WEEKDAY_FORMATS)


@dataclass(frozen=True)
class Example:
    """One translation pair, with the date and the format it came from."""

    source: str
    target: str
    fmt: str
    date: _dt.date


def all_dates(first: _dt.date = FIRST_DATE, last: _dt.date = LAST_DATE) -> list[_dt.date]:
    """Every calendar day from ``first`` to ``last`` (both included)."""
    first, last = _check_date(first, "all_dates"), _check_date(last, "all_dates")
    if last < first:
        raise ValueError(f"all_dates: last ({last}) is before first ({first})")
    return [first + _dt.timedelta(days=i) for i in range((last - first).days + 1)]


def make_examples(dates: Sequence[_dt.date], formats: Sequence[str], rng: np.random.Generator,
                  per_date: int = 1) -> list[Example]:
    """For each date, ``per_date`` examples in distinct formats drawn at random from ``formats``."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"make_examples: rng must be a numpy Generator, got {type(rng).__name__}")
    formats = list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if not formats or unknown:
        raise ValueError(f"make_examples: formats must be a non-empty list of known formats, unknown: {unknown}")
    if not 1 <= per_date <= len(formats):
        raise ValueError(f"make_examples: per_date must be between 1 and {len(formats)}, got {per_date}")
    out = []
    for d in dates:
        for k in rng.choice(len(formats), size=per_date, replace=False):
            source, target = format_date(d, formats[k])
            out.append(Example(source, target, formats[k], _check_date(d, "make_examples")))
    return out


@dataclass
class DateCorpus:
    """Train / validation / test examples whose DATES are disjoint, plus a held-out-format probe."""

    train: list[Example]
    val: list[Example]
    test: list[Example]
    held_out: list[Example]  # test dates written in formats never used in training
    train_dates: list[_dt.date]
    val_dates: list[_dt.date]
    test_dates: list[_dt.date]


def date_corpus(num_train: int = 20_000, num_val_dates: int = 500, num_test_dates: int = 1_000,
                test_formats_per_date: int = 2, held_out_per_format: int = 300, seed: int = 0) -> DateCorpus:
    """Split the 36,525 days of 1950-2049 into train / validation / test DATES, then write them out.

    ``num_train`` training examples draw a training date and a training format at random
    (with replacement). Every validation and test date appears in
    ``test_formats_per_date`` different training formats (validation: once). The held-out
    probe writes ``held_out_per_format`` test dates in each of :data:`HELD_OUT_FORMATS`.
    No date of the validation or test set occurs in training, in any format.
    """
    for name, value in (("num_train", num_train), ("num_val_dates", num_val_dates),
                        ("num_test_dates", num_test_dates), ("held_out_per_format", held_out_per_format)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"date_corpus: {name} must be a positive integer, got {value!r}")
    rng = np.random.default_rng(seed)
    days = all_dates()
    if num_val_dates + num_test_dates >= len(days):
        raise ValueError(f"date_corpus: {num_val_dates} + {num_test_dates} held-out dates leave none to train on")
    order = rng.permutation(len(days))
    test_dates = sorted(days[i] for i in order[:num_test_dates])
    val_dates = sorted(days[i] for i in order[num_test_dates:num_test_dates + num_val_dates])
    train_dates = sorted(days[i] for i in order[num_test_dates + num_val_dates:])
    picks = rng.integers(0, len(train_dates), size=num_train)
    fmts = rng.integers(0, len(TRAIN_FORMATS), size=num_train)
    train = []
    for i, k in zip(picks, fmts):
        source, target = format_date(train_dates[i], TRAIN_FORMATS[k])
        train.append(Example(source, target, TRAIN_FORMATS[k], train_dates[i]))
    val = make_examples(val_dates, TRAIN_FORMATS, rng, per_date=1)
    test = make_examples(test_dates, TRAIN_FORMATS, rng, per_date=test_formats_per_date)
    probe_dates = [test_dates[i] for i in rng.choice(len(test_dates), size=min(held_out_per_format,
                                                                                 len(test_dates)), replace=False)]
    held_out = [Example(*format_date(d, f), f, d) for f in HELD_OUT_FORMATS for d in probe_dates]
    return DateCorpus(train, val, test, held_out, train_dates, val_dates, test_dates)


# --- tokens and batches --------------------------------------------------------------------

def build_vocabs(examples: Sequence[Example]) -> tuple[text.Vocab, text.Vocab]:
    """Character vocabularies of the sources and of the targets (``utils.text.Vocab``)."""
    if len(examples) == 0:
        raise ValueError("build_vocabs: no examples")
    src = text.Vocab.build([text.char_tokens(e.source) for e in examples])
    tgt = text.Vocab.build([text.char_tokens(e.target) for e in examples])
    return src, tgt


def encode_examples(examples: Sequence[Example], src_vocab: text.Vocab, tgt_vocab: text.Vocab
                    ) -> tuple[list[list[int]], list[list[int]]]:
    """Source ids (no specials) and target ids (ending with <eos>) of every example."""
    src = [src_vocab.encode(text.char_tokens(e.source)) for e in examples]
    tgt = [tgt_vocab.encode(text.char_tokens(e.target), add_eos=True) for e in examples]
    return src, tgt


def make_batch(src_ids: Sequence[Sequence[int]], tgt_ids: Sequence[Sequence[int]] | None = None,
               pad_id: int = 0, bos_id: int = 2):
    """Tensors for a batch: ``src`` (B, S), ``src_lengths`` (B,), and if targets are given the
    decoder input ``tgt_in`` = <bos> y₁ … y_T and the labels ``tgt_out`` = y₁ … y_T <eos>,
    both (B, T+1) and padded with ``pad_id`` (targets must already end with <eos>)."""
    if len(src_ids) == 0:
        raise ValueError("make_batch: the batch is empty")
    if any(len(s) == 0 for s in src_ids):
        raise ValueError("make_batch: a source sequence is empty")
    src, lengths = text.pad_batch(src_ids, pad_id=pad_id)
    out = [torch.from_numpy(src), torch.from_numpy(lengths)]
    if tgt_ids is not None:
        if len(tgt_ids) != len(src_ids):
            raise ValueError(f"make_batch: {len(src_ids)} sources but {len(tgt_ids)} targets")
        tgt_out, _ = text.pad_batch(tgt_ids, pad_id=pad_id)
        tgt_in, _ = text.pad_batch([[bos_id] + list(t[:-1]) for t in tgt_ids], pad_id=pad_id)
        out += [torch.from_numpy(tgt_in), torch.from_numpy(tgt_out)]
    return tuple(out)


# --- the model -----------------------------------------------------------------------------



class Attention(nn.Module):
    """Attention of decoder states (queries) over encoder states (keys = values).

    ``kind="additive"`` (Bahdanau et al. 2015): score(q, k) = vᵀ tanh(W_q q + W_k k).
    ``kind="dot"`` (Luong et al. 2015, scaled as in the Transformer): score(q, k) = q·k / √d.
    Weights are the softmax of the scores over the source positions where ``mask`` is True;
    the context is the weighted average of the values.
    """

    def __init__(self, dim: int, kind: str = "additive", attn_dim: int | None = None):
        super().__init__()
        if kind not in ("additive", "dot"):
            raise ValueError(f"Attention: kind must be 'additive' or 'dot', got {kind!r}")
        self.kind, self.dim = kind, dim
        if kind == "additive":
            attn_dim = attn_dim or dim
            self.W_q = nn.Linear(dim, attn_dim, bias=False)
            self.W_k = nn.Linear(dim, attn_dim)
            self.v = nn.Linear(attn_dim, 1, bias=False)

    def prepare(self, keys):
        """What the scores need from the keys, computed once per source sentence."""
        return self.W_k(keys) if self.kind == "additive" else keys

    def scores(self, query, prepared):
        """Raw scores (B, T, S) of queries (B, T, d) against prepared keys (B, S, ·)."""
        if self.kind == "additive":
            return self.v(torch.tanh(self.W_q(query)[:, :, None, :] + prepared[:, None, :, :])).squeeze(-1)
        return query @ prepared.transpose(1, 2) / math.sqrt(self.dim)

    def forward(self, query, keys, values, mask=None, prepared=None):
        """Context (B, T, d_v) and weights (B, T, S). ``mask``: (B, S) bool, True = a real token."""
        if query.dim() != 3 or keys.dim() != 3 or values.dim() != 3:
            raise ValueError(f"Attention: query, keys and values must be (batch, time, features), got "
                             f"{tuple(query.shape)}, {tuple(keys.shape)}, {tuple(values.shape)}")
        if query.shape[-1] != self.dim or keys.shape[-1] != self.dim:
            raise ValueError(f"Attention: query and keys need {self.dim} features, got "
                             f"{query.shape[-1]} and {keys.shape[-1]}")
        if keys.shape[:2] != values.shape[:2] or keys.shape[0] != query.shape[0]:
            raise ValueError(f"Attention: keys {tuple(keys.shape)} and values {tuple(values.shape)} must share "
                             f"batch and length, and the batch of query {tuple(query.shape)}")
        s = self.scores(query, self.prepare(keys) if prepared is None else prepared)
        if mask is not None:
            if mask.shape != keys.shape[:2]:
                raise ValueError(f"Attention: mask must be (batch, source length) = {tuple(keys.shape[:2])}, "
                                 f"got {tuple(mask.shape)}")
            if not bool(mask.any(dim=1).all()):
                raise ValueError("Attention: a sequence has no unmasked position (all padding)")
            s = s.masked_fill(~mask[:, None, :], float("-inf"))
        weights = torch.softmax(s, dim=-1)
        return weights @ values, weights


@dataclass
class Encoded:
    """What the decoder needs from the encoder (batch first, except ``hidden``)."""

    memory: "torch.Tensor"    # (B, S, H) encoder states projected to the decoder's size: keys and values
    prepared: "torch.Tensor"  # attention's precomputed keys
    summary: "torch.Tensor"   # (B, 2H) the final states of both directions: the single vector
    mask: "torch.Tensor"      # (B, S) True at real tokens
    hidden: "torch.Tensor"    # (1, B, H) the decoder's initial state

    def repeat(self, k: int) -> "Encoded":
        """Each example repeated k times in a row (for beam search)."""
        rep = lambda t, dim=0: t.repeat_interleave(k, dim=dim)  # noqa: E731
        return Encoded(rep(self.memory), rep(self.prepared), rep(self.summary), rep(self.mask),
                       rep(self.hidden, 1))


class Seq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU decoder, optional attention (see the module docstring).

    ``forward(src, src_lengths, tgt_in)`` is teacher forcing: it returns the logits
    (B, T, V) of every target position given the gold previous tokens, and the attention
    weights (B, T, S) (None without attention). ``step`` decodes one token at a time.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_dim: int = 32, hidden_dim: int = 64,
                 attention: str | None = "additive", pad_id: int = 0, attn_dim: int | None = None):
        super().__init__()
        for name, value in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size),
                            ("embed_dim", embed_dim), ("hidden_dim", hidden_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Seq2Seq: {name} must be a positive integer, got {value!r}")
        if attention not in (None, "additive", "dot"):
            raise ValueError(f"Seq2Seq: attention must be None, 'additive' or 'dot', got {attention!r}")
        self.pad_id, self.kind, self.hidden_dim = pad_id, attention, hidden_dim
        self.src_embed = nn.Embedding(src_vocab_size, embed_dim, padding_idx=pad_id)
        self.encoder = nn.GRU(embed_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden_dim, hidden_dim)       # summary -> decoder's first state
        self.tgt_embed = nn.Embedding(tgt_vocab_size, embed_dim, padding_idx=pad_id)
        self.decoder = nn.GRU(embed_dim, hidden_dim, batch_first=True)
        self.memory_proj = nn.Linear(2 * hidden_dim, hidden_dim)  # encoder states -> keys/values
        self.attention = Attention(hidden_dim, attention, attn_dim) if attention else None
        self.combine = nn.Linear(2 * hidden_dim, hidden_dim)      # [decoder state; context] -> output
        self.out = nn.Linear(hidden_dim, tgt_vocab_size)

    def encode(self, src, src_lengths) -> Encoded:
        if src.dim() != 2:
            raise ValueError(f"Seq2Seq.encode: src must be (batch, length) token ids, got shape {tuple(src.shape)}")
        if src_lengths.shape != src.shape[:1]:
            raise ValueError(f"Seq2Seq.encode: src_lengths must be ({src.shape[0]},), got {tuple(src_lengths.shape)}")
        if int(src_lengths.min()) < 1 or int(src_lengths.max()) > src.shape[1]:
            raise ValueError(f"Seq2Seq.encode: lengths must be in 1..{src.shape[1]}, got "
                             f"{int(src_lengths.min())}..{int(src_lengths.max())}")
        packed = nn.utils.rnn.pack_padded_sequence(self.src_embed(src), src_lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        out, h_n = self.encoder(packed)  # packed: the backward direction starts at each sequence's last token
        states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        summary = torch.cat([h_n[0], h_n[1]], dim=-1)
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_lengths.to(src.device)[:, None]
        memory = self.memory_proj(states)
        prepared = self.attention.prepare(memory) if self.attention is not None else memory
        hidden = torch.tanh(self.bridge(summary))[None]
        return Encoded(memory, prepared, summary, mask, hidden)

    def readout(self, dec_states, enc: Encoded):
        """Logits (B, T, V) and attention weights from decoder states (B, T, H)."""
        if self.attention is not None:
            context, weights = self.attention(dec_states, enc.memory, enc.memory, enc.mask, prepared=enc.prepared)
        else:  # the same single vector at every step
            context = self.memory_proj(enc.summary)[:, None, :].expand_as(dec_states)
            weights = None
        return self.out(torch.tanh(self.combine(torch.cat([dec_states, context], dim=-1)))), weights

    def forward(self, src, src_lengths, tgt_in):
        enc = self.encode(src, src_lengths)
        if tgt_in.dim() != 2 or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"Seq2Seq: tgt_in must be ({src.shape[0]}, length), got {tuple(tgt_in.shape)}")
        dec_states, _ = self.decoder(self.tgt_embed(tgt_in), enc.hidden)
        return self.readout(dec_states, enc)

    def step(self, tokens, hidden, enc: Encoded):
        """One decoding step: previous tokens (B,) and state (1, B, H) -> logits (B, V), state, weights (B, S)."""
        dec_state, hidden = self.decoder(self.tgt_embed(tokens)[:, None, :], hidden)
        logits, weights = self.readout(dec_state, enc)
        return logits[:, 0], hidden, (weights[:, 0] if weights is not None else None)


class TransformerSeq2Seq(nn.Module):
    """A small Transformer encoder-decoder (Vaswani et al. 2017) with :class:`Seq2Seq`'s interface.

    Token embeddings scaled by sqrt(d_model) plus the sinusoidal positional encodings of
    :func:`utils.attention.sinusoidal_positional_encoding`; ``torch.nn`` encoder and decoder
    layers (pre-norm, no dropout). The encoder ignores padded source positions
    (key-padding mask), the decoder's self-attention is causal (position t sees targets
    0..t only), and its cross-attention ignores padded source positions too.

    ``forward(src, src_lengths, tgt_in)`` is teacher forcing and returns (logits, None).
    ``step(tokens, prefix, enc)`` decodes one token: the "hidden state" is the prefix of
    tokens fed so far, shaped (steps, B) so that beam search can reorder it like a GRU state;
    every step re-runs the decoder on the whole prefix (no key/value cache: targets are short).
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int = 64, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2, dim_feedforward: int = 128,
                 pad_id: int = 0, max_len: int = 128):
        super().__init__()
        for name, value in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size),
                            ("d_model", d_model), ("nhead", nhead), ("max_len", max_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TransformerSeq2Seq: {name} must be a positive integer, got {value!r}")
        if d_model % nhead:
            raise ValueError(f"TransformerSeq2Seq: d_model ({d_model}) must be divisible by nhead ({nhead})")
        from utils.attention import sinusoidal_positional_encoding

        self.pad_id, self.kind, self.d_model, self.max_len = pad_id, "transformer", d_model, max_len
        self.src_embed = nn.Embedding(src_vocab_size, d_model, padding_idx=pad_id)
        self.tgt_embed = nn.Embedding(tgt_vocab_size, d_model, padding_idx=pad_id)
        pe = torch.as_tensor(sinusoidal_positional_encoding(max_len, d_model), dtype=torch.float32)
        self.register_buffer("positions", pe, persistent=False)
        enc_layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True,
                                               norm_first=True)
        dec_layer = nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True,
                                               norm_first=True)
        self.encoder = nn.TransformerEncoder(enc_layer, num_encoder_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec_layer, num_decoder_layers, norm=nn.LayerNorm(d_model))
        self.out = nn.Linear(d_model, tgt_vocab_size)

    def _embed(self, table, ids):
        if ids.shape[1] > self.max_len:
            raise ValueError(f"TransformerSeq2Seq: sequences of at most {self.max_len} tokens, got {ids.shape[1]}")
        return table(ids) + self.positions[:ids.shape[1]]

    @staticmethod
    def causal_mask(T: int, device=None):
        """(T, T) boolean mask, True where attention is *forbidden* (the future): torch's convention."""
        return torch.ones(T, T, dtype=torch.bool, device=device).triu(1)

    def encode(self, src, src_lengths) -> Encoded:
        if src.dim() != 2:
            raise ValueError(f"TransformerSeq2Seq.encode: src must be (batch, length) token ids, "
                             f"got shape {tuple(src.shape)}")
        if src_lengths.shape != src.shape[:1]:
            raise ValueError(f"TransformerSeq2Seq.encode: src_lengths must be ({src.shape[0]},), "
                             f"got {tuple(src_lengths.shape)}")
        if int(src_lengths.min()) < 1 or int(src_lengths.max()) > src.shape[1]:
            raise ValueError(f"TransformerSeq2Seq.encode: lengths must be in 1..{src.shape[1]}, got "
                             f"{int(src_lengths.min())}..{int(src_lengths.max())}")
        mask = torch.arange(src.shape[1], device=src.device)[None, :] < src_lengths.to(src.device)[:, None]
        memory = self.encoder(self._embed(self.src_embed, src), src_key_padding_mask=~mask)
        prefix = torch.zeros(0, src.shape[0], dtype=torch.long, device=src.device)
        return Encoded(memory, memory, memory[:, 0], mask, prefix)

    def decode(self, tgt_in, enc: Encoded):
        """Logits (B, T, V) of every position of ``tgt_in`` (B, T), each seeing only its past."""
        T = tgt_in.shape[1]
        states = self.decoder(self._embed(self.tgt_embed, tgt_in), enc.memory,
                              tgt_mask=self.causal_mask(T, tgt_in.device), tgt_is_causal=True,
                              memory_key_padding_mask=~enc.mask)
        return self.out(states)

    def forward(self, src, src_lengths, tgt_in):
        enc = self.encode(src, src_lengths)
        if tgt_in.dim() != 2 or tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"TransformerSeq2Seq: tgt_in must be ({src.shape[0]}, length), got {tuple(tgt_in.shape)}")
        return self.decode(tgt_in, enc), None

    def step(self, tokens, prefix, enc: Encoded):
        """Previous tokens (B,) and the prefix so far (steps, B) -> logits (B, V), longer prefix, None."""
        prefix = torch.cat([prefix, tokens[None]], dim=0)
        return self.decode(prefix.T, enc)[:, -1], prefix, None


def sequence_loss(logits, tgt_out, pad_id: int = 0):
    """Mean cross-entropy over the real (non-pad) target tokens of a batch."""
    if logits.dim() != 3 or logits.shape[:2] != tgt_out.shape:
        raise ValueError(f"sequence_loss: logits (B, T, V) and targets (B, T) do not fit: "
                         f"{tuple(logits.shape)} vs {tuple(tgt_out.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=pad_id)


# --- training ------------------------------------------------------------------------------

@dataclass
class TrainHistory:
    """Loss per step, an evaluation every ``eval_every`` steps, and the time taken."""

    loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_values: list[float] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0


def train(model: Seq2Seq, src_ids, tgt_ids, *, num_steps: int, batch_size: int = 64, lr: float = 3e-3,
          clip: float = 1.0, seed: int = 0, eval_every: int | None = None, eval_fn: Callable | None = None,
          progress: bool = True) -> TrainHistory:
    """Teacher-forced training with Adam, gradient clipping and a cosine learning-rate decay.

    Batches are drawn by shuffling the examples every epoch (``seed`` fixes the order).
    ``eval_fn(model) -> float`` (e.g. validation exact match) runs every ``eval_every`` steps.
    """
    from tqdm.auto import tqdm

    if not isinstance(model, (Seq2Seq, TransformerSeq2Seq)):
        raise TypeError(f"train: model must be a Seq2Seq or TransformerSeq2Seq, got {type(model).__name__}")
    if len(src_ids) != len(tgt_ids) or len(src_ids) == 0:
        raise ValueError(f"train: need as many sources as targets (and at least one), got {len(src_ids)} and "
                         f"{len(tgt_ids)}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"train: num_steps must be a positive integer, got {num_steps!r}")
    device = next(model.parameters()).device
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / num_steps)))
    history = TrainHistory()
    order, pos = rng.permutation(len(src_ids)), 0
    wall, cpu = time.perf_counter(), time.process_time()
    bar = tqdm(range(1, num_steps + 1), desc="steps", disable=not progress, mininterval=1.0)
    for step in bar:
        if pos + batch_size > len(order):
            order, pos = rng.permutation(len(src_ids)), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        src, lengths, tgt_in, tgt_out = make_batch([src_ids[i] for i in idx], [tgt_ids[i] for i in idx])
        model.train()
        logits, _ = model(src.to(device), lengths, tgt_in.to(device))
        loss = sequence_loss(logits, tgt_out.to(device), model.pad_id)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"train: the loss became {loss.item()} at step {step}; lower the learning rate")
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        history.loss.append(loss.item())
        if eval_fn is not None and eval_every and (step % eval_every == 0 or step == num_steps):
            model.eval()
            history.eval_steps.append(step)
            history.eval_values.append(float(eval_fn(model)))
            bar.set_postfix(loss=f"{history.loss[-1]:.3f}", val=f"{history.eval_values[-1]:.3f}")
    model.eval()
    history.wall_seconds = time.perf_counter() - wall
    history.cpu_seconds = time.process_time() - cpu
    return history


# --- decoding ------------------------------------------------------------------------------

def _strip(ids, eos_id: int) -> list[int]:
    out = []
    for i in ids:
        if i == eos_id:
            break
        out.append(int(i))
    return out


@torch.no_grad()
def greedy_decode(model: Seq2Seq, src, src_lengths, max_len: int = 20, bos_id: int = 2, eos_id: int = 3):
    """Pick the most probable token at every step. Returns the token lists (without <eos>) and the
    attention weights (B, steps, S) (None without attention)."""
    model.eval()
    enc = model.encode(src, src_lengths)
    tokens = torch.full((src.shape[0],), bos_id, dtype=torch.long, device=src.device)
    hidden, out, attn = enc.hidden, [], []
    done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
    for _ in range(max_len):
        logits, hidden, weights = model.step(tokens, hidden, enc)
        tokens = logits.argmax(dim=-1)
        out.append(tokens)
        if weights is not None:
            attn.append(weights)
        done |= tokens == eos_id
        if bool(done.all()):
            break
    ids = torch.stack(out, dim=1).tolist()
    return [_strip(row, eos_id) for row in ids], (torch.stack(attn, dim=1) if attn else None)


@torch.no_grad()
def beam_search(model: Seq2Seq, src, src_lengths, beam_size: int = 4, max_len: int = 20, bos_id: int = 2,
                eos_id: int = 3, length_penalty: float = 0.0):
    """Keep the ``beam_size`` most probable prefixes at every step (all sentences of the batch at once).

    A finished hypothesis (one that produced <eos>) is kept with its score frozen. The winner
    maximises log P(y) / len(y)^length_penalty (len counts <eos>). Returns the token lists
    (without <eos>), their log-probabilities log P(y | x), and the winner's attention
    weights (B, steps, S) (None without attention).
    """
    if isinstance(beam_size, bool) or not isinstance(beam_size, int) or beam_size < 1:
        raise ValueError(f"beam_search: beam_size must be a positive integer, got {beam_size!r}")
    model.eval()
    B, k = src.shape[0], beam_size
    enc = model.encode(src, src_lengths).repeat(k)
    hidden = enc.hidden
    tokens = torch.full((B * k,), bos_id, dtype=torch.long, device=src.device)
    scores = torch.full((B, k), float("-inf"), device=src.device)
    scores[:, 0] = 0.0  # at the start all beams are the same empty prefix: keep one
    finished = torch.zeros(B, k, dtype=torch.bool, device=src.device)
    lengths = torch.zeros(B, k, device=src.device)
    seqs = torch.zeros(B, k, 0, dtype=torch.long, device=src.device)
    attn = None
    for _ in range(max_len):
        logits, hidden, weights = model.step(tokens, hidden, enc)
        logp = torch.log_softmax(logits, dim=-1).view(B, k, -1)
        V = logp.shape[-1]
        frozen = torch.full((V,), float("-inf"), device=src.device)
        frozen[eos_id] = 0.0  # a finished hypothesis can only repeat <eos>, at no cost
        logp = torch.where(finished[..., None], frozen, logp)
        top_scores, top = (scores[..., None] + logp).view(B, -1).topk(k, dim=-1)
        beam, token = top // V, top % V
        seqs = torch.cat([seqs.gather(1, beam[..., None].expand(-1, -1, seqs.shape[2])), token[..., None]], dim=2)
        was_finished = finished.gather(1, beam)
        lengths = lengths.gather(1, beam) + (~was_finished).float()
        finished = was_finished | (token == eos_id)
        flat = (beam + torch.arange(B, device=src.device)[:, None] * k).view(-1)
        hidden = hidden[:, flat]
        if weights is not None:
            weights = weights.view(B, k, -1)
            step_w = weights.gather(1, beam[..., None].expand(-1, -1, weights.shape[2]))
            prev = attn.gather(1, beam[..., None, None].expand(-1, -1, *attn.shape[2:])) if attn is not None else None
            attn = step_w[:, :, None] if prev is None else torch.cat([prev, step_w[:, :, None]], dim=2)
        scores, tokens = top_scores, token.view(-1)
        if bool(finished.all()):
            break
    normalised = scores / lengths.clamp(min=1) ** length_penalty if length_penalty else scores
    best = normalised.argmax(dim=1)
    rows = torch.arange(B, device=src.device)
    out = [_strip(row, eos_id) for row in seqs[rows, best].tolist()]
    return out, scores[rows, best], (attn[rows, best] if attn is not None else None)


@torch.no_grad()
def sequence_log_prob(model: Seq2Seq, src, src_lengths, tgt_ids: Sequence[Sequence[int]],
                      bos_id: int = 2, eos_id: int = 3):
    """log P(y | x) of given outputs (token lists without <eos>; <eos> is appended), by teacher forcing."""
    model.eval()
    targets = [list(t) + [eos_id] for t in tgt_ids]
    _, _, tgt_in, tgt_out = make_batch([[0]] * len(targets), targets, pad_id=model.pad_id, bos_id=bos_id)
    logits, _ = model(src, src_lengths, tgt_in.to(src.device))
    logp = torch.log_softmax(logits, dim=-1).gather(2, tgt_out.to(src.device)[..., None])[..., 0]
    return (logp * (tgt_out.to(src.device) != model.pad_id)).sum(dim=1)


def translate(model: Seq2Seq, sources: Sequence[str], src_vocab: text.Vocab, tgt_vocab: text.Vocab,
              beam_size: int = 1, batch_size: int = 500, max_len: int = 20, length_penalty: float = 0.0
              ) -> list[str]:
    """Translate strings: greedy when ``beam_size == 1``, else beam search."""
    if isinstance(sources, str):
        raise TypeError("translate: sources must be a list of strings; wrap a single one as [source]")
    if len(sources) == 0:
        return []
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(sources), batch_size):
        chunk = sources[start:start + batch_size]
        src, lengths = make_batch([src_vocab.encode(text.char_tokens(s)) for s in chunk])
        if beam_size == 1:
            ids, _ = greedy_decode(model, src.to(device), lengths, max_len, tgt_vocab.bos_id, tgt_vocab.eos_id)
        else:
            ids, _, _ = beam_search(model, src.to(device), lengths, beam_size, max_len, tgt_vocab.bos_id,
                                    tgt_vocab.eos_id, length_penalty)
        out += ["".join(tgt_vocab.decode(row)) for row in ids]
    return out


# --- metrics -------------------------------------------------------------------------------

def _tokens(seq, who: str) -> list:
    if isinstance(seq, str):
        return list(seq)
    if not isinstance(seq, (list, tuple)):
        raise TypeError(f"{who}: a sentence must be a string (characters) or a list of tokens, "
                        f"got {type(seq).__name__}")
    return list(seq)


def _references(entry, who: str) -> list[list]:
    """One reference (a string or a token list) or several (a list of token lists / tuples)."""
    if isinstance(entry, (list, tuple)) and len(entry) > 0 and all(isinstance(r, (list, tuple)) for r in entry):
        return [_tokens(r, who) for r in entry]
    return [_tokens(entry, who)]


def ngrams(tokens, n: int) -> Counter:
    """Counts of the n-grams (tuples of n consecutive tokens) of a sentence."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"ngrams: n must be a positive integer, got {n!r}")
    tokens = _tokens(tokens, "ngrams")
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def modified_precision(candidate, references, n: int) -> tuple[int, int]:
    """(clipped matches, candidate n-grams): each candidate n-gram counts at most as often as it
    appears in the reference that has it most often (Papineni et al.'s "clipping")."""
    cand = ngrams(candidate, n)
    refs = [ngrams(r, n) for r in _references(references, "modified_precision")]
    clipped = sum(min(count, max(r[g] for r in refs)) for g, count in cand.items())
    return clipped, sum(cand.values())


def brevity_penalty(candidate_length: float, reference_length: float) -> float:
    """1 if the candidate is longer than the reference, else exp(1 − r / c) (0 for an empty candidate)."""
    c, r = candidate_length, reference_length
    if c < 0 or r < 0:
        raise ValueError(f"brevity_penalty: lengths must be non-negative, got c={c}, r={r}")
    if c > r:
        return 1.0
    return math.exp(1 - r / c) if c > 0 else 0.0


@dataclass(frozen=True)
class BleuResult:
    """BLEU on a 0-100 scale, with its parts: n-gram precisions, brevity penalty, lengths."""

    score: float
    precisions: tuple[float, ...]
    matches: tuple[int, ...]
    totals: tuple[int, ...]
    brevity_penalty: float
    candidate_length: int
    reference_length: int


def bleu(candidates: Sequence, references: Sequence, max_n: int = 4) -> BleuResult:
    """Corpus-level BLEU (Papineni et al. 2002), without smoothing.

    Clipped n-gram matches and candidate n-gram counts are summed over the whole corpus
    before dividing; BLEU = BP · exp(Σₙ log pₙ / N) for n = 1..N, times 100. The reference
    length of each sentence is the reference length closest to the candidate's (ties: the
    shorter). Each candidate is a string (one token per character) or a token list; each
    references entry is one such sentence or a list of token lists (several references).
    Any zero precision gives BLEU 0.
    """
    if isinstance(candidates, str) or isinstance(references, str):
        raise TypeError("bleu: candidates and references must be lists of sentences, not one string")
    if len(candidates) != len(references):
        raise ValueError(f"bleu: {len(candidates)} candidates but {len(references)} references")
    if len(candidates) == 0:
        raise ValueError("bleu: the corpus is empty")
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or max_n < 1:
        raise ValueError(f"bleu: max_n must be a positive integer, got {max_n!r}")
    matches, totals = [0] * max_n, [0] * max_n
    c_len = r_len = 0
    for cand, refs in zip(candidates, references):
        cand, refs = _tokens(cand, "bleu"), _references(refs, "bleu")
        for n in range(1, max_n + 1):
            m, t = modified_precision(cand, refs, n)
            matches[n - 1] += m
            totals[n - 1] += t
        c_len += len(cand)
        r_len += min((len(r) for r in refs), key=lambda length: (abs(length - len(cand)), length))
    precisions = tuple(m / t if t else 0.0 for m, t in zip(matches, totals))
    bp = brevity_penalty(c_len, r_len)
    score = 0.0 if min(precisions) == 0 else 100 * bp * math.exp(sum(math.log(p) for p in precisions) / max_n)
    return BleuResult(score, precisions, tuple(matches), tuple(totals), bp, c_len, r_len)


def corpus_bleu(candidates: Sequence, references: Sequence, max_n: int = 4) -> float:
    """Corpus-level BLEU on a 0-100 scale (see :func:`bleu` for the parts)."""
    return bleu(candidates, references, max_n).score


def exact_match(predictions: Sequence[str], targets: Sequence[str]) -> float:
    """Share of predictions that equal their target exactly."""
    if isinstance(predictions, str) or isinstance(targets, str):
        raise TypeError("exact_match: predictions and targets must be lists of strings")
    if len(predictions) != len(targets):
        raise ValueError(f"exact_match: {len(predictions)} predictions but {len(targets)} targets")
    if len(predictions) == 0:
        raise ValueError("exact_match: no predictions")
    return float(np.mean([p == t for p, t in zip(predictions, targets)]))
