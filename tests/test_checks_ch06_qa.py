"""Each checker of section 6.6 accepts the reference answer and rejects plausible mistakes."""
import math
from collections import Counter

import numpy as np
import pytest
from checker_contract import contract_tests

from utils import qa
from utils.checks import NOT_ATTEMPTED, evaluate


def squad_f1(prediction, gold):
    p, g = Counter(qa.normalize_answer(prediction)), Counter(qa.normalize_answer(gold))
    if not p or not g:
        return float(p == g)
    shared = sum((p & g).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(p.values()), shared / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def bert_mask(ids, rng, mask_id, vocab_size, first_normal):
    chosen = (ids >= first_normal) & (rng.random(ids.shape) < 0.15)
    u = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (u < 0.8)] = mask_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    inputs[rand] = rng.integers(first_normal, vocab_size, size=int(rand.sum()))
    return inputs, np.where(chosen, ids, -100)


def best_span(start, end, max_len):
    T = len(start)
    score = np.full((T, T), -np.inf)
    for i in range(T):
        for j in range(i, min(T, i + max_len)):
            score[i, j] = start[i] + end[j]
    flat = int(np.argmax(score))
    return flat // T, flat % T


def bm25_score(doc, query, docs, k1=1.2, b=0.75):
    N, avgdl = len(docs), np.mean([len(d) for d in docs])
    total = 0.0
    for t in query:
        n = sum(t in d for d in docs)
        f = doc.count(t)
        total += math.log(1 + (N - n + 0.5) / (n + 0.5)) * f * (k1 + 1) / (f + k1 * (1 - b + b * len(doc) / avgdl))
    return total


REFERENCE = {"6.6.1": squad_f1, "6.6.2": bert_mask, "6.6.3": best_span, "6.6.4": bm25_score}


def _precision(prediction, gold):
    p, g = Counter(qa.normalize_answer(prediction)), Counter(qa.normalize_answer(gold))
    shared = sum((p & g).values())
    return shared / sum(p.values()) if p else float(not g)


def _recall(prediction, gold):
    p, g = Counter(qa.normalize_answer(prediction)), Counter(qa.normalize_answer(gold))
    shared = sum((p & g).values())
    return shared / sum(g.values()) if g else float(not p)


def _raw_f1(prediction, gold):
    p, g = Counter(prediction), Counter(gold)
    shared = sum((p & g).values())
    if not shared:
        return float(p == g)
    pr, rc = shared / len(prediction), shared / len(gold)
    return 2 * pr * rc / (pr + rc)


def _set_f1(prediction, gold):
    p, g = set(qa.normalize_answer(prediction)), set(qa.normalize_answer(gold))
    if not p or not g:
        return float(p == g)
    shared = len(p & g)
    if not shared:
        return 0.0
    pr, rc = shared / len(p), shared / len(g)
    return 2 * pr * rc / (pr + rc)


def _mask_specials(ids, rng, mask_id, vocab_size, first_normal):
    chosen = rng.random(ids.shape) < 0.15
    inputs = ids.copy()
    inputs[chosen] = mask_id
    return inputs, np.where(chosen, ids, -100)


def _always_mask(ids, rng, mask_id, vocab_size, first_normal):
    chosen = (ids >= first_normal) & (rng.random(ids.shape) < 0.15)
    inputs = ids.copy()
    inputs[chosen] = mask_id
    return inputs, np.where(chosen, ids, -100)


def _labels_everywhere(ids, rng, mask_id, vocab_size, first_normal):
    inputs, _ = bert_mask(ids, rng, mask_id, vocab_size, first_normal)
    return inputs, ids.copy()


def _random_from_all(ids, rng, mask_id, vocab_size, first_normal):
    chosen = (ids >= first_normal) & (rng.random(ids.shape) < 0.15)
    u = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (u < 0.8)] = mask_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    inputs[rand] = rng.integers(0, first_normal, size=int(rand.sum()))
    return inputs, np.where(chosen, ids, -100)


def _thirty_percent(ids, rng, mask_id, vocab_size, first_normal):
    chosen = (ids >= first_normal) & (rng.random(ids.shape) < 0.3)
    u = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (u < 0.8)] = mask_id
    rand = chosen & (u >= 0.8) & (u < 0.9)
    inputs[rand] = rng.integers(first_normal, vocab_size, size=int(rand.sum()))
    return inputs, np.where(chosen, ids, -100)


def _independent_argmax(start, end, max_len):
    return int(np.argmax(start)), int(np.argmax(end))


def _no_max_len(start, end, max_len):
    return best_span(start, end, len(start))


def _exclusive_end(start, end, max_len):
    i, j = best_span(start, end, max_len)
    return i, j + 1


def _no_plus_one(doc, query, docs, k1=1.2, b=0.75):
    N, avgdl = len(docs), np.mean([len(d) for d in docs])
    total = 0.0
    for t in query:
        n = sum(t in d for d in docs)
        f = doc.count(t)
        total += math.log((N - n + 0.5) / (n + 0.5)) * f * (k1 + 1) / (f + k1 * (1 - b + b * len(doc) / avgdl))
    return total


WRONG = [
    ("6.6.1", _precision, "precision"),
    ("6.6.1", _recall, "recall"),
    ("6.6.1", lambda p, g: float(qa.normalize_answer(p) == qa.normalize_answer(g)), "exact match"),
    ("6.6.1", _raw_f1, "normalise"),
    ("6.6.1", _set_f1, "multiset"),
    ("6.6.1", lambda p, g: 0.5, "should be"),
    ("6.6.2", _mask_specials, "special token"),
    ("6.6.2", _always_mask, "[MASK]"),
    ("6.6.2", _labels_everywhere, "chosen"),
    ("6.6.2", _random_from_all, "special token"),
    ("6.6.2", _thirty_percent, "should be 0.15"),
    ("6.6.2", lambda ids, rng, m, v, f: ids, "pair"),
    ("6.6.3", _independent_argmax, "before the start"),
    ("6.6.3", _no_max_len, "max_len"),
    ("6.6.3", _exclusive_end, "inclusive"),
    ("6.6.3", lambda s, e, L: (0, 0), "the best span is"),
    ("6.6.4", _no_plus_one, "ln(1 +"),
    ("6.6.4", lambda d, q, docs, k1=1.2, b=0.75: bm25_score(d, q, docs, k1, 0.0), "length"),
    ("6.6.4", lambda d, q, docs, k1=1.2, b=0.75: bm25_score(d, list(dict.fromkeys(q)), docs, k1, b), "repeated"),
    ("6.6.4", lambda d, q, docs, k1=1.2, b=0.75: 1.5 * bm25_score(d, q, docs, k1, b), "should be"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    assert evaluate("6.6.1", lambda p, g: qa.f1_score(p, g)).passed
    assert evaluate("6.6.2", lambda ids, rng, m, v, f: qa.bert_mask(ids, rng, m, v, f)).passed
    assert evaluate("6.6.3", lambda s, e, L: qa.best_span(s, e, L)[:2]).passed
    assert evaluate("6.6.4", lambda d, q, docs, k1=1.2, b=0.75:
                    qa.BM25(docs, k1, b).scores(q)[[i for i, x in enumerate(docs) if x is d][0]]).passed
