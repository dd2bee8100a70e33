"""Word embeddings (chapter 6.1): word vectors from counts and from prediction.

Two roads to dense word vectors, and the tools to judge them honestly:

- count-based: :func:`cooccurrence` counts word-context pairs in a window,
  :func:`ppmi` turns counts into positive pointwise mutual information, and
  :func:`svd_embeddings` keeps the top singular directions (chapter 2.1);
- prediction-based: word2vec's skip-gram with negative sampling (SGNS, Mikolov et
  al. 2013) in PyTorch: :func:`subsample_keep_prob`, :func:`noise_distribution`,
  :func:`skipgram_pairs`, :func:`sample_negatives`, :func:`sgns_loss` and its
  closed-form gradient :func:`sgns_grad`, the model :class:`SkipGramNS` and the
  loop :func:`train_sgns`;
- evaluation: :func:`normalize_rows`, :func:`cosine_similarity`,
  :func:`nearest_neighbours`, :func:`analogy`, :func:`analogy_rank`, :func:`auc`
  and :func:`pair_similarity_test` (related pairs against frequency-matched
  random pairs).

Words are ids of a :class:`utils.text.Vocab` (ids 0-3 are its special tokens,
the others ordered by decreasing frequency)::

    from utils import data, embeddings, text
    seqs = [[w for w in text.word_tokens(doc) if w[0].isalpha()] for doc in corpus.documents.values()]
    vocab = text.Vocab.build(seqs, max_size=6004)
    ids = embeddings.encode_corpus(seqs, vocab)
    E = embeddings.svd_embeddings(embeddings.ppmi(embeddings.cooccurrence(ids, len(vocab), 3), 0.75), 64)
    embeddings.nearest_neighbours(E, vocab, "king")
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "encode_corpus", "cooccurrence", "ppmi", "svd_embeddings",
    "subsample_keep_prob", "noise_distribution", "skipgram_pairs", "sample_negatives",
    "sgns_loss", "sgns_grad", "SkipGramNS", "train_sgns",
    "normalize_rows", "cosine_similarity", "nearest_neighbours", "analogy", "analogy_rank",
    "auc", "frequency_matched_controls", "pair_similarity_test", "PairTest",
]

NUM_SPECIALS = 4  # <pad>, <unk>, <bos>, <eos> in utils.text.Vocab


# --- input checks ----------------------------------------------------------------

def _check_int(value, who: str, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an integer, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{who}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _check_positive(value, who: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{who}: {name} must be a positive number, got {value!r}")
    return float(value)


def _check_counts(counts, who: str) -> np.ndarray:
    try:
        c = np.asarray(counts, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{who}: counts must be an array of numbers, got {type(counts).__name__}") from err
    if c.ndim != 1 or c.size == 0:
        raise ValueError(f"{who}: counts must be a non-empty 1-D array (one count per word), got shape {c.shape}")
    if not np.all(np.isfinite(c)) or np.any(c < 0):
        raise ValueError(f"{who}: counts must be finite and non-negative")
    if c.sum() <= 0:
        raise ValueError(f"{who}: counts are all zero")
    return c


def _check_id_sequences(id_sequences, who: str, vocab_size: int | None = None) -> list[np.ndarray]:
    if isinstance(id_sequences, (str, bytes)) or isinstance(id_sequences, np.ndarray) and id_sequences.ndim == 1:
        raise TypeError(f"{who}: expected a list of id sequences (one per document), e.g. "
                        "encode_corpus(sequences, vocab); got a single sequence")
    out = []
    for seq in id_sequences:
        if np.ndim(seq) != 1:
            raise TypeError(f"{who}: expected a list of id sequences (one per document), each a 1-D list "
                            f"of ids; got an element of type {type(seq).__name__}")
        arr = np.asarray(seq)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{who}: sequences must hold integer word ids, got dtype {arr.dtype} "
                            "(encode the tokens with a Vocab first)")
        arr = arr.astype(np.int64).ravel()
        if arr.size and (arr.min() < 0 or (vocab_size is not None and arr.max() >= vocab_size)):
            raise ValueError(f"{who}: word ids must lie in [0, {vocab_size}), got ids from {arr.min()} "
                             f"to {arr.max()}")
        out.append(arr)
    if not out or sum(len(a) for a in out) == 0:
        raise ValueError(f"{who}: the corpus is empty (no ids in any sequence)")
    return out


def _word_id(vocab, word: str, who: str) -> int:
    if not isinstance(word, str):
        raise TypeError(f"{who}: words must be strings, got {type(word).__name__}")
    if word not in vocab.stoi or vocab.stoi[word] < NUM_SPECIALS:
        raise ValueError(f"{who}: {word!r} is not in the vocabulary ({len(vocab.itos) - NUM_SPECIALS:,} "
                         "words); rare words were left out, try a more frequent one")
    return vocab.stoi[word]


def _check_embeddings(E, vocab, who: str):
    """A dense float64 array or a scipy sparse matrix (CSR), one row per token id."""
    if sp.issparse(E):
        E = sp.csr_matrix(E, dtype=np.float64)
        values = E.data
    else:
        E = np.asarray(E, dtype=np.float64)
        values = E
    if E.ndim != 2:
        raise ValueError(f"{who}: the embeddings must be a 2-D array (one row per word), got shape {E.shape}")
    if vocab is not None and E.shape[0] != len(vocab.itos):
        raise ValueError(f"{who}: the embeddings have {E.shape[0]} rows but the vocabulary has "
                         f"{len(vocab.itos)} tokens: one row per token id is needed")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{who}: the embeddings contain NaN or infinity (did training diverge?)")
    return E


def _dense_row(E, i: int) -> np.ndarray:
    return E[i].toarray().ravel() if sp.issparse(E) else E[i]


def _similarities(En, target) -> np.ndarray:
    """Dot products of every row of ``En`` (dense or sparse) with the vector or row ``target``."""
    if sp.issparse(En):
        target = target.T if sp.issparse(target) else np.asarray(target).ravel()
        out = En @ target
        return np.asarray(out.toarray() if sp.issparse(out) else out, dtype=np.float64).ravel()
    return En @ np.asarray(target).ravel()


# --- count-based embeddings ------------------------------------------------------

def encode_corpus(sequences: Sequence[Sequence[str]], vocab) -> list[np.ndarray]:
    """Each token list as an int64 array of vocabulary ids, out-of-vocabulary words dropped.

    Dropping rare words (rather than keeping an ``<unk>`` placeholder) is what
    word2vec does: the window then reaches over the gap to the next known word.
    """
    if isinstance(sequences, str):
        raise TypeError("encode_corpus: sequences must be a list of token lists, e.g. [word_tokens(doc), ...]")
    out = []
    for seq in sequences:
        if isinstance(seq, str):
            raise TypeError("encode_corpus: each sequence must be a list of tokens, not a string: tokenise first")
        ids = np.asarray(vocab.encode(list(seq)), dtype=np.int64)
        out.append(ids[ids >= NUM_SPECIALS])
    if not out:
        raise ValueError("encode_corpus: no sequences given")
    return out


def cooccurrence(id_sequences, vocab_size: int, window: int = 2):
    """Word-context counts ``C[w, c]``: how often ``c`` is within ``window`` positions of ``w``.

    Both sides count (the matrix is symmetric), every distance 1..window counts
    once, and windows never cross from one sequence (document) to the next.
    Returns a ``scipy.sparse.csr_matrix`` of shape (vocab_size, vocab_size), float64.
    """
    who = "cooccurrence"
    vocab_size = _check_int(vocab_size, who, "vocab_size")
    window = _check_int(window, who, "window")
    seqs = _check_id_sequences(id_sequences, who, vocab_size)
    rows, cols = [], []
    for x in seqs:
        for d in range(1, min(window, len(x) - 1) + 1):
            rows += [x[:-d], x[d:]]  # (word, context d to the right) and (word, context d to the left)
            cols += [x[d:], x[:-d]]
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    # coo -> csr sums duplicate (row, col) entries: that is the counting
    return sp.coo_matrix((np.ones(len(r)), (r, c)), shape=(vocab_size, vocab_size)).tocsr()


def ppmi(C, alpha: float = 1.0):
    """Positive pointwise mutual information of a count matrix (rows: words, columns: contexts).

    ``PPMI[w, c] = max(0, log(P(w, c) / (P(w) P_alpha(c))))`` with ``P(w, c) = C[w, c] / sum(C)``,
    ``P(w)`` the row sums over the total and ``P_alpha(c) = n_c**alpha / sum(n**alpha)``
    the column sums raised to ``alpha`` (``alpha=0.75``, "context distribution smoothing"
    of Levy et al. 2015, lowers the PMI of rare contexts). Zero counts give 0 (log 0 = -inf
    clipped to 0). Accepts a dense array (returns one) or a scipy sparse matrix (returns CSR).
    """
    who = "ppmi"
    alpha = _check_positive(alpha, who, "alpha")
    sparse = sp.issparse(C)
    M = sp.coo_matrix(C, dtype=np.float64) if sparse else np.asarray(C, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{who}: C must be a non-empty 2-D count matrix, got shape {M.shape}")
    values = M.data if sparse else M
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError(f"{who}: counts must be finite and non-negative")
    total = values.sum()
    if total <= 0:
        raise ValueError(f"{who}: the count matrix is all zeros")
    row = np.asarray(M.sum(axis=1)).ravel() / total
    col = np.asarray(M.sum(axis=0)).ravel() ** alpha
    col = col / col.sum()
    if sparse:
        keep = M.data > 0
        r, c, v = M.row[keep], M.col[keep], M.data[keep]
        pmi = np.log(v / total) - np.log(row[r]) - np.log(col[c])
        pos = pmi > 0
        return sp.csr_matrix((pmi[pos], (r[pos], c[pos])), shape=M.shape)
    out = np.zeros_like(M)
    nz = M > 0
    r, c = np.nonzero(nz)
    out[nz] = np.log(M[nz] / total) - np.log(row[r]) - np.log(col[c])
    return np.maximum(out, 0.0)


def svd_embeddings(M, dim: int, power: float = 0.5, seed: int = 0) -> np.ndarray:
    """Dense word vectors ``U_k diag(S_k)**power`` from the top ``dim`` singular triplets of ``M``.

    ``M = U S V^T``; by Eckart-Young the rank-``dim`` truncation is the best
    approximation of ``M``. ``power=1`` gives the rows of ``U_k S_k`` (PCA-like
    scores), ``power=0.5`` splits ``S`` evenly between words and contexts, which
    usually works better for similarity (Levy et al. 2015). Small dense
    matrices use ``np.linalg.svd``; sparse (or large) ones ``scipy.sparse.linalg.svds``,
    which computes only the top ``dim`` triplets (seeded start vector).
    """
    who = "svd_embeddings"
    dim = _check_int(dim, who, "dim")
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not np.isfinite(power) or power < 0:
        raise ValueError(f"{who}: power must be a number >= 0, got {power!r}")
    if not sp.issparse(M):
        M = np.asarray(M, dtype=np.float64)
    if M.ndim != 2:
        raise ValueError(f"{who}: M must be a 2-D matrix, got shape {M.shape}")
    if dim > min(M.shape):
        raise ValueError(f"{who}: dim={dim} exceeds the rank limit min{M.shape} = {min(M.shape)}")
    if sp.issparse(M) or min(M.shape) > 2000:
        from scipy.sparse.linalg import svds

        if dim >= min(M.shape):
            raise ValueError(f"{who}: for a large or sparse matrix dim must be below min{M.shape}; "
                             "use a dense array for a full decomposition")
        U, S, _ = svds(sp.csr_matrix(M), k=dim, random_state=seed)  # Lanczos: only the top `dim` triplets
        order = np.argsort(-S)
        U, S = U[:, order], S[order]
    else:
        U, S, _ = np.linalg.svd(M, full_matrices=False)
        U, S = U[:, :dim], S[:dim]
    # The SVD fixes each column of U only up to sign: make the largest entry positive.
    signs = np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return U * signs * S**power


# --- skip-gram with negative sampling --------------------------------------------

def subsample_keep_prob(counts, t: float = 1e-3) -> np.ndarray:
    """Probability of keeping each occurrence of a word: ``min(1, sqrt(t / f))``, ``f`` = its frequency.

    Mikolov et al. (2013) discard frequent words at random with probability
    ``1 - sqrt(t / f)`` (their C code uses a slightly gentler formula): "the" and
    "and" are seen less often, rare words always. Words with zero count get 0.
    """
    who = "subsample_keep_prob"
    c = _check_counts(counts, who)
    t = _check_positive(t, who, "t")
    f = c / c.sum()
    keep = np.zeros_like(f)
    seen = f > 0
    keep[seen] = np.minimum(1.0, np.sqrt(t / f[seen]))
    return keep


def noise_distribution(counts, power: float = 0.75) -> np.ndarray:
    """word2vec's noise distribution for negative samples: ``counts**power``, normalised.

    ``power=1`` is the unigram distribution; 0.75 (Mikolov et al. 2013) gives rare
    words a little more and frequent words a little less.
    """
    who = "noise_distribution"
    c = _check_counts(counts, who)
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not np.isfinite(power) or power < 0:
        raise ValueError(f"{who}: power must be a number >= 0, got {power!r}")
    p = np.where(c > 0, c, 0.0) ** power * (c > 0)
    return p / p.sum()


def skipgram_pairs(id_sequences, window: int, rng: np.random.Generator, keep_prob=None,
                   shuffle: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """All (center, context) pairs at distances 1..window, after optional subsampling.

    ``keep_prob[w]`` (see :func:`subsample_keep_prob`) keeps each occurrence of ``w``
    with that probability, drawn with ``rng``, before the windows are formed.
    Returns two int64 arrays (centers, contexts), shuffled with ``rng`` by default.
    """
    who = "skipgram_pairs"
    window = _check_int(window, who, "window")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: rng must be a numpy Generator, e.g. np.random.default_rng(0)")
    seqs = _check_id_sequences(id_sequences, who, None if keep_prob is None else len(keep_prob))
    centers, contexts = [], []
    for x in seqs:
        if keep_prob is not None:
            x = x[rng.random(len(x)) < np.asarray(keep_prob)[x]]
        for d in range(1, min(window, len(x) - 1) + 1):
            centers += [x[:-d], x[d:]]
            contexts += [x[d:], x[:-d]]
    if not centers:
        raise ValueError(f"{who}: no pairs: every sequence is shorter than 2 words (after subsampling)")
    c, o = np.concatenate(centers), np.concatenate(contexts)
    if shuffle:
        order = rng.permutation(len(c))
        c, o = c[order], o[order]
    return c, o


def sample_negatives(noise, shape, generator=None):
    """Draw word ids from the distribution ``noise`` (a torch or NumPy vector summing to 1).

    Inverse-CDF sampling: a uniform number u picks the first id whose cumulative
    probability exceeds u. Returns an int64 tensor of the given shape.
    """
    p = torch.as_tensor(np.asarray(noise, dtype=np.float64) if not isinstance(noise, torch.Tensor) else noise,
                        dtype=torch.float64)
    if p.ndim != 1 or p.numel() == 0 or torch.any(p < 0) or not torch.isclose(p.sum(), torch.tensor(1.0, dtype=torch.float64)):
        raise ValueError("sample_negatives: noise must be a 1-D probability vector (non-negative, sums to 1)")
    cdf = torch.cumsum(p, 0)
    u = torch.rand(tuple(np.atleast_1d(shape)), generator=generator, dtype=torch.float64) * cdf[-1]
    return torch.searchsorted(cdf, u, right=True).clamp_(max=len(p) - 1)


def _check_sgns_shapes(v, u_pos, u_neg, who):
    if v.ndim != 2 or u_pos.shape != v.shape or u_neg.ndim != 3 or u_neg.shape[0] != v.shape[0] \
            or u_neg.shape[2] != v.shape[1]:
        raise ValueError(f"{who}: expected v (B, d), u_pos (B, d) and u_neg (B, K, d); got shapes "
                         f"{tuple(v.shape)}, {tuple(u_pos.shape)} and {tuple(u_neg.shape)}")


def sgns_loss(v, u_pos, u_neg):
    """Per-pair SGNS loss ``-log σ(u_pos·v) - Σ_k log σ(-u_neg[k]·v)`` (torch tensors).

    ``v``: center vectors (B, d); ``u_pos``: their true contexts' output vectors (B, d);
    ``u_neg``: K noise words' output vectors per pair (B, K, d). Returns shape (B,).
    It is the binary cross-entropy of one "real pair" and K "noise pair" logistic
    classifications.
    """
    _check_sgns_shapes(v, u_pos, u_neg, "sgns_loss")
    pos = (v * u_pos).sum(-1)
    neg = (u_neg * v.unsqueeze(1)).sum(-1)
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1))


def sgns_grad(v, u_pos, u_neg):
    """Closed-form gradients of :func:`sgns_loss` (summed over the batch) with respect to
    ``v``, ``u_pos`` and ``u_neg``:

    ``dv = (σ(s⁺) - 1) u⁺ + Σ_k σ(s⁻_k) u⁻_k``, ``du⁺ = (σ(s⁺) - 1) v``, ``du⁻_k = σ(s⁻_k) v``,
    where ``s⁺ = u⁺·v`` and ``s⁻_k = u⁻_k·v``.
    """
    _check_sgns_shapes(v, u_pos, u_neg, "sgns_grad")
    g_pos = torch.sigmoid((v * u_pos).sum(-1)) - 1  # (B,)
    g_neg = torch.sigmoid((u_neg * v.unsqueeze(1)).sum(-1))  # (B, K)
    dv = g_pos.unsqueeze(-1) * u_pos + (g_neg.unsqueeze(-1) * u_neg).sum(1)
    return dv, g_pos.unsqueeze(-1) * v, g_neg.unsqueeze(-1) * v.unsqueeze(1)


class SkipGramNS(nn.Module):
    """word2vec's skip-gram with negative sampling: two embedding tables.

    ``in_embed`` holds the word vectors (what we keep); ``out_embed`` the
    context ("output") vectors. Initialised like word2vec: input vectors
    uniform in ±0.5/dim, output vectors zero, drawn from ``generator``.
    ``forward(centers, contexts, negatives)`` returns the per-pair loss (B,).
    """

    def __init__(self, vocab_size: int, dim: int, generator=None):
        super().__init__()
        vocab_size = _check_int(vocab_size, "SkipGramNS", "vocab_size", 2)
        dim = _check_int(dim, "SkipGramNS", "dim")
        self.in_embed = nn.Embedding(vocab_size, dim)
        self.out_embed = nn.Embedding(vocab_size, dim)
        with torch.no_grad():
            self.in_embed.weight.copy_((torch.rand(vocab_size, dim, generator=generator) - 0.5) / dim)
            self.out_embed.weight.zero_()

    def forward(self, centers, contexts, negatives):
        if centers.shape != contexts.shape or centers.ndim != 1 or negatives.ndim != 2 \
                or negatives.shape[0] != centers.shape[0]:
            raise ValueError("SkipGramNS: expected centers (B,), contexts (B,) and negatives (B, K), got "
                             f"{tuple(centers.shape)}, {tuple(contexts.shape)}, {tuple(negatives.shape)}")
        return sgns_loss(self.in_embed(centers), self.out_embed(contexts), self.out_embed(negatives))

    @property
    def embeddings(self) -> np.ndarray:
        """The word vectors (input embeddings) as a float64 NumPy array."""
        return self.in_embed.weight.detach().cpu().double().numpy()


def train_sgns(id_sequences, vocab_size: int, dim: int = 64, window: int = 3, negatives: int = 5,
               t: float = 1e-3, steps: int = 1000, batch_size: int = 4096, lr: float = 0.02,
               seed: int = 0, log_every: int = 25):
    """Train :class:`SkipGramNS` with Adam for ``steps`` mini-batches; return ``(model, losses)``.

    Each pass over the corpus draws a fresh subsample and shuffles the pairs; the
    negatives come from the unigram**0.75 distribution of the corpus; the learning
    rate falls linearly to 0. ``losses`` holds the mean batch loss every
    ``log_every`` steps. Deterministic for a given ``seed``.
    """
    who = "train_sgns"
    vocab_size = _check_int(vocab_size, who, "vocab_size", 2)
    negatives = _check_int(negatives, who, "negatives")
    steps = _check_int(steps, who, "steps")
    batch_size = _check_int(batch_size, who, "batch_size")
    log_every = _check_int(log_every, who, "log_every")
    lr = _check_positive(lr, who, "lr")
    seqs = _check_id_sequences(id_sequences, who, vocab_size)
    counts = np.bincount(np.concatenate(seqs), minlength=vocab_size).astype(np.float64)
    keep, noise = subsample_keep_prob(counts, t), torch.as_tensor(noise_distribution(counts))
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    model = SkipGramNS(vocab_size, dim, generator=gen)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1 - s / steps)
    centers, contexts, pos, losses = np.zeros(0, np.int64), np.zeros(0, np.int64), 0, []
    for step in range(steps):
        if pos + batch_size > len(centers):  # a new pass: fresh subsample, fresh shuffle
            centers, contexts = skipgram_pairs(seqs, window, rng, keep_prob=keep)
            pos = 0
            if len(centers) < batch_size:
                raise ValueError(f"{who}: the corpus gives only {len(centers)} pairs, fewer than batch_size={batch_size}")
        c = torch.from_numpy(centers[pos:pos + batch_size])
        o = torch.from_numpy(contexts[pos:pos + batch_size])
        pos += batch_size
        neg = sample_negatives(noise, (len(c), negatives), gen)
        loss = model(c, o, neg).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % log_every == 0 or step == steps - 1:
            losses.append(loss.item())
    return model, losses


# --- evaluation -------------------------------------------------------------------

def normalize_rows(E):
    """Each row divided by its length (rows of zeros stay zero); sparse stays sparse."""
    if sp.issparse(E):
        norms = np.sqrt(np.asarray(E.multiply(E).sum(axis=1)).ravel())
        return sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ E)
    E = np.asarray(E, dtype=np.float64)
    if E.ndim != 2:
        raise ValueError(f"normalize_rows: expected a 2-D array, got shape {E.shape}")
    norms = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(norms > 0, norms, 1.0)


def cosine_similarity(a, b) -> float:
    """cos θ = a·b / (|a| |b|); a ValueError for zero vectors (no direction)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"cosine_similarity: expected two vectors of the same length, got shapes {a.shape} and {b.shape}")
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        raise ValueError("cosine_similarity: a zero vector has no direction, so no cosine")
    return float(a @ b / (na * nb))


def nearest_neighbours(E, vocab, word: str, k: int = 8) -> list[tuple[str, float]]:
    """The ``k`` words whose vectors have the largest cosine with ``word``'s (itself excluded)."""
    who = "nearest_neighbours"
    E = _check_embeddings(E, vocab, who)
    k = _check_int(k, who, "k")
    i = _word_id(vocab, word, who)
    En = normalize_rows(E)
    sims = _similarities(En, En[i])
    sims[:NUM_SPECIALS] = -np.inf
    sims[i] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return [(vocab.itos[j], float(sims[j])) for j in top]


def analogy(E, vocab, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
    """"a is to b as c is to ?": the words nearest (cosine) to ``b - a + c`` (3CosAdd),
    excluding the three question words, best first. E.g. ``analogy(E, vocab, "man", "woman", "king")``."""
    who = "analogy"
    E = _check_embeddings(E, vocab, who)
    k = _check_int(k, who, "k")
    ia, ib, ic = (_word_id(vocab, w, who) for w in (a, b, c))
    En = normalize_rows(E)
    target = _dense_row(En, ib) - _dense_row(En, ia) + _dense_row(En, ic)
    sims = _similarities(En, target) / max(np.linalg.norm(target), 1e-12)
    sims[:NUM_SPECIALS] = -np.inf
    sims[[ia, ib, ic]] = -np.inf
    top = np.argsort(-sims, kind="stable")[:k]
    return [(vocab.itos[j], float(sims[j])) for j in top]


def analogy_rank(E, vocab, a: str, b: str, c: str, d: str) -> int:
    """Rank (1 = best) of the expected answer ``d`` in :func:`analogy`'s ordering."""
    who = "analogy_rank"
    E = _check_embeddings(E, vocab, who)
    ia, ib, ic, i_d = (_word_id(vocab, w, who) for w in (a, b, c, d))
    En = normalize_rows(E)
    target = _dense_row(En, ib) - _dense_row(En, ia) + _dense_row(En, ic)
    sims = _similarities(En, target)
    sims[:NUM_SPECIALS] = -np.inf
    sims[[ia, ib, ic]] = -np.inf
    return int(np.sum(sims > sims[i_d]) + 1)


def auc(positive, negative) -> float:
    """Area under the ROC curve: P(a random positive scores above a random negative),
    ties counting one half (the Mann-Whitney statistic)."""
    pos, neg = np.asarray(positive, dtype=np.float64).ravel(), np.asarray(negative, dtype=np.float64).ravel()
    if pos.size == 0 or neg.size == 0:
        raise ValueError(f"auc: need at least one positive and one negative score, got {pos.size} and {neg.size}")
    if not (np.all(np.isfinite(pos)) and np.all(np.isfinite(neg))):
        raise ValueError("auc: scores must be finite")
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks for ties
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def frequency_matched_controls(vocab, pairs, n_controls: int = 20, band: int = 25, seed: int = 0
                               ) -> list[tuple[str, str]]:
    """For each related pair (a, b): ``n_controls`` pairs (a, c) where ``c`` is a random word of
    about b's frequency (vocabulary id within ``band`` of b's; ids are ordered by frequency).

    Frequency matters: frequent words have similar, "generic" vectors, so a fair
    control must be as frequent as the real partner.
    """
    who = "frequency_matched_controls"
    n_controls = _check_int(n_controls, who, "n_controls")
    band = _check_int(band, who, "band")
    rng = np.random.default_rng(seed)
    n = len(vocab.itos)
    out = []
    for a, b in pairs:
        ia, ib = _word_id(vocab, a, who), _word_id(vocab, b, who)
        lo, hi = max(NUM_SPECIALS, ib - band), min(n, ib + band + 1)
        candidates = [j for j in range(lo, hi) if j not in (ia, ib)]
        if len(candidates) < n_controls:
            raise ValueError(f"{who}: only {len(candidates)} words within {band} ranks of {b!r}; "
                             f"lower n_controls or widen band")
        out += [(a, vocab.itos[j]) for j in rng.choice(candidates, n_controls, replace=False)]
    return out


@dataclass
class PairTest:
    """Result of :func:`pair_similarity_test`."""

    auc: float  # P(related pair more similar than a control pair)
    margin: float  # mean cosine of related pairs minus mean cosine of controls
    related: np.ndarray  # cosine of each related pair
    controls: np.ndarray  # cosine of each control pair
    control_pairs: list  # the control (a, c) pairs, n_controls per related pair


def pair_similarity_test(E, vocab, pairs, n_controls: int = 20, band: int = 25, seed: int = 0) -> PairTest:
    """Do related pairs have higher cosine than frequency-matched random pairs?

    ``pairs``: (a, b) word pairs judged related before looking at any result.
    AUC 0.5 is chance, 1.0 perfect. Every word must be in the vocabulary (a
    pre-registered list is not silently shortened).
    """
    who = "pair_similarity_test"
    E = _check_embeddings(E, vocab, who)
    pairs = list(pairs)
    if not pairs:
        raise ValueError(f"{who}: no pairs given")
    missing = sorted({w for p in pairs for w in p if w not in vocab.stoi})
    if missing:
        raise ValueError(f"{who}: not in the vocabulary: {missing}")
    En = normalize_rows(E)

    def cos(a, b):
        return float(_dense_row(En, vocab.stoi[a]) @ _dense_row(En, vocab.stoi[b]))

    controls = frequency_matched_controls(vocab, pairs, n_controls, band, seed)
    related = np.array([cos(a, b) for a, b in pairs])
    control = np.array([cos(a, c) for a, c in controls])
    return PairTest(auc(related, control), float(related.mean() - control.mean()), related, control, controls)
