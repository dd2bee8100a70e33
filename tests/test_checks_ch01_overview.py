"""Checkers of chapter 1: reference answers pass, typical mistakes fail with a useful message, stubs are 'not attempted'.

The three contract tests come from tests/checker_contract.py; the extra tests below cover
what the contract does not (equivalent answers that must also pass).
"""
import numpy as np

from checker_contract import contract_tests
from utils import sizing
from utils.checks import evaluate
from utils.sizing import mlp_params


# --- 1.1 ----------------------------------------------------------------------

def block_params(d):
    return 12 * d * d + 13 * d


def block_params_from_the_library(d):  # the exercise says: do not call utils.sizing
    return sizing.transformer_param_breakdown(n_layer=1, d_model=d, n_head=1, vocab_size=1, block_size=1)["blocks"]


def block_params_imported_by_name(d):  # the same rule, however the function was imported
    return mlp_params([d, 4 * d, d]) + 4 * d * d + 4 * d + 4 * d


def alexnet(groups=2, bias=True):
    convs = [(3, 96, 11, 1), (96, 256, 5, groups), (256, 384, 3, 1), (384, 384, 3, groups), (384, 256, 3, groups)]
    return (sum(sizing.conv_params(i, o, k, bias=bias, groups=g) for i, o, k, g in convs)
            + sizing.mlp_params([9216, 4096, 4096, 1000], bias=bias))


FLOPS = 6 * 70e9 * 1.4e12
DAYS = FLOPS / (1024 * 312e12 * 0.4) / 86400


def mlp_train_flops(sizes, batch_size):
    products = [2 * batch_size * a * b for a, b in zip(sizes, sizes[1:])]
    return 3 * sum(products) - products[0]


# --- 1.2 ----------------------------------------------------------------------

def arxiv(s):
    return 2000 + int(s[:2]), int(s[2:4])


def doubling(years, params, log=np.log2):
    slope = np.polyfit(np.asarray(years, float), log(np.asarray(params, float)), 1)[0]
    return 1 / slope


def make_examples(ids, T):
    n = len(ids) - T
    return np.stack([ids[i:i + T] for i in range(n)]), np.stack([ids[i + 1:i + T + 1] for i in range(n)])


def shifted_back(ids, T):
    X, _ = make_examples(ids, T)
    return X, X - 1


def one_too_many(ids, T):
    n = len(ids) - T + 1
    X = np.stack([ids[i:i + T] for i in range(n)])
    return X, X + 1


def contrast(points, query, power=1.0):
    d = np.linalg.norm(points - query, axis=1) ** power
    return (d.max() - d.min()) / d.min()


def contrast_by_max(p, q):
    d = np.linalg.norm(p - q, axis=1)
    return (d.max() - d.min()) / d.max()


def contrast_ratio(p, q):
    d = np.linalg.norm(p - q, axis=1)
    return d.max() / d.min()


REFERENCE = {
    "1.1.1": block_params, "1.1.2": alexnet(), "1.1.3": 6480, "1.1.4": (FLOPS, DAYS), "1.1.5": mlp_train_flops,
    "1.2.1": arxiv, "1.2.2": doubling, "1.2.3": make_examples, "1.2.4": contrast,
}

WRONG = [
    ("1.1.1", lambda d: 12 * d * d, "add the biases"),
    ("1.1.1", lambda d: 12 * d * d + 9 * d, "LayerNorms are missing"),
    ("1.1.1", lambda d: 12 * d * d + 11 * d, "scale *and* a shift"),
    ("1.1.1", lambda d: 6 * d * d + 10 * d, "expands to 4d"),
    ("1.1.1", lambda d: 12 * d * d + 15 * d, "final LayerNorm"),
    ("1.1.1", lambda d: 7, "should be"),
    ("1.1.1", lambda d: "many", "integer"),
    ("1.1.1", block_params_from_the_library, "calls utils.sizing (transformer_param_breakdown)"),
    ("1.1.1", block_params_imported_by_name, "calls utils.sizing (mlp_params)"),
    ("1.1.2", alexnet(groups=1), "ignores the groups"),
    ("1.1.2", alexnet(bias=False), "biases"),
    ("1.1.2", sizing.mlp_params([9216, 4096, 4096, 1000]), "dense layers alone"),
    ("1.1.2", 60_000_000, "times the right count"),
    ("1.1.2", "60M", "integer"),
    ("1.1.3", 3240, "8 bytes per parameter"),
    ("1.1.3", 4860, "master weights"),
    ("1.1.3", 810, "weights alone"),
    ("1.1.3", 6480e9, "bytes"),
    ("1.1.3", 6480e9 / 2**30, "GiB"),
    ("1.1.3", 6.48, "terabytes"),
    ("1.1.3", 1000, "bytes per parameter"),
    ("1.1.4", (FLOPS / 3, DAYS / 3), "forward pass only"),
    ("1.1.4", (FLOPS, DAYS * 24), "hours"),
    ("1.1.4", (FLOPS, DAYS * 0.16), "should divide"),
    ("1.1.4", (FLOPS, DAYS * 0.4), "left out the utilization"),
    ("1.1.4", (FLOPS, DAYS * 1024), "GPU-days"),
    ("1.1.4", FLOPS, "tuple (flops, days)"),
    ("1.1.5", lambda s, b: 6 * sizing.mlp_params(s, bias=False) * b, "does not require a gradient"),
    ("1.1.5", lambda s, b: 6 * sizing.mlp_params(s) * b, "bias additions are not counted"),
    ("1.1.5", lambda s, b: 2 * sizing.mlp_params(s, bias=False) * b, "forward pass only"),
    ("1.1.5", lambda s, b: 1, "FlopCounterMode measures"),
    ("1.2.1", lambda s: (int(s[:2]), int(s[2:4])), "add 2000"),
    ("1.2.1", lambda s: (int(s[2:4]), 2000 + int(s[:2])), "swapped"),
    ("1.2.1", lambda s: 2000 + int(s[:2]), "tuple (year, month)"),
    ("1.2.1", lambda s: (2017, 6), "should be"),
    ("1.2.2", lambda y, p: doubling(y, p, np.log10), "log10"),
    ("1.2.2", lambda y, p: doubling(y, p, np.log), "natural log"),
    ("1.2.2", lambda y, p: 1 / doubling(y, p), "1 / slope"),
    ("1.2.2", lambda y, p: 12 * doubling(y, p), "months"),
    ("1.2.2", lambda y, p: 1.0, "least-squares doubling time"),
    ("1.2.3", lambda ids, T: (make_examples(ids, T)[0],) * 2, "shift by one"),
    ("1.2.3", shifted_back, "wrong way"),
    ("1.2.3", one_too_many, "you made"),
    ("1.2.3", lambda ids, T: tuple(a.T for a in make_examples(ids, T)) if T > 1 else make_examples(ids, T),
     "transposed"),
    ("1.2.3", lambda ids, T: make_examples(ids, T)[0], "tuple (X, Y)"),
    ("1.2.4", lambda p, q: contrast(p, q, 2.0), "squared distances"),
    ("1.2.4", contrast_by_max, "*nearest* distance"),
    ("1.2.4", contrast_ratio, "max/min"),
    ("1.2.4", lambda p, q: 0.5, "Euclidean"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_equivalent_answers_pass():
    assert alexnet() == 60_965_224
    assert evaluate("1.1.2", float(alexnet())).passed  # 6.0965224e7 as a float is fine
    assert evaluate("1.1.3", 6480.0 * 1.005).passed  # within the stated 1%
