"""Each checker of section 6.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
import torch

from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args, **kwargs):
    raise NotImplementedError


def macro_f1(C):
    C = np.asarray(C, dtype=float)
    tp = np.diag(C)
    denominator = C.sum(axis=0) + C.sum(axis=1)
    return float(np.mean(np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)))


def char_bigrams(s):
    return [s[i:i + 2] for i in range(len(s) - 1)]


def masked_mean(H, lengths):
    mask = (torch.arange(H.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1).to(H.dtype)
    return (H * mask).sum(dim=1) / mask.sum(dim=1)


def leak_count(train_texts, test_texts):
    seen = set(train_texts)
    return sum(t in seen for t in test_texts)


REFERENCE = {"6.2.1": macro_f1, "6.2.2": char_bigrams, "6.2.3": masked_mean, "6.2.4": leak_count}


def f1_accuracy(C):
    C = np.asarray(C, dtype=float)
    return np.trace(C) / C.sum()


def f1_arithmetic(C):
    C = np.asarray(C, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.nan_to_num(np.diag(C) / C.sum(axis=0))
        r = np.nan_to_num(np.diag(C) / C.sum(axis=1))
    return float(np.mean((p + r) / 2))


def f1_class_one(C):
    C = np.asarray(C, dtype=float)
    p, r = C[1, 1] / C[:, 1].sum(), C[1, 1] / C[1, :].sum()
    return 2 * p * r / (p + r)


def f1_nan(C):
    C = np.asarray(C, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(np.mean(2 * np.diag(C) / (C.sum(axis=0) + C.sum(axis=1))))


def f1_per_class(C):
    C = np.asarray(C, dtype=float)
    return 2 * np.diag(C) / (C.sum(axis=0) + C.sum(axis=1))


def f1_present_only(C):
    C = np.asarray(C, dtype=float)
    denominator = C.sum(axis=0) + C.sum(axis=1)
    present = denominator > 0
    return float(np.mean(2 * np.diag(C)[present] / denominator[present]))


def masked_mean_all(H, lengths):
    return H.mean(dim=1)


def masked_mean_divide_by_time(H, lengths):
    mask = (torch.arange(H.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(-1).to(H.dtype)
    return (H * mask).sum(dim=1) / H.shape[1]


def masked_mean_off_by_one(H, lengths):
    mask = (torch.arange(H.shape[1]).unsqueeze(0) <= lengths.unsqueeze(1)).unsqueeze(-1).to(H.dtype)
    return (H * mask).sum(dim=1) / mask.sum(dim=1)


def masked_mean_wrong_axis(H, lengths):
    return H.mean(dim=2)


def masked_mean_in_place(H, lengths):
    out = masked_mean(H, lengths)
    H.zero_()
    return out


@pytest.mark.parametrize("ex_id", sorted(REFERENCE))
def test_reference_answers_pass(ex_id):
    result = evaluate(ex_id, REFERENCE[ex_id])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("ex_id", sorted(REFERENCE))
def test_stubs_are_not_attempted(ex_id):
    assert evaluate(ex_id, stub).status == NOT_ATTEMPTED
    assert evaluate(ex_id, ...).status == NOT_ATTEMPTED


@pytest.mark.parametrize("wrong, phrase", [
    (f1_accuracy, "MICRO-averaged"),
    (f1_arithmetic, "HARMONIC mean"),
    (f1_class_one, "class 1 only"),
    (f1_nan, "NaN"),
    (f1_per_class, "forget to average"),
    (f1_present_only, "ALL classes"),
    (lambda C: 0.5, "macro-F1 is"),
])
def test_6_2_1_rejects_mistakes(wrong, phrase):
    result = evaluate("6.2.1", wrong)
    assert result.status == FAILED and phrase in result.message, result.message


@pytest.mark.parametrize("wrong, phrase", [
    (lambda s: set(char_bigrams(s)), "not a set"),
    (lambda s: [tuple(s[i:i + 2]) for i in range(len(s) - 1)], "tuples"),
    (lambda s: [s[i:i + 2] for i in range(0, len(s), 2)], "do not overlap"),
    (lambda s: [s[i:i + 2] for i in range(len(s))], "single character"),
    (lambda s: [s[i:i + 2] for i in range(len(s) - 1)] if len(s) > 1 else [s], "no bigrams"),
    (lambda s: list(s), "should be"),
])
def test_6_2_2_rejects_mistakes(wrong, phrase):
    result = evaluate("6.2.2", wrong)
    assert result.status == FAILED and phrase in result.message, result.message


@pytest.mark.parametrize("wrong, phrase", [
    (masked_mean_all, "padding included"),
    (masked_mean_divide_by_time, "divided by the full time length"),
    (masked_mean_off_by_one, "off by one"),
    (masked_mean_wrong_axis, "feature axis"),
    (masked_mean_in_place, "in place"),
    (lambda H, lengths: masked_mean(H, lengths).numpy(), "torch tensor"),
    (lambda H, lengths: H[:, 0], "row 0 (length 7)"),
])
def test_6_2_3_rejects_mistakes(wrong, phrase):
    result = evaluate("6.2.3", wrong)
    assert result.status == FAILED and phrase in result.message, result.message


@pytest.mark.parametrize("wrong, phrase", [
    (lambda train, test: len(set(train) & set(test)), "distinct leaked texts"),
    (lambda train, test: sum(t in set(test) for t in train), "training entries that occur"),
    (lambda train, test: sum(list(train).count(t) for t in test), "counted pairs"),
    (lambda train, test: 0, "you returned 0"),
    (lambda train, test: 5, "swapped"),
    (lambda train, test: "5", "a number (a count)"),
    (lambda train, test: 4.5, "whole number"),
])
def test_6_2_4_rejects_mistakes(wrong, phrase):
    result = evaluate("6.2.4", wrong)
    assert result.status == FAILED and phrase in result.message, result.message
