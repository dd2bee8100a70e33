"""Headline generation as summarization on People's Daily (section 6.5).

The corpus (``data.load("peoples_daily")``) is a stream of tagged lines with no article
ids. This module cuts it into articles, scores summaries with ROUGE, and holds the
baselines and the trained model of the section::

    from utils import data, summarize as S
    corpus = data.load("peoples_daily")
    articles = S.segment_articles(corpus.lines)       # Article(headline, paragraphs, ...)
    S.rouge_n("全总致职工慰问信", "全总致全国各族职工慰问信", n=1)   # Score(precision, recall, f1)

- segmentation: :func:`line_kind`, :func:`segment_articles`, :func:`edition_days`;
- :func:`strip_dateline` removes "本报北京１月１日讯记者…报道：" and the like;
- ROUGE (Lin 2004): :func:`rouge_n`, :func:`rouge_l`, :func:`lcs_length`, character-level
  for Chinese (:func:`rouge_tokens`), :func:`rouge_all` for corpus averages;
- baselines: :func:`lead_sentence`, :func:`lead_chars`, :func:`textrank` / :func:`pagerank`;
- the trained model: :class:`KeepTagger`, a BiGRU that tags each word of the lead sentence
  keep/drop (deletion-based compression, Filippova et al. 2015).
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

Word = tuple[str, str]  # (word, PKU part-of-speech tag)

# --- segmentation of the corpus into articles ------------------------------------------

#: marks that end a paragraph (after closing quotes and brackets are stripped)
PARAGRAPH_END = "。！？；…：—"
CLOSERS = "”’」』》）)"
#: a heading (headline, sub-headline, byline) is at most this long, trailing notes excluded
MAX_HEADING_CHARS = 45
_TRAILING_REMARK = re.compile(r"（[^（）]*）$")
_PICTURE_NOTE = re.compile(r"（[^（）]*(?:图片|照片)[^（）]*）")


def line_kind(text: str) -> str:
    """Classify one line of the corpus as ``"heading"``, ``"paragraph"`` or ``"remark"``.

    - remark: the whole line is in brackets, e.g. a photo credit （新华社记者樊如钧摄）,
      a date （一九九七年十二月三十一日） or a picture note （传真照片）;
    - paragraph: it ends (ignoring closing quotes and trailing bracketed notes such as
      （新华社北京１２月３１日电） or （附图片１张）) with 。！？；…：or a dash, or it is
      longer than ``MAX_HEADING_CHARS`` characters without those notes;
    - heading: the rest: short lines without final punctuation (headlines, sub-headlines,
      kickers, bylines).
    """
    if not isinstance(text, str):
        raise TypeError(f"line_kind expects a string, got {type(text).__name__}")
    s = text.strip()
    if not s:
        raise ValueError("line_kind got an empty line")
    if s.startswith("（") and s.endswith("）"):
        return "remark"
    core = s
    while _TRAILING_REMARK.search(core):
        core = _TRAILING_REMARK.sub("", core)
    if len(core.rstrip(CLOSERS)) == 0:
        return "remark"
    if core.rstrip(CLOSERS)[-1] in PARAGRAPH_END or len(core) > MAX_HEADING_CHARS:
        return "paragraph"
    return "heading"


def clean_headline(text: str) -> str:
    """Drop picture notes such as （附图片１张） or （图片） from a headline."""
    return _PICTURE_NOTE.sub("", text).strip()


def words_text(words: Sequence[Word]) -> str:
    """The words of a tagged line joined without spaces, as Chinese is written."""
    return "".join(w for w, _ in words)


@dataclass
class Article:
    """One article cut from the corpus: its heading lines and its body paragraphs."""

    headings: list[list[Word]]  # headline first, then sub-headline / kicker / byline lines
    paragraphs: list[list[Word]]  # body paragraphs (tagged words)
    start: int  # index of the headline's line in the corpus
    day: int = 0  # edition day (1-31), see edition_days()

    @property
    def headline(self) -> str:
        return clean_headline(words_text(self.headings[0]))

    @property
    def headline_words(self) -> list[Word]:
        """The headline's tagged words without the words of a picture note."""
        return drop_picture_note(self.headings[0])

    @property
    def body(self) -> list[str]:
        return [words_text(p) for p in self.paragraphs]


def drop_picture_note(words: Sequence[Word]) -> list[Word]:
    """Tagged words of a headline without those inside a note such as （附图片１张）."""
    spans = [m.span() for m in _PICTURE_NOTE.finditer(words_text(words))]
    out, pos = [], 0
    for w, t in words:
        if not any(a <= pos < b for a, b in spans):
            out.append((w, t))
        pos += len(w)
    return out


def segment_articles(lines: Sequence[Sequence[Word]], min_paragraphs: int = 1) -> list[Article]:
    """Cut the corpus into articles.

    A run of heading lines starts an article (the first one is the headline); the
    paragraphs that follow are its body, until the next heading line. Remarks are
    skipped. Articles with fewer than ``min_paragraphs`` body paragraphs are dropped.
    """
    if isinstance(lines, str):
        raise TypeError("segment_articles expects the tagged lines (corpus.lines), not a string")
    if min_paragraphs < 1:
        raise ValueError(f"min_paragraphs must be at least 1, got {min_paragraphs}")
    articles: list[Article] = []
    current: Article | None = None
    for index, line in enumerate(lines):
        if len(line) == 0:
            continue
        if isinstance(line, str) or not isinstance(line[0], tuple):
            raise TypeError("each line must be a list of (word, tag) pairs, as in data.load('peoples_daily').lines")
        kind = line_kind(words_text(line))
        if kind == "remark":
            continue
        if kind == "heading":
            if current is None or current.paragraphs:
                current = Article(headings=[list(line)], paragraphs=[], start=index)
                articles.append(current)
            else:
                current.headings.append(list(line))
        elif current is not None:
            current.paragraphs.append(list(line))
    return [a for a in articles if len(a.paragraphs) >= min_paragraphs and a.headline]


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_WEATHER = re.compile(r"^明天气象预报（(?:\d+年)?(?:元月|\d+月)?(\d+)日")


def edition_days(texts: Sequence[str]) -> np.ndarray:
    """The edition day of each line, read from the daily weather box.

    Every edition prints one "明天气象预报（１月Ｄ日２０时—…）" box, so the day of a line
    is the D of the last box at or before it (1 before the first box). The box sits in
    the middle of an edition: the lines just before it belong to the same day, so a
    day's number is right to within one edition at its boundaries.
    """
    days = np.empty(len(texts), dtype=np.int64)
    day = 1
    for i, text in enumerate(texts):
        match = _WEATHER.match(text.translate(_FULLWIDTH_DIGITS))
        if match:
            day = int(match.group(1))
        days[i] = day
    return days


def split_by_day(articles: Sequence[Article], val_days: tuple[int, int], test_days: tuple[int, int]):
    """Indices (train, val, test) of articles by edition day; ``val_days``/``test_days``
    are inclusive ranges. Train is every day before the validation range; days between
    the ranges are left out as a gap."""
    (v0, v1), (t0, t1) = val_days, test_days
    if not v0 <= v1 < t0 <= t1:
        raise ValueError(f"need val_days before test_days, got {val_days} and {test_days}")
    days = np.array([a.day for a in articles])
    train = np.flatnonzero(days < v0 - 1)
    val = np.flatnonzero((days >= v0) & (days <= v1))
    test = np.flatnonzero((days >= t0) & (days <= t1))
    return train, val, test


# --- datelines, sentences, leads ------------------------------------------------------------

_NUM = "0-9０-９一二三四五六七八九十〇零"
DATELINE = re.compile(
    r"^(?:据)?(?:本报|新华社|中新社)"  # the agency
    rf"[^，。：；“”（）\s记]{{0,10}}?(?:(?:[{_NUM}]+月)?[{_NUM}]+日)?"  # place and date, both optional
    r"(?:专)?(?:电|讯)"
    r"(?:（[^（）]{0,40}）)?"  # （记者…）
    r"(?:(?:本报|新华社|中新社)?(?:特约)?记者[^，。：；（）]{0,40}?报道：)?"  # 记者…报道：
)


def strip_dateline(text: str) -> str:
    """Remove a leading news dateline such as "本报北京１月１日讯记者…报道：",
    "新华社北京１２月３１日电（记者…）" or "据新华社…电"; other text is returned unchanged."""
    if not isinstance(text, str):
        raise TypeError(f"strip_dateline expects a string, got {type(text).__name__}")
    return text[DATELINE.match(text).end():] if DATELINE.match(text) else text


def strip_dateline_words(words: Sequence[Word]) -> list[Word]:
    """:func:`strip_dateline` on tagged words: drop the words that start inside the dateline."""
    text = words_text(words)
    cut = len(text) - len(strip_dateline(text))
    out, pos = [], 0
    for w, t in words:
        if pos >= cut:
            out.append((w, t))
        pos += len(w)
    return out


SENTENCE_END = "。！？"


def split_sentences(words: Sequence[Word]) -> list[list[Word]]:
    """Cut tagged words into sentences after 。！？ (closing quotes stay with their sentence)."""
    sentences, current, i = [], [], 0
    while i < len(words):
        current.append(tuple(words[i]))
        if words[i][0] and words[i][0][-1] in SENTENCE_END:
            while i + 1 < len(words) and words[i + 1][0] and words[i + 1][0] in CLOSERS:
                i += 1
                current.append(tuple(words[i]))
            sentences.append(current)
            current = []
        i += 1
    if current:
        sentences.append(current)
    return sentences


def lead_words(article: Article, dateline: bool = False) -> list[Word]:
    """The first sentence of the body, as tagged words, with its dateline removed (unless
    ``dateline=True``)."""
    first = article.paragraphs[0] if dateline else strip_dateline_words(article.paragraphs[0])
    sentences = split_sentences(first)
    return sentences[0] if sentences else []


def lead_sentence(article: Article, dateline: bool = False) -> str:
    """The lead sentence as text (see :func:`lead_words`)."""
    return words_text(lead_words(article, dateline))


def body_sentences(article: Article) -> list[list[Word]]:
    """All sentences of the body (the first paragraph without its dateline)."""
    out = []
    for k, p in enumerate(article.paragraphs):
        out.extend(s for s in split_sentences(strip_dateline_words(p) if k == 0 else p) if rouge_tokens(words_text(s)))
    return out


# --- ROUGE ----------------------------------------------------------------------------------

def rouge_tokens(text: str) -> list[str]:
    """ROUGE's tokens for Chinese: one per character, after NFKC normalisation (full-width
    digits and letters become ASCII), with punctuation, symbols and spaces dropped."""
    if not isinstance(text, str):
        raise TypeError(f"rouge_tokens expects a string, got {type(text).__name__}")
    return [ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch)[0] in "LN"]


def _tokens(x, what: str) -> list[str]:
    if isinstance(x, str):
        return rouge_tokens(x)
    if isinstance(x, (list, tuple)) and all(isinstance(t, str) for t in x):
        return list(x)
    raise TypeError(f"{what} must be a string (scored by character) or a list of string tokens, "
                    f"got {type(x).__name__}")


@dataclass(frozen=True)
class Score:
    """Precision, recall and F1 of one candidate against one reference."""

    precision: float
    recall: float
    f1: float

    @classmethod
    def from_counts(cls, overlap: float, n_candidate: int, n_reference: int) -> "Score":
        p = overlap / n_candidate if n_candidate else 0.0
        r = overlap / n_reference if n_reference else 0.0
        return cls(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (tuples) of a token list."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def rouge_n(candidate, reference, n: int = 1) -> Score:
    """ROUGE-N: overlap of n-gram counts (each n-gram counted at most as often as in the
    other text). Recall divides by the reference's n-grams, precision by the candidate's.
    Strings are scored by character (:func:`rouge_tokens`); lists of tokens as given."""
    c, r = ngrams(_tokens(candidate, "candidate"), n), ngrams(_tokens(reference, "reference"), n)
    return Score.from_counts(sum((c & r).values()), sum(c.values()), sum(r.values()))


def lcs_length(a: Sequence, b: Sequence) -> int:
    """Length of the longest common subsequence (in order, not necessarily contiguous),
    by dynamic programming: L[i][j] = L[i-1][j-1] + 1 if a[i] == b[j], else
    max(L[i-1][j], L[i][j-1]). O(len(a) len(b)) time, one row of memory."""
    for x, name in ((a, "a"), (b, "b")):
        if not isinstance(x, (str, list, tuple)):
            raise TypeError(f"lcs_length expects strings or lists, got {type(x).__name__} for {name}")
    if len(b) > len(a):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate, reference) -> Score:
    """ROUGE-L: the longest common subsequence over the candidate's length (precision) and
    the reference's (recall), and their harmonic mean (F1, i.e. beta = 1)."""
    c, r = _tokens(candidate, "candidate"), _tokens(reference, "reference")
    return Score.from_counts(lcs_length(c, r), len(c), len(r))


METRICS = ("rouge1", "rouge2", "rougeL")


def rouge_all(candidates: Sequence, references: Sequence) -> dict[str, Score]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L (precision, recall, F1 averaged over pairs)."""
    if isinstance(candidates, str) or isinstance(references, str):
        raise TypeError("rouge_all expects lists of candidates and references; use rouge_n for one pair")
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references")
    if len(candidates) == 0:
        raise ValueError("rouge_all needs at least one pair")
    out = {}
    for name, fn in (("rouge1", lambda c, r: rouge_n(c, r, 1)), ("rouge2", lambda c, r: rouge_n(c, r, 2)),
                     ("rougeL", rouge_l)):
        scores = [fn(c, r) for c, r in zip(candidates, references)]
        out[name] = Score(*(float(np.mean([getattr(s, k) for s in scores])) for k in ("precision", "recall", "f1")))
    return out


# --- baselines ---------------------------------------------------------------------------

def lead_chars(text: str, n: int) -> str:
    """The shortest prefix of ``text`` that holds ``n`` ROUGE tokens (characters that are
    not punctuation): the lead-N baseline."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    count = 0
    for i, ch in enumerate(text):
        if count == n:
            return text[:i]
        count += len(rouge_tokens(ch)) > 0
    return text


def overlap_similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """TextRank's sentence similarity (Mihalcea & Tarau 2004): shared words divided by
    log|a| + log|b| (0 when that is 0)."""
    if not a or not b:
        return 0.0
    denominator = math.log(len(a)) + math.log(len(b))
    return len(set(a) & set(b)) / denominator if denominator > 0 else 0.0


def similarity_graph(sentences: Sequence[Sequence[str]]) -> np.ndarray:
    """Symmetric weight matrix W[i, j] = overlap_similarity(s_i, s_j), zero diagonal."""
    n = len(sentences)
    W = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            W[i, j] = W[j, i] = overlap_similarity(sentences[i], sentences[j])
    return W


def google_matrix(W, damping: float = 0.85) -> np.ndarray:
    """Column-stochastic matrix G = (1 - d)/n 11ᵀ + d M, where M normalises each column of
    W to sum 1 (a node without edges links to every node). PageRank is G's eigenvector
    for the eigenvalue 1."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(f"W must be a non-empty square matrix, got shape {W.shape}")
    if (W < 0).any():
        raise ValueError("W must have non-negative weights")
    if not 0 <= damping < 1:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    n = len(W)
    sums = W.sum(axis=0)
    M = np.where(sums > 0, W / np.where(sums > 0, sums, 1), 1.0 / n)
    return (1 - damping) / n + damping * M


def pagerank(W, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 1000) -> tuple[np.ndarray, int]:
    """PageRank scores (summing to 1) by power iteration r <- G r, and the number of
    steps it took. Converges because G's other eigenvalues are at most d in size."""
    G = google_matrix(W, damping)
    n = len(G)
    r = np.full(n, 1.0 / n)
    for step in range(1, max_iter + 1):
        r_next = G @ r
        if np.abs(r_next - r).sum() < tol:
            return r_next, step
        r = r_next
    raise ValueError(f"PageRank did not converge in {max_iter} steps")


def content_words(words: Sequence[Word]) -> list[str]:
    """Words without punctuation (PKU tag w), for TextRank's overlap."""
    return [w for w, t in words if t != "w"]


def textrank(article: Article, damping: float = 0.85) -> tuple[list[list[Word]], np.ndarray]:
    """The body's sentences and their TextRank scores."""
    sentences = body_sentences(article)
    if len(sentences) == 0:
        raise ValueError("the article has no sentences")
    if len(sentences) == 1:
        return sentences, np.ones(1)
    scores, _ = pagerank(similarity_graph([content_words(s) for s in sentences]), damping)
    return sentences, scores


# --- the trained model: keep/drop tagging of the lead sentence ----------------------------

def keep_labels(lead: Sequence[Word], headline: Sequence[Word]) -> np.ndarray:
    """Keep (1) / drop (0) targets for the lead's words, derived from the headline.

    A lead word is kept if it is a headline word (punctuation never), each headline word
    used at most once and in the headline's order: the words on a longest common
    subsequence of the two word lists, taking the earliest lead words on ties. Plain
    "occurs in the headline" would keep every 的 and every repeat of a name.
    """
    a = [w if t != "w" else None for w, t in lead]
    b = [w for w, t in headline if t != "w"]
    # suffix table: L[i][j] = LCS length of a[i:] and b[j:]
    L = np.zeros((len(a) + 1, len(b) + 1), dtype=np.int64)
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            L[i, j] = L[i + 1, j + 1] + 1 if a[i] is not None and a[i] == b[j] else max(L[i + 1, j], L[i, j + 1])
    labels = np.zeros(len(a), dtype=np.int64)
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] is not None and a[i] == b[j] and L[i, j] == L[i + 1, j + 1] + 1:
            labels[i] = 1
            i, j = i + 1, j + 1
        elif L[i + 1, j] >= L[i, j + 1]:
            i += 1
        else:
            j += 1
    return labels


FREQ_BUCKETS = (0, 1, 2, 3, 5, 8)  # occurrences of a word in the rest of the body
N_POSITION_BUCKETS = 8


def word_features(lead: Sequence[Word], rest_counts: Counter) -> np.ndarray:
    """Two small integer features per lead word: how often it occurs in the rest of the
    body (bucketed by ``FREQ_BUCKETS``) and its relative position in the lead (8 buckets)."""
    n = len(lead)
    freq = [int(np.searchsorted(FREQ_BUCKETS, rest_counts.get(w, 0), side="right")) for w, _ in lead]
    pos = [min(N_POSITION_BUCKETS - 1, int(N_POSITION_BUCKETS * i / max(n, 1))) for i in range(n)]
    return np.stack([freq, pos], axis=1).astype(np.int64)


@dataclass
class Example:
    """One training example: the lead's words, their keep labels and features."""

    words: list[Word]
    labels: np.ndarray
    features: np.ndarray
    headline: str
    article: Article = field(repr=False, default=None)


def make_example(article: Article, max_words: int = 60) -> Example:
    """The lead sentence (at most ``max_words`` words), labels from the headline, features
    counted in the rest of the body."""
    lead = lead_words(article)[:max_words]
    rest = Counter(w for p in article.paragraphs[1:] for w, t in p if t != "w")
    return Example(lead, keep_labels(lead, article.headline_words), word_features(lead, rest),
                   article.headline, article)


def encode_examples(examples: Sequence[Example], word_vocab, tag_vocab, max_len: int | None = None):
    """(X, y) tensors: X (batch, length, 4) int64 = word id, tag id, frequency bucket,
    position bucket (word id 0 = padding); y (batch, length) float, -1 at padding."""
    import torch

    if len(examples) == 0:
        raise ValueError("encode_examples needs at least one example")
    width = max(len(e.words) for e in examples) if max_len is None else max_len
    X = np.zeros((len(examples), width, 4), dtype=np.int64)
    y = np.full((len(examples), width), -1.0, dtype=np.float32)
    for i, e in enumerate(examples):
        n = min(len(e.words), width)
        if n == 0:
            raise ValueError(f"example {i} has no words")
        X[i, :n, 0] = word_vocab.encode([w for w, _ in e.words[:n]])
        X[i, :n, 1] = tag_vocab.encode([t for _, t in e.words[:n]])
        X[i, :n, 2:] = e.features[:n]
        y[i, :n] = e.labels[:n]
    return torch.from_numpy(X), torch.from_numpy(y)


def masked_bce(logits, y):
    """Binary cross-entropy over the real words only (targets -1 mark padding)."""
    import torch.nn.functional as F

    if logits.shape != y.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and targets {tuple(y.shape)} must have the same shape")
    mask = y >= 0
    if not mask.any():
        raise ValueError("the batch has no real words (all targets are -1)")
    return F.binary_cross_entropy_with_logits(logits[mask], y[mask])


def keep_accuracy(logits, y) -> float:
    """Share of real words whose keep/drop decision (p >= 0.5) matches the label."""
    mask = y >= 0
    return ((logits[mask] > 0).float() == y[mask]).float().mean().item()


def _make_tagger():
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    class KeepTagger(nn.Module):
        """Embeddings of word, tag and the two features -> BiGRU -> one keep logit per word.

        Input X: (batch, length, 4) int64 as made by :func:`encode_examples`; output
        (batch, length) logits. Padded positions (word id 0) are packed away, so the
        backward GRU starts at each sentence's real last word.
        """

        def __init__(self, n_words: int, n_tags: int, word_dim: int = 64, tag_dim: int = 16,
                     feature_dim: int = 8, hidden: int = 64, dropout: float = 0.3):
            super().__init__()
            self.word = nn.Embedding(n_words, word_dim, padding_idx=0)
            self.tag = nn.Embedding(n_tags, tag_dim, padding_idx=0)
            self.freq = nn.Embedding(len(FREQ_BUCKETS) + 1, feature_dim)
            self.pos = nn.Embedding(N_POSITION_BUCKETS, feature_dim)
            self.dropout = nn.Dropout(dropout)
            self.gru = nn.GRU(word_dim + tag_dim + 2 * feature_dim, hidden, batch_first=True, bidirectional=True)
            self.out = nn.Linear(2 * hidden, 1)

        def forward(self, X):
            if X.ndim != 3 or X.shape[-1] != 4:
                raise ValueError(f"KeepTagger expects X of shape (batch, length, 4), got {tuple(X.shape)}")
            lengths = (X[..., 0] != 0).sum(dim=1)
            if (lengths == 0).any():
                raise ValueError("every sequence needs at least one word (word id 0 is padding)")
            e = torch.cat([self.word(X[..., 0]), self.tag(X[..., 1]), self.freq(X[..., 2]), self.pos(X[..., 3])], -1)
            packed = pack_padded_sequence(self.dropout(e), lengths.cpu(), batch_first=True, enforce_sorted=False)
            h, _ = self.gru(packed)
            h, _ = pad_packed_sequence(h, batch_first=True, total_length=X.shape[1])
            return self.out(self.dropout(h)).squeeze(-1)

    return KeepTagger


def __getattr__(name):  # KeepTagger is built on first use, so importing this module does not import torch
    if name == "KeepTagger":
        cls = _make_tagger()
        globals()["KeepTagger"] = cls
        return cls
    raise AttributeError(f"module 'utils.summarize' has no attribute {name!r}")


def compress(words: Sequence[Word], probs, threshold: float = 0.5) -> str:
    """The words whose keep probability is at least ``threshold``, in order, as text."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape != (len(words),):
        raise ValueError(f"need one probability per word: {len(words)} words, probs of shape {probs.shape}")
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    return "".join(w for (w, _), p in zip(words, probs) if p >= threshold)
