"""Checkers for section 6.6 (a small BERT and question answering: F1, masking, spans, BM25)."""
from __future__ import annotations

import math
import unicodedata
from collections import Counter

import numpy as np

from utils.checks import Wrong, exercise, not_close, number


def _tokens(s: str) -> list[str]:
    return [ch.lower() for ch in unicodedata.normalize("NFKC", s) if unicodedata.category(ch)[0] in "LN"]


def _f1(prediction: str, gold: str) -> float:
    p, g = Counter(_tokens(prediction)), Counter(_tokens(gold))
    if not p or not g:
        return float(p == g)
    shared = sum((p & g).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(p.values()), shared / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def _number(value, what: str) -> float:
    return number(value, what)


# --- 6.6 A small BERT and question answering -------------------------------------------------

@exercise("6.6.1", "SQuAD token F1 of a predicted answer")
def _check_squad_f1(squad_f1) -> str:
    cases = [("李鹏", "李鹏"), ("李鹏总理", "李鹏"), ("鹏", "李鹏"), ("北京", "李鹏"), ("国务院办公厅", "国务院"),
             ("１９９８年", "1998年"), ("“国务院”", "国务院"), ("江 泽民", "江泽民"), ("ABC", "abc"),
             ("北北京", "北京"), ("京北", "北京市"), ("", "李鹏"), ("", "")]
    for pred, gold in cases:
        got = _number(squad_f1(pred, gold), f"squad_f1({pred!r}, {gold!r})")
        expected = _f1(pred, gold)
        if math.isclose(got, expected, abs_tol=1e-9):
            continue
        p, g = Counter(_tokens(pred)), Counter(_tokens(gold))
        shared = sum((p & g).values())
        ps, gs = set(p), set(g)
        if ps & gs and math.isclose(got, 2 * len(ps & gs) / (len(ps) + len(gs))):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) should be {expected:.4f}, got {got:.4f}: count shared "
                        "characters as a multiset, min(count in prediction, count in gold) each, not as sets")
        if p and g and shared and math.isclose(got, shared / sum(p.values())) and not math.isclose(expected, got):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) = {got:.4f} is the precision; F1 is the harmonic mean "
                        f"of precision and recall, here {expected:.4f} (the check allows an absolute difference of 1e-09)")
        if p and g and shared and math.isclose(got, shared / sum(g.values())):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) = {got:.4f} is the recall; F1 is the harmonic mean "
                        f"of precision and recall, here {expected:.4f} (the check allows an absolute difference of 1e-09)")
        if got in (0.0, 1.0) and expected not in (0.0, 1.0):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) should be {expected:.4f}, got {got:g}: that is exact match; "
                        "F1 gives partial credit for shared characters")
        raw = Counter(pred) & Counter(gold)
        if _tokens(pred) != list(pred.lower()) or _tokens(gold) != list(gold.lower()):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) should be {expected:.4f}, got {got:.4f}: normalise both strings "
                        "first (NFKC, lower case, drop punctuation and spaces; qa.normalize_answer does it)")
        if sum(raw.values()) and len(set(pred) & set(gold)) != sum(raw.values()):
            raise Wrong(f"squad_f1({pred!r}, {gold!r}) should be {expected:.4f}, got {got:.4f}: count shared "
                        "characters as a multiset, min(count in prediction, count in gold) each")
        raise not_close(f"squad_f1({pred!r}, {gold!r})", got, expected, atol=1e-9)
    return f"{len(cases)} answer pairs, with partial overlaps, normalisation and empty strings"


def _bert_mask_stats(inputs, labels, ids, mask_id, first_normal, vocab_size):
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.shape != ids.shape or labels.shape != ids.shape:
        raise Wrong(f"bert_mask must return (inputs, labels), each of the input's shape {ids.shape}; "
                    f"got {inputs.shape} and {labels.shape}")
    return inputs, labels


@exercise("6.6.2", "BERT's masking rule")
def _check_bert_mask(bert_mask) -> str:
    V, first, mask_id = 500, 9, 4
    rng = np.random.default_rng(0)
    ids = rng.integers(first, V, size=(1000, 60))
    ids[:, 0], ids[:, -3] = 2, 5  # [CLS] and [SEP]
    ids[:, -2:] = 0  # padding
    out = bert_mask(ids.copy(), np.random.default_rng(1), mask_id, V, first)
    if not isinstance(out, tuple) or len(out) != 2:
        raise Wrong("bert_mask must return a pair (inputs, labels)")
    inputs, labels = _bert_mask_stats(*out, ids, mask_id, first, V)
    special = ids < first
    if (labels[special] != -100).any() or (inputs[special] != ids[special]).any():
        raise Wrong("a special token ([CLS], [SEP], padding: ids below first_normal) was chosen; only ordinary "
                    "tokens may be masked or predicted")
    chosen = labels != -100
    if (labels[chosen] != ids[chosen]).any():
        raise Wrong("labels must hold the ORIGINAL token at chosen positions (and -100 elsewhere)")
    if (inputs[~chosen] != ids[~chosen]).any():
        raise Wrong("a position that was not chosen (label -100) was changed; only chosen positions change")
    n_normal = (~special).sum()
    share = chosen.sum() / n_normal
    sd = math.sqrt(0.15 * 0.85 / n_normal)
    if abs(share - 0.15) > 5 * sd:
        raise Wrong(f"{share:.4f} of the ordinary tokens were chosen; it should be 0.15 (the check allows "
                    f"{5 * sd:.4f}, five standard deviations)" +
                    ("; labels must be -100 where nothing is predicted" if share > 0.5 else ""))
    n = chosen.sum()
    as_mask = (inputs[chosen] == mask_id).mean()
    kept = (inputs[chosen] == ids[chosen]).mean()
    as_random = 1 - as_mask - kept
    tol = 5 * math.sqrt(0.16 / n)
    if abs(as_mask - 0.8) > tol:
        raise Wrong(f"{as_mask:.4f} of the chosen positions became [MASK]; it should be 0.8 (the check allows "
                    f"{tol:.4f}); the other 20% are half a random token, half unchanged")
    if abs(kept - 0.1) > 5 * math.sqrt(0.09 / n) + 0.002 or abs(as_random - 0.1) > 5 * math.sqrt(0.09 / n) + 0.002:
        raise Wrong(f"of the chosen positions {as_random:.4f} became a random token and {kept:.4f} stayed "
                    "unchanged; each should be 0.1 (the check allows five standard deviations)")
    randoms = inputs[chosen & (inputs != mask_id) & (inputs != ids)]
    if len(randoms) and (randoms < first).any():
        raise Wrong("a random replacement was a special token: draw random tokens from first_normal..vocab_size-1")
    if len(randoms) and np.unique(randoms).size < 0.5 * min(len(randoms), V - first):
        raise Wrong(f"the random replacements take only {np.unique(randoms).size} distinct values: draw each one "
                    "uniformly from the ordinary tokens")
    return (f"on {n_normal:,} ordinary tokens: chosen {share:.4f}; of those [MASK] {as_mask:.4f}, random "
            f"{as_random:.4f}, unchanged {kept:.4f}; specials never touched")


def _best_span(s, e, max_len):
    best, arg = -np.inf, None
    for i in range(len(s)):
        for j in range(i, min(len(s), i + max_len)):
            if s[i] + e[j] > best:
                best, arg = s[i] + e[j], (i, j)
    return arg


@exercise("6.6.3", "The best answer span from start and end scores")
def _check_best_span(best_span) -> str:
    rng = np.random.default_rng(0)
    cases = [(np.array([0.0, 3.0, 0.0, 0.0]), np.array([5.0, 0.0, 0.0, 1.0]), 4),  # the best end is before the start
             (np.array([4.0, 0.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 0.0, 9.0]), 3),  # too long
             (np.array([-np.inf, 1.0, 2.0, -np.inf]), np.array([-np.inf, 0.5, 0.0, -np.inf]), 5)]
    cases += [(rng.normal(size=n), rng.normal(size=n), int(rng.integers(1, 6))) for n in rng.integers(2, 30, 40)]
    for s, e, L in cases:
        got = best_span(s.copy(), e.copy(), L)
        try:
            i, j = int(got[0]), int(got[1])
        except (TypeError, ValueError, IndexError):
            raise Wrong(f"best_span must return a pair (i, j) of positions, got {got!r}")
        want = _best_span(s, e, L)
        if (i, j) == want:
            continue
        if j < i:
            raise Wrong(f"best_span returned start {i} after end {j}: the end may not come before the start "
                        "(taking the two argmaxes separately does this)")
        if j - i + 1 > L:
            raise Wrong(f"best_span returned a span of {j - i + 1} positions; at most max_len={L} are allowed")
        if (i, j + 1) == want or (i, j) == (want[0], want[1] + 1):
            raise Wrong(f"best_span returned {(i, j)}, expected {want}: the end position is inclusive")
        raise Wrong(f"for start scores {np.round(s, 3).tolist()} and end scores {np.round(e, 3).tolist()} with "
                    f"max_len={L} the best span is {want} (score {s[want[0]] + e[want[1]]:.4f}); you returned "
                    f"{(i, j)}")
    return f"{len(cases)} score vectors, including an end before the start, a too-long span and -inf scores"


def _bm25(doc, query, docs, k1, b):
    N, avgdl = len(docs), sum(len(d) for d in docs) / len(docs)
    score = 0.0
    for t in query:
        n_t = sum(t in d for d in docs)
        idf = math.log(1 + (N - n_t + 0.5) / (n_t + 0.5))
        f = doc.count(t)
        score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(doc) / avgdl))
    return score


@exercise("6.6.4", "BM25 score of one document")
def _check_bm25(bm25_score) -> str:
    docs = [list("aabcd"), list("bbbbbbbbce"), list("cf"), list("aggh"), list("b")]
    queries = [list("a"), list("b"), list("ab"), list("bb"), list("z"), list("ca")]
    n = 0
    for k1, b in ((1.2, 0.75), (2.0, 0.0), (0.5, 1.0)):
        for q in queries:
            for d in docs:
                got = _number(bm25_score(d, q, docs, k1=k1, b=b), f"bm25_score({''.join(d)!r}, {''.join(q)!r})")
                want = _bm25(d, q, docs, k1, b)
                n += 1
                if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
                    continue
                where = f"bm25_score({''.join(d)!r}, query {''.join(q)!r}, k1={k1}, b={b})"
                no_plus_one = sum(math.log((len(docs) - sum(t in x for x in docs) + 0.5) /
                                           (sum(t in x for x in docs) + 0.5)) * d.count(t) * (k1 + 1) /
                                  (d.count(t) + k1 * (1 - b + b * len(d) / (sum(map(len, docs)) / len(docs))))
                                  for t in q)
                if math.isclose(got, no_plus_one, rel_tol=1e-9):
                    raise Wrong(f"{where}: your idf is ln((N - n + 0.5)/(n + 0.5)), negative for common terms; "
                                "use ln(1 + (N - n + 0.5)/(n + 0.5))")
                if b > 0 and math.isclose(got, _bm25(d, q, docs, k1, 0.0), rel_tol=1e-9):
                    raise Wrong(f"{where}: the document length is ignored; the denominator has "
                                "k1 (1 - b + b |D| / avgdl)")
                if math.isclose(got, _bm25(d, list(dict.fromkeys(q)), docs, k1, b), rel_tol=1e-9):
                    raise Wrong(f"{where}: a term repeated in the query counts once per occurrence")
                raise not_close(where, got, want, rtol=1e-9, atol=1e-12)
    return f"{n} (document, query, k1, b) combinations equal the formula"
