"""Each checker of section 2.3 accepts the reference answer and rejects plausible mistakes."""
import dataclasses
import math

import numpy as np
import pytest

from utils import prob
from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate
from utils.checks import ch02_probability as ch


def stub(*args):
    raise NotImplementedError


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

REFERENCE = {"2.3.1": ppv, "2.3.2": stationary, "2.3.3": T_1BIT, "2.3.4": 0.03}

WRONG = [
    ("2.3.1", lambda prev, sens, spec: sens, "sensitivity"),
    ("2.3.1", lambda prev, sens, spec: sens * prev, "divide by P(+)"),
    ("2.3.1", lambda prev, sens, spec: sens * prev / (sens * prev + spec * (1 - prev)), "1 - specificity"),
    ("2.3.1", lambda prev, sens, spec: sens / (sens + 1 - spec), "base rate"),
    ("2.3.1", lambda prev, sens, spec: spec * (1 - prev) / (spec * (1 - prev) + (1 - sens) * prev),
     "negative predictive value"),
    ("2.3.1", lambda prev, sens, spec: 0.5, "P(D|+) is"),
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
    ("2.3.4", 0.001, "validation play"),
    ("2.3.4", 1.0, "another value"),
    ("2.3.4", 0.05, "one of k_grid"),
]


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_reference_answer_passes(id):
    result = evaluate(id, REFERENCE[id])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("id, answer, phrase", WRONG)
def test_wrong_answer_is_rejected_with_a_reason(id, answer, phrase):
    result = evaluate(id, answer)
    assert result.status == FAILED
    assert phrase in result.message, result.message


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_stub_is_not_attempted(id):
    answer = ... if id in ("2.3.3", "2.3.4") else stub
    assert evaluate(id, answer).status == NOT_ATTEMPTED


def test_best_k_is_chosen_on_validation_not_training():
    """The reference answer of 2.3.4 really is the validation arg-min, and differs from training's choice."""
    scores = ch._smoothing_scores()
    assert min(ch.K_GRID, key=scores["valid"].get) == REFERENCE["2.3.4"]
    from utils import data

    corpus = data.load("shakespeare", plays=ch.TRAIN_PLAYS + [ch.VALID_PLAY, ch.TEST_PLAY])
    train_text = "\n\n".join(corpus.documents[p] for p in ch.TRAIN_PLAYS)
    counted = prob.markov_ngram_model(train_text, ch.ORDER, vocab=sorted(set(corpus.text)))
    on_train = {k: dataclasses.replace(counted, k=k).cross_entropy(train_text[:100_000]) for k in ch.K_GRID}
    assert min(ch.K_GRID, key=on_train.get) == min(ch.K_GRID)  # the hint for k = min(K_GRID) is true
