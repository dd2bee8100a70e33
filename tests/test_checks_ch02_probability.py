"""Each checker of section 2.3 accepts the reference answer and rejects plausible mistakes."""
import dataclasses
import math

import numpy as np

from checker_contract import contract_tests
from utils import prob
from utils.checks import ch02_probability as ch


def ppv(prevalence, sensitivity, specificity):
    tp = sensitivity * prevalence
    return tp / (tp + (1 - specificity) * (1 - prevalence))


def stationary(P):
    P = np.asarray(P, dtype=float)
    A = P.T - np.eye(len(P))
    A[-1] = 1.0
    b = np.zeros(len(P))
    b[-1] = 1.0
    return np.linalg.solve(A, b)


def entropy_bits(T, logits=ch.EXERCISE_LOGITS):
    return prob.entropy(prob.softmax(logits, temperature=T), base=2)


def bisect(f, target, lo=1e-3, hi=1e3):
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return math.sqrt(lo * hi)


T_1BIT = bisect(entropy_bits, 1.0)
T_1NAT = bisect(entropy_bits, 1 / math.log(2))
T_INVERTED = 1 / T_1BIT  # the learner multiplied the logits by T

def choose_model(train_text, valid_text, orders, ks):
    vocab = sorted(set(train_text + valid_text))
    scores = {}
    for order in orders:
        counted = prob.markov_ngram_model(train_text, order, vocab=vocab)
        for k in ks:
            scores[order, k] = dataclasses.replace(counted, k=k).cross_entropy(valid_text)
    return min(scores, key=scores.get)


def choose_on_training_text(train_text, valid_text, orders, ks):
    return choose_model(train_text, train_text, orders, ks)


def choose_the_worst(train_text, valid_text, orders, ks):
    vocab = sorted(set(train_text + valid_text))
    scores = {(o, k): prob.markov_ngram_model(train_text, o, k, vocab).cross_entropy(valid_text)
              for o in orders for k in ks}
    return max(scores, key=scores.get)


REFERENCE = {"2.3.1": ppv, "2.3.2": stationary, "2.3.3": T_1BIT, "2.3.4": choose_model}

WRONG = [
    ("2.3.1", lambda prev, sens, spec: sens, "sensitivity"),
    ("2.3.1", lambda prev, sens, spec: sens * prev, "divide by P(+)"),
    ("2.3.1", lambda prev, sens, spec: sens * prev / (sens * prev + spec * (1 - prev)), "1 - specificity"),
    ("2.3.1", lambda prev, sens, spec: sens / (sens + 1 - spec), "base rate"),
    ("2.3.1", lambda prev, sens, spec: spec * (1 - prev) / (spec * (1 - prev) + (1 - sens) * prev),
     "negative predictive value"),
    ("2.3.1", lambda prev, sens, spec: 0.5, "P(D|+) should be"),
    ("2.3.1", lambda prev, sens, spec: float(ppv(prev, sens, spec)) if np.ndim(prev) == 0 else 0.0,
     "element-wise"),
    ("2.3.2", lambda P: np.full(len(P), 1 / len(P)), "uniform distribution"),
    ("2.3.2", lambda P: 3 * stationary(P), "sums to 3"),
    ("2.3.2", lambda P: stationary(np.asarray(P).T / np.asarray(P).T.sum(1, keepdims=True)), "expected pi"),
    ("2.3.2", lambda P: stationary(P)[:-1], "shape"),
    ("2.3.3", T_1NAT, "log2"),
    ("2.3.3", T_INVERTED, "divides the logits"),
    ("2.3.3", 2.0, "lower temperature"),
    ("2.3.3", 0.1, "higher temperature"),
    ("2.3.3", -1.0, "positive"),
    ("2.3.3", "0.5", "string"),
    ("2.3.4", choose_on_training_text, "fits the *training* text best"),
    ("2.3.4", choose_the_worst, "take the minimum"),
    ("2.3.4", lambda tr, va, orders, ks: choose_model(tr, va, orders, ks)[::-1], "swapped"),
    ("2.3.4", lambda tr, va, orders, ks: (choose_model(tr, va, orders, ks)[0], ks[-1]), "another k in ks"),
    ("2.3.4", lambda tr, va, orders, ks: (choose_model(tr, va, orders, [ks[1]])[0] + 1, ks[1]),
     "another order gives"),
    ("2.3.4", lambda tr, va, orders, ks: (2, 1.0), "another pair in the grid"),
    ("2.3.4", lambda tr, va, orders, ks: choose_model(tr, va, orders, ks)[0], "tuple (order, k)"),
    ("2.3.4", lambda tr, va, orders, ks: (max(orders) + 1, ks[0]), "not one of orders"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_hidden_texts_need_different_answers():
    """No single (order, k) passes: the hidden cases disagree, and the training-text choice is wrong on each."""
    best = []
    for index in range(len(ch.HIDDEN_CASES)):
        train, valid, orders, ks, on_valid, on_train = ch._hidden_case(index)
        best.append(min(on_valid, key=on_valid.get))
        assert best[-1] == choose_model(train, valid, orders, ks)
        assert on_valid[min(on_train, key=on_train.get)] > on_valid[best[-1]] + 0.05
    assert len(set(best)) == len(best)
