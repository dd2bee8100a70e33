"""Each checker of section 6.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
import torch
from checker_contract import contract_tests

from utils.checks import NOT_ATTEMPTED, evaluate



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


WRONG = [
    ("6.2.1", f1_accuracy, "MICRO-averaged"),
    ("6.2.1", f1_arithmetic, "HARMONIC mean"),
    ("6.2.1", f1_class_one, "class 1 only"),
    ("6.2.1", f1_nan, "NaN"),
    ("6.2.1", f1_per_class, "forget to average"),
    ("6.2.1", f1_present_only, "ALL classes"),
    ("6.2.1", lambda C: 0.5, "macro-F1 should be"),
    ("6.2.2", lambda s: set(char_bigrams(s)), "not a set"),
    ("6.2.2", lambda s: [tuple(s[i:i + 2]) for i in range(len(s) - 1)], "tuples"),
    ("6.2.2", lambda s: [s[i:i + 2] for i in range(0, len(s), 2)], "do not overlap"),
    ("6.2.2", lambda s: [s[i:i + 2] for i in range(len(s))], "single character"),
    ("6.2.2", lambda s: [s[i:i + 2] for i in range(len(s) - 1)] if len(s) > 1 else [s], "no bigrams"),
    ("6.2.2", lambda s: list(s), "should be"),
    ("6.2.3", masked_mean_all, "padding included"),
    ("6.2.3", masked_mean_divide_by_time, "divided by the full time length"),
    ("6.2.3", masked_mean_off_by_one, "off by one"),
    ("6.2.3", masked_mean_wrong_axis, "feature axis"),
    ("6.2.3", masked_mean_in_place, "in place"),
    ("6.2.3", lambda H, lengths: masked_mean(H, lengths).numpy(), "torch tensor"),
    ("6.2.3", lambda H, lengths: H[:, 0], "row 0 (length 7)"),
    ("6.2.4", lambda train, test: len(set(train) & set(test)), "distinct leaked texts"),
    ("6.2.4", lambda train, test: sum(t in set(test) for t in train), "training entries that occur"),
    ("6.2.4", lambda train, test: sum(list(train).count(t) for t in test), "counted pairs"),
    ("6.2.4", lambda train, test: 0, "you returned 0"),
    ("6.2.4", lambda train, test: 5, "swapped"),
    ("6.2.4", lambda train, test: "5", "a number (a count)"),
    ("6.2.4", lambda train, test: 4.5, "whole number"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED
