"""Text classification helpers for section 6.2: character n-grams, batching, TextCNN, metrics.

    from utils import text, textclf
    vocab = text.Vocab.build([text.char_tokens(s) for s in train_texts], min_freq=2)
    ids, lengths = textclf.encode_texts(train_texts, vocab, max_len=120)
    loader = textclf.LengthBucketLoader(ids, lengths, y, batch_size=64, shuffle=True, seed=0)
    net = textclf.TextCNN(len(vocab), embed_dim=32, num_filters=64)   # logits (batch, 2)
    textclf.binary_metrics(y_true, y_pred)   # accuracy, precision, recall, F1 of class 1

Everything here works on characters, the natural unit for Chinese text (no spaces,
no word segmenter needed). Padding id 0 is ``utils.text.Vocab.pad_id``.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils import text as _text

# --- features ------------------------------------------------------------------------


def char_ngrams(s: str, n: int = 2) -> list[str]:
    """The overlapping character n-grams of ``s``, in order: ``char_ngrams("不错啊", 2) == ["不错", "错啊"]``.

    A string shorter than ``n`` has none (an empty list).
    """
    if not isinstance(s, str):
        raise TypeError(f"char_ngrams expects a string, got {type(s).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return [s[i:i + n] for i in range(len(s) - n + 1)]


def bag_of_ngrams(s: str, ns: Sequence[int] = (1, 2)) -> Counter:
    """Counts of every character n-gram of ``s`` for each n in ``ns`` (a bag: order is lost)."""
    if isinstance(ns, (int, np.integer)):
        raise TypeError("ns must be a sequence of n-gram sizes, e.g. (1, 2)")
    if len(ns) == 0:
        raise ValueError("ns is empty: give at least one n-gram size, e.g. (1, 2)")
    bag = Counter()
    for n in ns:
        bag.update(char_ngrams(s, n))
    return bag


def leak_count(train_texts, test_texts) -> int:
    """How many entries of ``test_texts`` (counted with repetition) also occur in ``train_texts``.

    Texts are compared exactly, character for character. A test text that appears three
    times and is in the training set counts three times: each copy is a leaked example.
    """
    for name, texts in (("train_texts", train_texts), ("test_texts", test_texts)):
        if isinstance(texts, str):
            raise TypeError(f"{name} must be a list of texts, not one string")
    seen = set(train_texts)
    return int(sum(t in seen for t in test_texts))


# --- ids and batches -----------------------------------------------------------------



def near_duplicate_overlap(train_texts, test_texts, n: int = 4, contained: bool = False
                           ) -> tuple[np.ndarray, np.ndarray]:
    """For each test text, its highest n-gram overlap with any ONE training text.

    The overlap of two texts is the number of distinct character n-grams they share,
    divided by the larger of their two numbers of distinct n-grams: 1 for identical texts,
    and at least 0.8 only when each text shares at least 80% of its n-grams with the
    other (a short text merely contained in a long one does not count). With
    ``contained=True`` the divisor is the test text's own number of n-grams: the share of
    the test text found in one training text, so a short text inside a long one counts. Returns
    ``(overlap, nearest)``: ``overlap[j]`` in [0, 1] and the index of that training text
    (-1 where the test text has no n-gram, i.e. is shorter than ``n``, overlap 0). A test
    text with ``overlap >= 0.8`` is a near-duplicate of a training text: a repost with a
    word changed, a template with a different hotel name. Uses a sparse product of
    the binary text-by-n-gram matrices, so it is fast for tens of thousands of texts.
    """
    import scipy.sparse as sp

    for name, texts in (("train_texts", train_texts), ("test_texts", test_texts)):
        if isinstance(texts, str):
            raise TypeError(f"near_duplicate_overlap: {name} must be a list of texts, not one string")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"near_duplicate_overlap: n must be a positive integer, got {n!r}")
    index: dict[str, int] = {}

    def matrix(texts, grow: bool):
        rows, cols = [], []
        for r, s in enumerate(texts):
            for g in set(char_ngrams(s, n)):
                c = index.setdefault(g, len(index)) if grow else index.get(g, -1)
                if c >= 0 or not grow:
                    rows.append(r)
                    cols.append(c)
        return rows, cols

    tr_rows, tr_cols = matrix(train_texts, True)
    te_rows, te_cols = matrix(test_texts, False)
    sizes = np.bincount(te_rows, minlength=len(test_texts)).astype(float)  # distinct n-grams per test text
    keep = [k for k, c in enumerate(te_cols) if c >= 0]  # n-grams that no training text has share nothing
    A = sp.csr_matrix((np.ones(len(tr_rows)), (tr_rows, tr_cols)), shape=(len(train_texts), len(index)))
    B = sp.csr_matrix((np.ones(len(keep)), ([te_rows[k] for k in keep], [te_cols[k] for k in keep])),
                      shape=(len(test_texts), len(index)))
    train_sizes = np.bincount(tr_rows, minlength=len(train_texts)).astype(float)
    shared = (B @ A.T).tocsr()  # shared[j, i] = distinct n-grams that test text j and training text i share
    overlap, nearest = np.zeros(len(test_texts)), np.full(len(test_texts), -1)
    for j in range(len(test_texts)):
        start, end = shared.indptr[j], shared.indptr[j + 1]
        if sizes[j] > 0 and end > start:
            cols = shared.indices[start:end]
            ratio = shared.data[start:end] / (sizes[j] if contained else np.maximum(sizes[j], train_sizes[cols]))
            best = int(np.argmax(ratio))
            overlap[j], nearest[j] = ratio[best], cols[best]
    return overlap, nearest


def encode_texts(texts, vocab: _text.Vocab, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Character ids of each text, cut to ``max_len`` and padded with ``vocab.pad_id``.

    Returns an int64 array ``(len(texts), max_len)`` and the lengths after cutting.
    Characters not in the vocabulary become ``vocab.unk_id``; an empty text becomes a
    single ``<unk>`` so that every row has at least one real position.
    """
    if isinstance(texts, str):
        raise TypeError("encode_texts expects a list of texts, not one string")
    if not isinstance(vocab, _text.Vocab):
        raise TypeError(f"vocab must be a utils.text.Vocab, got {type(vocab).__name__}")
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}")
    texts = list(texts)
    if not texts:
        raise ValueError("encode_texts needs at least one text")
    id_lists = [vocab.encode(_text.char_tokens(str(t))) or [vocab.unk_id] for t in texts]
    ids, lengths = _text.pad_batch(id_lists, pad_id=vocab.pad_id, max_len=int(max_len))
    if ids.shape[1] < max_len:  # every text shorter than max_len: pad to the full width
        ids = np.pad(ids, ((0, 0), (0, max_len - ids.shape[1])), constant_values=vocab.pad_id)
    return ids, lengths


class LengthBucketLoader:
    """Mini-batches ``(ids, y)`` of padded character ids, with as little padding as possible.

    Reviews range from a few to hundreds of characters. Batches of random texts would
    be padded to their longest member; here the (shuffled) examples are cut into pools of
    ``pool_batches`` batches, each pool is sorted by length and cut into batches, and the
    batches are shuffled. Each batch is trimmed to its longest text (at least
    ``min_width`` columns). Every example is used exactly once per epoch.
    """

    def __init__(self, ids, lengths, y, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
                 pool_batches: int = 20, min_width: int = 1):
        ids, lengths, y = np.asarray(ids), np.asarray(lengths), np.asarray(y)
        if ids.ndim != 2:
            raise ValueError(f"ids must be a 2-D array (examples, positions), got shape {ids.shape}")
        if not (len(ids) == len(lengths) == len(y)):
            raise ValueError(f"ids, lengths and y must have the same length, got {len(ids)}, "
                             f"{len(lengths)} and {len(y)}")
        if len(ids) == 0:
            raise ValueError("LengthBucketLoader needs at least one example")
        if batch_size < 1 or pool_batches < 1 or min_width < 1:
            raise ValueError("batch_size, pool_batches and min_width must be at least 1")
        if lengths.min() < 0 or lengths.max() > ids.shape[1]:
            raise ValueError(f"lengths must lie in [0, {ids.shape[1]}] (the width of ids)")
        self.ids, self.lengths, self.y = ids.astype(np.int64), lengths.astype(np.int64), y
        self.batch_size, self.shuffle, self.pool_batches, self.min_width = batch_size, shuffle, pool_batches, min_width
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.y) // self.batch_size)

    def batches(self) -> list[np.ndarray]:
        """The example indices of each batch of the next epoch."""
        n = len(self.y)
        order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        pool = self.batch_size * self.pool_batches
        order = np.concatenate([chunk[np.argsort(self.lengths[chunk], kind="stable")]
                                for chunk in (order[i:i + pool] for i in range(0, n, pool))])
        batches = [order[i:i + self.batch_size] for i in range(0, n, self.batch_size)]
        if self.shuffle:
            batches = [batches[k] for k in self.rng.permutation(len(batches))]
        return batches

    def __iter__(self):
        for index in self.batches():
            width = int(min(max(self.lengths[index].max(), self.min_width), self.ids.shape[1]))
            yield torch.from_numpy(self.ids[index, :width]), torch.as_tensor(self.y[index])


# --- pooling and the TextCNN ------------------------------------------------------------


def _check_pool_inputs(H, mask, who: str):
    if not isinstance(H, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError(f"{who} expects torch tensors H and mask")
    if H.ndim != 3:
        raise ValueError(f"{who}: H must have shape (batch, time, features), got {tuple(H.shape)}")
    if tuple(mask.shape) != tuple(H.shape[:2]):
        raise ValueError(f"{who}: mask must have shape (batch, time) = {tuple(H.shape[:2])}, "
                         f"got {tuple(mask.shape)}")
    mask = mask.bool()
    if not mask.any(dim=1).all():
        raise ValueError(f"{who}: every row needs at least one valid (True) position")
    return mask


def masked_mean(H: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``H`` (batch, time, features) over the positions where ``mask`` is True."""
    mask = _check_pool_inputs(H, mask, "masked_mean")
    m = mask.unsqueeze(-1).to(H.dtype)
    return (H * m).sum(dim=1) / m.sum(dim=1)


def masked_max(H: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Maximum of ``H`` (batch, time, features) over the positions where ``mask`` is True."""
    mask = _check_pool_inputs(H, mask, "masked_max")
    return H.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values


def window_mask(lengths: torch.Tensor, num_windows: int, width: int) -> torch.Tensor:
    """(batch, num_windows) True where a width-``width`` window starting there lies inside the text.

    Window t covers positions t .. t + width - 1, so it is valid when t <= length - width.
    A text shorter than ``width`` keeps its first window (real characters plus padding,
    whose embedding is zero), so that no row is left without a valid window.
    """
    t = torch.arange(num_windows, device=lengths.device)
    last = (lengths - width).clamp(min=0)
    return t.unsqueeze(0) <= last.unsqueeze(1)


class TextCNN(nn.Module):
    """Kim (2014): embed characters, run parallel 1-D convolutions, max-pool over time, classify.

    ``ids`` (batch, time) int64 -> logits (batch, num_classes). Windows that reach into the
    padding are masked out before the max, so the output does not depend on how much
    padding a batch has.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, num_filters: int = 64,
                 widths: Sequence[int] = (2, 3, 4), num_classes: int = 2, dropout: float = 0.5,
                 pad_id: int = 0, embed_init_std: float = 0.1):
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim),
                            ("num_filters", num_filters), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TextCNN: {name} must be a positive integer, got {value!r}")
        widths = tuple(widths)
        if not widths or any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"TextCNN: widths must be positive integers, got {widths}")
        if not 0 <= dropout < 1:
            raise ValueError(f"TextCNN: dropout must be in [0, 1), got {dropout}")
        self.vocab_size, self.pad_id, self.widths = vocab_size, pad_id, widths
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        with torch.no_grad():  # N(0, 1) is too large for Adam to move quickly: start small
            self.embedding.weight.normal_(0.0, embed_init_std)
            self.embedding.weight[pad_id] = 0.0
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, num_filters, w) for w in widths)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_filters * len(widths), num_classes)

    def _check_ids(self, ids):
        if not isinstance(ids, torch.Tensor) or ids.dtype not in (torch.int64, torch.int32):
            raise TypeError("TextCNN expects a tensor of integer character ids (torch.int64)")
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(f"TextCNN expects ids of shape (batch, time), got {tuple(ids.shape)}")
        if ids.numel() and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size - 1}] (the vocabulary), "
                             f"got values in [{ids.min().item()}, {ids.max().item()}]")

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The pooled features (batch, num_filters * len(widths)) before dropout and the classifier."""
        self._check_ids(ids)
        lengths = (ids != self.pad_id).sum(dim=1)
        if ids.shape[1] < max(self.widths):  # too short for the widest filter: pad
            ids = F.pad(ids, (0, max(self.widths) - ids.shape[1]), value=self.pad_id)
        E = self.embedding(ids).transpose(1, 2)  # (batch, embed_dim, time): Conv1d wants channels first
        pooled = []
        for width, conv in zip(self.widths, self.convs):
            h = F.relu(conv(E))  # (batch, num_filters, time - width + 1)
            valid = window_mask(lengths, h.shape[2], width)
            pooled.append(h.masked_fill(~valid.unsqueeze(1), float("-inf")).max(dim=2).values)
        return torch.cat(pooled, dim=1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.features(ids)))


@torch.no_grad()
def predict_proba(net: nn.Module, ids, lengths=None, batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities (examples, classes) of ``net`` for padded ``ids``, in eval mode.

    Rows come back in the order of ``ids`` (the batches are sorted by length inside).
    ``lengths`` defaults to the number of non-padding ids per row (padding id 0).
    """
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must be a 2-D array (examples, positions), got shape {ids.shape}")
    lengths = (ids != 0).sum(axis=1) if lengths is None else np.asarray(lengths)
    loader = LengthBucketLoader(ids, lengths, np.arange(len(ids)), batch_size=batch_size, shuffle=False)
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    out = None
    for X, index in loader:
        probs = net(X.to(device)).softmax(dim=1).cpu().numpy()
        if out is None:
            out = np.zeros((len(ids), probs.shape[1]))
        out[index.numpy()] = probs
    net.train(was_training)
    return out


# --- metrics and explanations ------------------------------------------------------------


def _labels(y, who: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{who} must be a non-empty 1-D array of labels, got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) and not np.issubdtype(y.dtype, np.bool_):
        raise TypeError(f"{who} must hold integer labels, got dtype {y.dtype}")
    return y.astype(np.int64)


def confusion_matrix(y_true, y_pred, num_classes: int = 2) -> np.ndarray:
    """C[i, j] = how many examples of true class i were predicted as class j."""
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    both = np.concatenate([y_true, y_pred])
    if both.min() < 0 or both.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes - 1}], got [{both.min()}, {both.max()}]")
    return np.bincount(num_classes * y_true + y_pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def binary_metrics(y_true, y_pred) -> dict[str, float]:
    """Accuracy, and precision, recall and F1 of the positive class 1.

    precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = their harmonic mean
    (0 where a denominator is 0, as scikit-learn does with ``zero_division=0``).
    """
    C = confusion_matrix(y_true, y_pred, num_classes=2)
    (tn, fp), (fn, tp) = C
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": (tp + tn) / C.sum(), "precision": float(precision), "recall": float(recall),
            "f1": float(f1)}



def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for two classifiers scored on the same test items.

    ``b``: items the first classifier gets right and the second wrong; ``c``: the reverse.
    Items both get right or both get wrong say nothing about which is better. If the two
    were equally good, each of the ``b + c`` disagreements would go either way with
    probability 1/2, so min(b, c) ~ Binomial(b + c, 1/2); the p-value doubles its lower
    tail (capped at 1). Summed in log space, so it also works for thousands of items.
    """
    for name, v in (("b", b), ("c", c)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(f"mcnemar_exact: {name} must be a non-negative integer, got {v!r}")
    m, k = int(b) + int(c), min(int(b), int(c))
    if m == 0:
        return 1.0
    from math import lgamma, log

    logs = [lgamma(m + 1) - lgamma(i + 1) - lgamma(m - i + 1) - m * log(2) for i in range(k + 1)]
    top = max(logs)
    tail = float(np.exp(top) * np.sum(np.exp(np.array(logs) - top)))
    return min(1.0, 2 * tail)


def occlusion(prob_positive: Callable[[list[str]], np.ndarray], s: str) -> tuple[float, np.ndarray]:
    """How much each character matters: P(text) minus P(text with that character deleted).

    ``prob_positive`` maps a list of texts to their probabilities of being positive.
    Returns P(positive | s) and one contribution per character of ``s`` (positive: the
    character pushed the prediction towards "positive").
    """
    if not isinstance(s, str):
        raise TypeError(f"occlusion expects a string, got {type(s).__name__}")
    if len(s) == 0:
        raise ValueError("occlusion needs a non-empty text")
    variants = [s] + [s[:i] + s[i + 1:] for i in range(len(s))]
    probs = np.asarray(prob_positive(variants), dtype=np.float64)
    if probs.shape != (len(variants),):
        raise ValueError(f"prob_positive must return one probability per text: {len(variants)} texts in, "
                         f"shape {probs.shape} out")
    return float(probs[0]), probs[0] - probs[1:]
