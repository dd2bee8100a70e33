"""Pretraining and question answering on People's Daily (section 6.6).

A small BERT (Devlin et al., 2019): a bidirectional Transformer encoder built from the
course's GPT blocks (:mod:`utils.gpt`) with the causal mask taken out, pretrained by masked
language modelling and fine-tuned to extract answer spans; cloze questions built from
headlines (Hermann et al., 2015); SQuAD's exact match and F1 (Rajpurkar et al., 2016);
BM25 retrieval (Robertson & Zaragoza, 2009)::

    from utils import data, qa, summarize as S
    inputs, labels = qa.bert_mask(ids, rng, mask_id=4, vocab_size=2000, first_normal=8)
    encoder = qa.Encoder(gpt.GPTConfig(vocab_size=2000, block_size=160, n_layer=2, n_head=4, n_embd=64))
    qa.exact_match("李鹏", "李 鹏"), qa.f1_score("李鹏总理", "李鹏")      # 1.0, 0.667
    index = qa.BM25([qa.bigrams(doc) for doc in docs]); index.scores(qa.bigrams(query))

- masking: :func:`bert_mask` (15% of positions; of those 80% [MASK], 10% random, 10% kept);
- the encoder: :class:`BidirectionalSelfAttention`, :class:`Encoder` (MLM loss on the masked
  positions only), :class:`SpanReader` (start/end logits), :func:`best_span`;
- the task: :func:`entity_mentions`, :class:`Cloze`, :func:`make_clozes`, :func:`encode_cloze`;
- metrics: :func:`normalize_answer`, :func:`exact_match`, :func:`f1_score`;
- baselines: :func:`most_frequent_entity`, :func:`best_sentence_entity`, :func:`context_match`;
- retrieval: :func:`bigrams`, :class:`BM25`, :func:`recall_at_k`;
- the shipped encoder: :data:`PRETRAIN_RECIPE`, :func:`recipe_hash`, :func:`pretrained_encoder`
  (``models/bert_pd1998_<hash>.pt``, made by ``tools/pretrain_bert.py``).
"""
from __future__ import annotations

import hashlib as _hashlib
import json as _json
import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path as _Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from utils import gpt
from utils import summarize as S

__all__ = [
    "bert_mask", "BidirectionalSelfAttention", "Encoder", "SpanReader", "best_span",
    "ENTITY_TAGS", "entity_mentions", "Cloze", "make_clozes", "encode_cloze",
    "normalize_answer", "exact_match", "f1_score", "squad_scores",
    "most_frequent_entity", "best_sentence_entity", "context_match",
    "bigrams", "BM25", "recall_at_k",
    "PRETRAIN_RECIPE", "recipe_hash", "pretrained_path", "corpus_setup", "encoder_config", "pretrained_encoder",
]


# --- masking ---------------------------------------------------------------------------------

def bert_mask(ids, rng: np.random.Generator, mask_id: int, vocab_size: int, first_normal: int,
              p: float = 0.15, split: tuple[float, float, float] = (0.8, 0.1, 0.1)):
    """BERT's masking of a batch of token ids (Devlin et al., 2019).

    Every position holding a normal token (id >= ``first_normal``; specials and padding
    are never chosen) is chosen with probability ``p``. A chosen position becomes
    ``mask_id`` with probability ``split[0]``, a random normal token with ``split[1]``, and
    stays as it is with ``split[2]``. Returns ``(inputs, labels)``: ``labels`` holds the
    original id at chosen positions and -100 (ignored by ``cross_entropy``) elsewhere.
    """
    ids = np.asarray(ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"bert_mask expects a (batch, T) integer array, got shape {ids.shape} dtype {ids.dtype}")
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if len(split) != 3 or min(split) < 0 or not math.isclose(sum(split), 1.0):
        raise ValueError(f"split must be three probabilities summing to 1 (mask, random, keep), got {split}")
    if not 0 <= first_normal < vocab_size:
        raise ValueError(f"first_normal={first_normal} must lie in 0..vocab_size-1={vocab_size - 1}")
    chosen = (ids >= first_normal) & (rng.random(ids.shape) < p)
    u = rng.random(ids.shape)
    to_mask = chosen & (u < split[0])
    to_random = chosen & (u >= split[0]) & (u < split[0] + split[1])
    inputs = ids.copy()
    inputs[to_mask] = mask_id
    inputs[to_random] = rng.integers(first_normal, vocab_size, size=int(to_random.sum()))
    labels = np.where(chosen, ids, -100)
    return inputs, labels


# --- the encoder -------------------------------------------------------------------------------

class BidirectionalSelfAttention(gpt.CausalSelfAttention):
    """:class:`utils.gpt.CausalSelfAttention` without the causal mask: every position sees
    every position (the one difference between a BERT encoder and a GPT decoder).
    ``explicit=True`` writes softmax(QKᵀ/√d_k)V out and keeps the weights in ``self.weights``."""

    def forward(self, x: torch.Tensor, explicit: bool = False, cache: list | None = None) -> torch.Tensor:
        if cache is not None:
            raise ValueError("an encoder reads the whole sequence at once: it has no KV cache")
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        p = self.dropout if self.training else 0.0
        if explicit:
            att = ((q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))).softmax(dim=-1)
            self.weights = att.detach()
            y = F.dropout(att, p, self.training) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(B, T, C)))


class Encoder(gpt.GPT):
    """A BERT-style encoder: the course's GPT (same embeddings, pre-LN blocks, GPT-2
    initialisation, tied output matrix) with bidirectional attention.

    ``forward(idx)`` returns the hidden states (batch, T, n_embd) after the final LayerNorm;
    :meth:`mlm_loss` scores the masked positions only (the vocabulary product is the
    expensive part, and 85% of the positions have nothing to predict).
    """

    def __init__(self, config: gpt.GPTConfig, num_tags: int = 0):
        super().__init__(config)
        self.num_tags = int(num_tags)
        # optional per-position tag embedding (the corpus's entity tags), added like BERT's
        # segment embedding; tag 0 means "no tag"
        self.tag_embedding = nn.Embedding(num_tags, config.n_embd) if num_tags else None
        if self.tag_embedding is not None:
            nn.init.normal_(self.tag_embedding.weight, std=0.02)
        for block in self.transformer.h:
            attn = BidirectionalSelfAttention(config)
            attn.c_attn, attn.c_proj = block.attn.c_attn, block.attn.c_proj  # GPT's initialised layers
            block.attn = attn

    def forward(self, idx: torch.Tensor, tags: torch.Tensor | None = None, explicit: bool = False,
                cache=None) -> torch.Tensor:
        idx = self._check_idx(idx)
        pos = torch.arange(idx.shape[1], device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        if self.tag_embedding is not None:
            if tags is None or tags.shape != idx.shape:
                raise ValueError(f"this encoder reads a tag per position: pass tags shaped like idx {tuple(idx.shape)}")
            x = x + self.tag_embedding(tags)
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x, explicit=explicit)
        return self.transformer.ln_f(x)

    def mlm_logits(self, idx: torch.Tensor, labels: torch.Tensor, tags: torch.Tensor | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        """Vocabulary logits at the chosen positions (labels != -100) and their targets."""
        if not isinstance(labels, torch.Tensor) or labels.shape != idx.shape:
            raise ValueError(f"labels must be a tensor shaped like idx {tuple(idx.shape)}")
        h = self(idx, tags)
        chosen = labels != -100
        return self.lm_head(h[chosen]), labels[chosen]

    def mlm_loss(self, idx: torch.Tensor, labels: torch.Tensor, tags: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cross-entropy (nats) over the chosen positions."""
        logits, targets = self.mlm_logits(idx, labels, tags)
        if targets.numel() == 0:
            raise ValueError("no position was chosen for prediction (all labels are -100)")
        return F.cross_entropy(logits, targets)


class SpanReader(nn.Module):
    """An encoder with a span head: one linear map d -> 2 gives each position a start and
    an end score (Devlin et al., 2019, section 4.2). Positions where ``allowed`` is False
    (the question, specials, padding) get -inf, so softmax puts no mass there."""

    def __init__(self, encoder: Encoder):
        super().__init__()
        if not isinstance(encoder, Encoder):
            raise TypeError(f"SpanReader needs a qa.Encoder, got {type(encoder).__name__}")
        self.encoder = encoder
        self.span_head = nn.Linear(encoder.config.n_embd, 2)
        nn.init.normal_(self.span_head.weight, std=0.02)
        nn.init.zeros_(self.span_head.bias)

    def forward(self, idx: torch.Tensor, allowed: torch.Tensor, tags: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        if allowed.shape != idx.shape:
            raise ValueError(f"allowed must be shaped like idx {tuple(idx.shape)}, got {tuple(allowed.shape)}")
        start, end = self.span_head(self.encoder(idx, tags)).unbind(-1)
        return start.masked_fill(~allowed, float("-inf")), end.masked_fill(~allowed, float("-inf"))

    def loss(self, idx, allowed, starts, ends, tags=None) -> torch.Tensor:
        """Mean of the start and end cross-entropies (nats)."""
        start, end = self(idx, allowed, tags)
        return (F.cross_entropy(start, starts) + F.cross_entropy(end, ends)) / 2


def best_span(start_logits, end_logits, max_len: int = 12) -> tuple[int, int, float]:
    """The span (i, j), i <= j < i + max_len, that maximises start[i] + end[j] (the log of
    P(start=i) P(end=j) up to a constant). Returns (i, j, score); j is inclusive."""
    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    if s.ndim != 1 or s.shape != e.shape or len(s) == 0:
        raise ValueError(f"start and end logits must be 1-D of one length, got {s.shape} and {e.shape}")
    if max_len < 1:
        raise ValueError(f"max_len must be at least 1, got {max_len}")
    T = len(s)
    i, j = np.meshgrid(np.arange(T), np.arange(T), indexing="ij")
    score = np.where((j >= i) & (j < i + max_len), s[:, None] + e[None, :], -np.inf)
    flat = int(np.argmax(score))
    if not np.isfinite(score.flat[flat]):
        raise ValueError("no allowed span: every start or end score is -inf")
    return flat // T, flat % T, float(score.flat[flat])


# --- the cloze task --------------------------------------------------------------------------

ENTITY_TAGS = {"nr": "person", "ns": "place", "nt": "organisation"}


def entity_mentions(words: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """Named entities in tagged words as (text, tag, char_offset), tags nr / ns / nt.

    The PKU corpus splits a Chinese name into surname and given name (李/nr 鹏/nr): a
    person tag of at most 2 characters followed by another person tag is merged with it
    (江/nr 泽民/nr 李/nr 鹏/nr gives 江泽民 and 李鹏)."""
    out, pos, k = [], 0, 0
    while k < len(words):
        w, t = words[k]
        if t in ENTITY_TAGS:
            if t == "nr" and len(w) <= 2 and k + 1 < len(words) and words[k + 1][1] == "nr":
                out.append((w + words[k + 1][0], t, pos))
                pos += len(w) + len(words[k + 1][0])
                k += 2
                continue
            out.append((w, t, pos))
        pos += len(w)
        k += 1
    return out


@dataclass
class Cloze:
    """One question: a headline with an entity blanked, and the passage that holds the answer."""

    left: str  # headline text before the blank
    right: str  # headline text after the blank
    tag: str  # nr / ns / nt: the type of the blanked entity
    answer: str
    passage: str
    passage_words: list = field(repr=False, default_factory=list)  # tagged words of the passage
    article: int = -1  # index of the article in the list it was made from
    day: int = 0

    @property
    def question(self) -> str:
        return f"{self.left}［{ENTITY_TAGS[self.tag]}］{self.right}"

    @property
    def query(self) -> str:
        """The question without its blank (what a search engine would be given)."""
        return self.left + " " + self.right

    @property
    def answer_starts(self) -> list[int]:
        """Character offsets of every occurrence of the answer in the passage."""
        out, i = [], self.passage.find(self.answer)
        while i >= 0:
            out.append(i)
            i = self.passage.find(self.answer, i + 1)
        return out


def passage_words(article: S.Article, max_chars: int) -> list[tuple[str, str]]:
    """The body's first ``max_chars`` characters as whole tagged words, dateline removed."""
    out, n = [], 0
    for k, paragraph in enumerate(article.paragraphs):
        for w, t in (S.strip_dateline_words(paragraph) if k == 0 else paragraph):
            if n + len(w) > max_chars:
                return out
            out.append((w, t))
            n += len(w)
    return out


def make_clozes(articles: Sequence[S.Article], passage_chars: int = 120, max_question_chars: int = 30
                ) -> list[Cloze]:
    """Cloze questions from headlines (the construction of Hermann et al., 2015, on headlines).

    For every person, place or organisation in an article's headline that also occurs in the
    first ``passage_chars`` characters of its body, one question: the headline with every
    occurrence of that entity replaced by a blank of its type. Headlines longer than
    ``max_question_chars`` are skipped; an entity is asked once per article."""
    if passage_chars < 10:
        raise ValueError(f"passage_chars must be at least 10, got {passage_chars}")
    out = []
    for index, article in enumerate(articles):
        head_words = article.headline_words
        headline = S.words_text(head_words)
        if len(headline) > max_question_chars:
            continue
        words = passage_words(article, passage_chars)
        passage = S.words_text(words)
        seen = set()
        for entity, tag, offset in entity_mentions(head_words):
            if entity in seen or entity not in passage or len(entity) < 2:
                continue
            seen.add(entity)
            rest = headline[offset + len(entity):].replace(entity, "")
            left = headline[:offset].replace(entity, "")
            out.append(Cloze(left, rest, tag, entity, passage, words, index, article.day))
    return out


def char_tags(words: Sequence[tuple[str, str]]) -> np.ndarray:
    """One tag id per character: 0 outside an entity, 1/2/3 the first character of a person /
    place / organisation (:func:`entity_mentions`), 4/5/6 the characters after it."""
    n = sum(len(w) for w, _ in words)
    tags = np.zeros(n, dtype=np.int64)
    for entity, tag, offset in entity_mentions(words):
        k = 1 + list(ENTITY_TAGS).index(tag)
        tags[offset] = k
        tags[offset + 1:offset + len(entity)] = k + 3
    return tags


NUM_TAGS = 7


def encode_cloze(cloze: Cloze, stoi: dict, specials: dict, T: int):
    """Ids of ``[CLS] left [TYPE] right [SEP] passage [SEP]`` padded to ``T``, the passage's
    entity tags (:func:`char_tags`; 0 on the question, specials and padding), the mask of
    passage positions, and the (start, end) position of the answer's first occurrence
    (-1, -1 if it was cut off). ``specials`` maps "cls", "sep", "pad", "unk", "nr", "ns",
    "nt" to ids. Returns (ids, tags, allowed, start, end, passage_offset)."""
    unk = specials["unk"]
    q = [stoi.get(c, unk) for c in cloze.left] + [specials[cloze.tag]] + [stoi.get(c, unk) for c in cloze.right]
    head = [specials["cls"]] + q + [specials["sep"]]
    room = T - len(head) - 1
    if room < 1:
        raise ValueError(f"the question takes {len(head)} of T={T} positions: no room for the passage")
    p = [stoi.get(c, unk) for c in cloze.passage[:room]]
    ids = head + p + [specials["sep"]]
    ids += [specials["pad"]] * (T - len(ids))
    tags = np.zeros(T, dtype=np.int64)
    tags[len(head):len(head) + len(p)] = char_tags(cloze.passage_words)[:len(p)]
    allowed = np.zeros(T, dtype=bool)
    allowed[len(head):len(head) + len(p)] = True
    starts = [s for s in cloze.answer_starts if s + len(cloze.answer) <= len(p)]
    start = len(head) + starts[0] if starts else -1
    end = start + len(cloze.answer) - 1 if starts else -1
    return np.array(ids), tags, allowed, start, end, len(head)


def pretraining_windows(articles: Sequence[S.Article], stoi: dict, specials: dict, T: int,
                        max_headline: int = 30, min_chars: int = 40, rest: bool = True):
    """Pretraining text as fixed windows of ``T`` positions, with entity tags: per article,
    ``[CLS] headline [SEP] body…[SEP]`` (the shape of a question and its passage, as BERT
    pretrains on sentence pairs), then ``[CLS] body…[SEP]`` windows over the rest of the body
    (the last one kept if at least ``min_chars`` long). Returns (ids, tags), both (n, T)."""
    unk = specials["unk"]
    rows, tag_rows = [], []

    def add(chars: str, tags: np.ndarray, head: list[int]):
        ids = head + [stoi.get(c, unk) for c in chars] + [specials["sep"]]
        row = np.full(T, specials["pad"], dtype=np.int64)
        row[:len(ids)] = ids
        trow = np.zeros(T, dtype=np.int64)
        trow[len(head):len(head) + len(chars)] = tags
        rows.append(row)
        tag_rows.append(trow)

    for article in articles:
        words = passage_words(article, 10**9)
        body, tags = S.words_text(words), char_tags(words)
        head = [specials["cls"]] + [stoi.get(c, unk) for c in article.headline[:max_headline]] + [specials["sep"]]
        n = T - len(head) - 1
        add(body[:n], tags[:n], head)
        for k in range(n, len(body) if rest else 0, T - 2):
            if len(body[k:k + T - 2]) >= min_chars:
                add(body[k:k + T - 2], tags[k:k + T - 2], [specials["cls"]])
    return np.stack(rows), np.stack(tag_rows)


# --- SQuAD metrics ---------------------------------------------------------------------------

def normalize_answer(s: str) -> list[str]:
    """The tokens that SQuAD-style scoring compares, for Chinese: one per character after
    NFKC (full-width digits and letters become ASCII, Latin letters are lower-cased), with
    punctuation, symbols and spaces dropped (SQuAD's normalisation, character tokens as in
    the Chinese CMRC 2018 evaluation)."""
    if not isinstance(s, str):
        raise TypeError(f"an answer must be a string, got {type(s).__name__}")
    return [ch.lower() for ch in S.rouge_tokens(s)]


def _golds(golds) -> list[str]:
    golds = [golds] if isinstance(golds, str) else list(golds)
    if not golds:
        raise ValueError("at least one gold answer is needed")
    return golds


def exact_match(prediction: str, golds) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer, else 0.0."""
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in _golds(golds)))


def f1_score(prediction: str, golds) -> float:
    """Token F1 of prediction against gold (the harmonic mean of precision = shared / predicted
    and recall = shared / gold tokens, shared counted as a multiset), the maximum over golds."""
    p = Counter(normalize_answer(prediction))
    best = 0.0
    for g in _golds(golds):
        g = Counter(normalize_answer(g))
        shared = sum((p & g).values())
        if not p or not g:
            best = max(best, float(p == g))
        elif shared:
            precision, recall = shared / sum(p.values()), shared / sum(g.values())
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def squad_scores(predictions: Sequence[str], golds: Sequence) -> tuple[float, float]:
    """Mean exact match and mean F1 over questions, both in [0, 1]."""
    if len(predictions) != len(golds) or not predictions:
        raise ValueError(f"need as many predictions as gold answers (and at least one), "
                         f"got {len(predictions)} and {len(golds)}")
    em = np.mean([exact_match(p, g) for p, g in zip(predictions, golds)])
    f1 = np.mean([f1_score(p, g) for p, g in zip(predictions, golds)])
    return float(em), float(f1)


# --- non-neural baselines --------------------------------------------------------------------

def _candidates(cloze: Cloze, words, skip_question: bool) -> list[tuple[str, int]]:
    question = cloze.left + cloze.right
    return [(e, off) for e, t, off in entity_mentions(words)
            if t == cloze.tag and not (skip_question and e in question)]


def most_frequent_entity(cloze: Cloze, skip_question: bool = True) -> str:
    """The most frequent entity of the blank's type in the passage (ties: the earliest);
    ``skip_question``: ignore entities that the question already names. "" if none."""
    cands = _candidates(cloze, cloze.passage_words, skip_question)
    if not cands:
        return ""
    counts = Counter(e for e, _ in cands)
    first = {}
    for e, off in cands:
        first.setdefault(e, off)
    return min(counts, key=lambda e: (-counts[e], first[e]))


def best_sentence_entity(cloze: Cloze, skip_question: bool = True, unit: str = "word") -> str:
    """The first entity of the blank's type in the passage sentence that shares most words
    (``unit="word"``, the corpus's segmentation) or character bigrams (``"bigram"``) with
    the question; sentences without such an entity are passed over. "" if none."""
    if unit not in ("word", "bigram"):
        raise ValueError(f"unit must be 'word' or 'bigram', got {unit!r}")
    q_tokens = set(bigrams(cloze.left) + bigrams(cloze.right)) if unit == "bigram" else None
    best, best_overlap = "", -1
    for sentence in S.split_sentences(cloze.passage_words):
        cands = _candidates(cloze, sentence, skip_question)
        if not cands:
            continue
        if unit == "word":
            overlap = sum(1 for w, t in sentence if t != "w" and w in cloze.left + cloze.right)
        else:
            overlap = len(q_tokens & set(bigrams(S.words_text(sentence))))
        if overlap > best_overlap:
            best, best_overlap = cands[0][0], overlap
    return best


def context_match(cloze: Cloze, width: int = 2) -> str:
    """A string-matching reader: the shortest passage text (1 to 12 characters) between an
    exact copy of the ``width`` characters left of the blank and the ``width`` characters
    right of it. "" when the blank has fewer than ``width`` characters on either side in
    the headline, or the two contexts do not occur around any span of the passage."""
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    left, right = cloze.left[-width:], cloze.right[:width]
    if len(left) < width or len(right) < width:
        return ""
    text, best = cloze.passage, ""
    i = text.find(left)
    while i >= 0:
        a = i + len(left)
        b = text.find(right, a + 1)
        if 0 <= b - a <= 12 and (not best or b - a < len(best)):
            best = text[a:b]
        i = text.find(left, i + 1)
    return best


# --- retrieval --------------------------------------------------------------------------------

def bigrams(s: str) -> list[str]:
    """Character bigrams of ``s`` after SQuAD normalisation (Chinese search without a word
    segmenter); a one-character string gives that character."""
    t = normalize_answer(s)
    return ["".join(t[i:i + 2]) for i in range(len(t) - 1)] if len(t) > 1 else t


class BM25:
    """Okapi BM25 (Robertson & Zaragoza, 2009) over tokenised documents.

    score(D, Q) = Σ_{t in Q} idf(t) · f(t, D)(k1 + 1) / (f(t, D) + k1 (1 - b + b |D| / avgdl)),
    idf(t) = ln(1 + (N - n(t) + 0.5) / (n(t) + 0.5)) (Lucene's form, never negative);
    f(t, D) is how often t occurs in D, n(t) in how many documents, N the number of
    documents. A query term counts once per occurrence in the query."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        from scipy import sparse

        if isinstance(docs, str) or len(docs) == 0:
            raise ValueError("BM25 needs a non-empty list of tokenised documents (lists of strings)")
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"need k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self.term_index: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for d, doc in enumerate(docs):
            if isinstance(doc, str):
                raise TypeError("each document must be a list of tokens, e.g. qa.bigrams(text)")
            for term, count in Counter(doc).items():
                rows.append(d)
                cols.append(self.term_index.setdefault(term, len(self.term_index)))
                vals.append(count)
        N = len(docs)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(N, len(self.term_index)), dtype=np.float64)
        self.doc_len = np.array([len(doc) for doc in docs], dtype=np.float64)
        self.avgdl = self.doc_len.mean() if self.doc_len.mean() > 0 else 1.0
        n = np.bincount(tf.indices, minlength=tf.shape[1])
        self.idf = np.log1p((N - n + 0.5) / (n + 0.5))
        # the saturated term frequency, precomputed per (document, term)
        norm = k1 * (1 - b + b * self.doc_len / self.avgdl)
        tf = tf.tocoo()
        sat = tf.data * (k1 + 1) / (tf.data + norm[tf.row])
        self.weights = sparse.csc_matrix((sat, (tf.row, tf.col)), shape=tf.shape)

    def scores(self, query: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the tokenised query."""
        if isinstance(query, str):
            raise TypeError("the query must be a list of tokens, e.g. qa.bigrams(question)")
        out = np.zeros(self.weights.shape[0])
        for term, count in Counter(query).items():
            j = self.term_index.get(term)
            if j is not None:
                col = self.weights[:, j]
                out[col.indices] += count * self.idf[j] * col.data
        return out

    def top_k(self, query: Sequence[str], k: int) -> np.ndarray:
        """Indices of the k best documents, best first (ties: lower index first)."""
        s = self.scores(query)
        return np.lexsort((np.arange(len(s)), -s))[:k]


def recall_at_k(ranked: Sequence[Sequence[int]], relevant: Sequence[int], k: int) -> float:
    """Share of queries whose relevant document is among the first k retrieved."""
    if len(ranked) != len(relevant) or not len(ranked):
        raise ValueError(f"need one ranking per relevant document, got {len(ranked)} and {len(relevant)}")
    return float(np.mean([r in list(rank[:k]) for rank, r in zip(ranked, relevant)]))


# --- count baselines for masked-token prediction -------------------------------------------

class BigramCloze:
    """A bidirectional count baseline for a masked character: under a bigram model,
    P(x | left l, right r) ∝ P(x | l) P(r | x), both add-k smoothed counts from training
    windows. A neighbour that is itself masked, special or padding is ignored (P(x | l)
    becomes the unigram P(x), P(r | x) is dropped); with no usable neighbour this is the
    unigram model."""

    def __init__(self, ids: np.ndarray, vocab_size: int, first_normal: int):
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"BigramCloze expects (n, T) training windows, got shape {ids.shape}")
        self.V, self.first_normal = int(vocab_size), int(first_normal)
        a, b = ids[:, :-1].ravel(), ids[:, 1:].ravel()
        ok = (a >= first_normal) & (b >= first_normal)
        self.pair = np.bincount(a[ok] * self.V + b[ok], minlength=self.V * self.V).reshape(self.V, self.V).astype(np.float64)
        flat = ids.ravel()
        self.unigram = np.bincount(flat[flat >= first_normal], minlength=self.V).astype(np.float64)

    def log_probs(self, inputs: np.ndarray, positions: tuple[np.ndarray, np.ndarray], k: float = 0.1,
                  bidirectional: bool = True) -> np.ndarray:
        """log P(x | neighbours) over the vocabulary, one row per (row, column) position;
        ``bidirectional=False`` uses the unigram model only."""
        rows, cols = positions
        V, f = self.V, self.first_normal
        normal = np.zeros(V, dtype=bool)
        normal[f:] = True
        uni = np.where(normal, self.unigram + k, 0.0)
        log_uni = np.log(np.where(normal, uni / uni.sum(), 1e-300))
        out = np.tile(log_uni, (len(rows), 1))
        if not bidirectional:
            return out
        T = inputs.shape[1]
        left = np.where(cols > 0, inputs[rows, np.maximum(cols - 1, 0)], -1)
        right = np.where(cols < T - 1, inputs[rows, np.minimum(cols + 1, T - 1)], -1)
        pair = self.pair + k
        log_next = np.log(pair / pair[:, f:].sum(axis=1, keepdims=True))  # log P(next | previous)
        for a in range(0, len(rows), 2048):  # in chunks: (chunk, V) arrays
            l, r = left[a:a + 2048], right[a:a + 2048]
            has_l, has_r = l >= f, r >= f
            score = np.where(has_l[:, None], log_next[np.maximum(l, 0)], log_uni[None, :])
            score = score + np.where(has_r[:, None], log_next[:, np.maximum(r, 0)].T, 0.0)
            score[:, :f] = -np.inf
            top = score.max(axis=1, keepdims=True)
            score -= top + np.log(np.exp(score - top).sum(axis=1, keepdims=True))
            out[a:a + 2048] = score
        return out


def predict_span(cloze: Cloze, start_logits, end_logits, offset: int, max_len: int = 12,
                 typed: bool = False) -> tuple[str, float]:
    """The answer text a reader's scores give for ``cloze`` and its score start + end.

    ``offset`` is the position of the passage's first character in the input. Free
    decoding takes :func:`best_span`; ``typed=True`` chooses among the passage's entities of
    the blank's type (the candidates the baselines choose from), as cloze readers over
    entity candidates do (Kadlec et al., 2016)."""
    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    if not typed:
        i, j, score = best_span(s, e, max_len)
        return cloze.passage[i - offset:j - offset + 1], score
    best, best_score = "", -np.inf
    for entity, tag, o in entity_mentions(cloze.passage_words):
        a, b = offset + o, offset + o + len(entity) - 1
        if tag == cloze.tag and b < len(s) and s[a] + e[b] > best_score:
            best, best_score = entity, s[a] + e[b]
    return best, float(best_score)


# --- the shipped pretrained encoder ------------------------------------------------------------

SPECIAL_TOKENS = ["<mask>", "<sep>", "<nr>", "<ns>", "<nt>"]  # after text.SPECIALS: <pad> <unk> <bos>=[CLS] <eos>
MODELS_DIR = _Path(__file__).resolve().parent.parent / "models"
PRETRAIN_COMMAND = "OMP_NUM_THREADS=1 .venv/bin/python tools/pretrain_bert.py"

# The recipe of the encoder shipped in models/: everything that decides its weights. Its hash
# (with the torch version) names the file, as utils.vision names its cached classifier.
PRETRAIN_RECIPE = {
    "data": {"corpus": "peoples_daily", "min_paragraphs": 2, "val_days": [22, 24], "test_days": [26, 31],
             "vocab_size": 2000, "T": 112, "max_headline": 30, "min_chars": 40},
    "model": {"n_layer": 2, "n_head": 4, "n_embd": 128, "num_tags": 7},
    "train": {"steps": 2000, "batch": 32, "lr": 3e-3, "warmup": 100, "min_lr_ratio": 0.1,
              "weight_decay": 0.01, "mask_p": 0.15, "seed": 0, "mask_seed": 1, "threads": 1},
}


def recipe_hash(recipe: dict | None = None) -> str:
    """Eight hex digits of the recipe plus the torch major.minor.patch version."""
    recipe = PRETRAIN_RECIPE if recipe is None else recipe
    text = _json.dumps({"recipe": recipe, "torch": torch.__version__.split("+")[0]}, sort_keys=True)
    return _hashlib.sha256(text.encode()).hexdigest()[:8]


def pretrained_path(recipe: dict | None = None, models_dir=None) -> _Path:
    """models/bert_pd1998_<recipe hash>.pt"""
    return _Path(MODELS_DIR if models_dir is None else models_dir) / f"bert_pd1998_{recipe_hash(recipe)}.pt"


def corpus_setup(data_recipe: dict | None = None):
    """The section's data as the recipe fixes it: (articles with .day set, (train, val, test)
    article indices, vocab, specials dict, first_normal). The vocabulary is the
    ``vocab_size`` minus specials most frequent characters of training articles."""
    from utils import data, text

    d = PRETRAIN_RECIPE["data"] if data_recipe is None else data_recipe
    corpus = data.load(d["corpus"])
    articles = S.segment_articles(corpus.lines, min_paragraphs=d["min_paragraphs"])
    days = S.edition_days(corpus.text_lines())
    for a in articles:
        a.day = int(days[a.start])
    splits = S.split_by_day(articles, val_days=tuple(d["val_days"]), test_days=tuple(d["test_days"]))
    counts = Counter(ch for i in splits[0] for ch in articles[i].headline + "".join(articles[i].body))
    chars = sorted(counts, key=lambda c: (-counts[c], c))[:d["vocab_size"] - len(text.SPECIALS) - len(SPECIAL_TOKENS)]
    vocab = text.Vocab(list(text.SPECIALS) + SPECIAL_TOKENS + chars)
    sp = dict(pad=vocab.pad_id, unk=vocab.unk_id, cls=vocab.bos_id, mask=vocab.stoi["<mask>"],
              sep=vocab.stoi["<sep>"], nr=vocab.stoi["<nr>"], ns=vocab.stoi["<ns>"], nt=vocab.stoi["<nt>"])
    return articles, splits, vocab, sp, len(text.SPECIALS) + len(SPECIAL_TOKENS)


def encoder_config(recipe: dict | None = None) -> gpt.GPTConfig:
    r = PRETRAIN_RECIPE if recipe is None else recipe
    m, d = r["model"], r["data"]
    return gpt.GPTConfig(vocab_size=d["vocab_size"], block_size=d["T"], n_layer=m["n_layer"],
                         n_head=m["n_head"], n_embd=m["n_embd"])


def pretrained_encoder(path=None, recipe: dict | None = None) -> tuple[Encoder, dict]:
    """Load the shipped pretrained encoder (float32) and its metadata (recipe, steps, CPU
    seconds, held-out masked-character accuracy, vocabulary). Raises a clear error when the
    file is missing or was made by another recipe or torch version."""
    recipe = PRETRAIN_RECIPE if recipe is None else recipe
    path = pretrained_path(recipe) if path is None else _Path(path)
    if not path.exists():
        others = sorted(p.name for p in path.parent.glob("bert_pd1998_*.pt")) if path.parent.exists() else []
        raise FileNotFoundError(
            f"no pretrained encoder at {path} (recipe hash {recipe_hash(recipe)}, torch {torch.__version__}); "
            f"found {others or 'none'}. The recipe or the torch version changed: rebuild it with "
            f"`{PRETRAIN_COMMAND}` (about 15 minutes of CPU).")
    # weights only: no code runs on loading; the metadata records torch.__version__, a
    # TorchVersion (a str subclass), which is allowed explicitly
    with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
        blob = torch.load(path, map_location="cpu", weights_only=True)
    meta = blob["meta"]
    if meta.get("recipe") != recipe or meta.get("hash") != recipe_hash(recipe):
        raise ValueError(f"{path.name} was made by another recipe (hash {meta.get('hash')}, code's "
                         f"{recipe_hash(recipe)}): rebuild it with `{PRETRAIN_COMMAND}`")
    encoder = Encoder(encoder_config(recipe), num_tags=recipe["model"]["num_tags"])
    encoder.load_state_dict({k: v.float() for k, v in blob["state"].items()})
    return encoder.eval(), meta
