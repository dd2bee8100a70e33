"""Checkers of chapter 1: reference answers pass, typical mistakes fail with a useful message, stubs are 'not attempted'."""
import numpy as np
import pytest

from utils import sizing
from utils.checks import evaluate


def stub(*args):
    raise NotImplementedError


def failed_with(result, phrase):
    assert result.status == "failed", result
    assert phrase in result.message, result.message


# --- 1.1 ----------------------------------------------------------------------

def block_params(d):
    return 12 * d * d + 13 * d


def test_1_1_1_block_params():
    assert evaluate("1.1.1", block_params).passed
    failed_with(evaluate("1.1.1", lambda d: 12 * d * d), "add the biases")
    failed_with(evaluate("1.1.1", lambda d: 12 * d * d + 9 * d), "LayerNorms are missing")
    failed_with(evaluate("1.1.1", lambda d: 12 * d * d + 11 * d), "scale *and* a shift")
    failed_with(evaluate("1.1.1", lambda d: 6 * d * d + 10 * d), "expands to 4d")
    failed_with(evaluate("1.1.1", lambda d: 12 * d * d + 15 * d), "final LayerNorm")
    failed_with(evaluate("1.1.1", lambda d: 7), "should be")
    failed_with(evaluate("1.1.1", lambda d: "many"), "integer")
    assert evaluate("1.1.1", stub).status == "not attempted"


def alexnet(groups=2, bias=True):
    convs = [(3, 96, 11, 1), (96, 256, 5, groups), (256, 384, 3, 1), (384, 384, 3, groups), (384, 256, 3, groups)]
    return (sum(sizing.conv_params(i, o, k, bias=bias, groups=g) for i, o, k, g in convs)
            + sizing.mlp_params([9216, 4096, 4096, 1000], bias=bias))


def test_1_1_2_alexnet():
    assert alexnet() == 60_965_224
    assert evaluate("1.1.2", alexnet()).passed
    assert evaluate("1.1.2", float(alexnet())).passed  # 6.0965224e7 as a float is fine
    failed_with(evaluate("1.1.2", alexnet(groups=1)), "ignores the groups")
    failed_with(evaluate("1.1.2", alexnet(bias=False)), "biases")
    failed_with(evaluate("1.1.2", sizing.mlp_params([9216, 4096, 4096, 1000])), "dense layers alone")
    failed_with(evaluate("1.1.2", 60_000_000), "times the right count")
    failed_with(evaluate("1.1.2", "60M"), "integer")
    assert evaluate("1.1.2", ...).status == "not attempted"


def test_1_1_3_llama_memory():
    assert evaluate("1.1.3", 6480).passed
    assert evaluate("1.1.3", 6480.0 * 1.005).passed
    failed_with(evaluate("1.1.3", 3240), "8 bytes per parameter")
    failed_with(evaluate("1.1.3", 4860), "master weights")
    failed_with(evaluate("1.1.3", 810), "weights alone")
    failed_with(evaluate("1.1.3", 6480e9), "bytes")
    failed_with(evaluate("1.1.3", 6480e9 / 2**30), "GiB")
    failed_with(evaluate("1.1.3", 6.48), "terabytes")
    failed_with(evaluate("1.1.3", 1000), "bytes per parameter")
    assert evaluate("1.1.3", ...).status == "not attempted"


def test_1_1_4_chinchilla():
    flops = 6 * 70e9 * 1.4e12
    days = flops / (1024 * 312e12 * 0.4) / 86400
    assert evaluate("1.1.4", (flops, days)).passed
    failed_with(evaluate("1.1.4", (flops / 3, days / 3)), "forward pass only")
    failed_with(evaluate("1.1.4", (flops, days * 24)), "hours")
    failed_with(evaluate("1.1.4", (flops, days * 0.16)), "should divide")
    failed_with(evaluate("1.1.4", (flops, days * 0.4)), "left out the utilization")
    failed_with(evaluate("1.1.4", (flops, days * 1024)), "GPU-days")
    failed_with(evaluate("1.1.4", flops), "tuple (flops, days)")
    assert evaluate("1.1.4", ...).status == "not attempted"


def mlp_train_flops(sizes, batch_size):
    products = [2 * batch_size * a * b for a, b in zip(sizes, sizes[1:])]
    return 3 * sum(products) - products[0]


def test_1_1_5_mlp_flops():
    assert evaluate("1.1.5", mlp_train_flops).passed
    failed_with(evaluate("1.1.5", lambda s, b: 6 * sizing.mlp_params(s, bias=False) * b), "does not require a gradient")
    failed_with(evaluate("1.1.5", lambda s, b: 6 * sizing.mlp_params(s) * b), "bias additions are not counted")
    failed_with(evaluate("1.1.5", lambda s, b: 2 * sizing.mlp_params(s, bias=False) * b), "forward pass only")
    failed_with(evaluate("1.1.5", lambda s, b: 1), "FlopCounterMode measures")
    assert evaluate("1.1.5", stub).status == "not attempted"


# --- 1.2 ----------------------------------------------------------------------

def test_1_2_1_arxiv():
    assert evaluate("1.2.1", lambda s: (2000 + int(s[:2]), int(s[2:4]))).passed
    failed_with(evaluate("1.2.1", lambda s: (int(s[:2]), int(s[2:4]))), "add 2000")
    failed_with(evaluate("1.2.1", lambda s: (int(s[2:4]), 2000 + int(s[:2]))), "swapped")
    failed_with(evaluate("1.2.1", lambda s: 2000 + int(s[:2])), "tuple (year, month)")
    failed_with(evaluate("1.2.1", lambda s: (2017, 6)), "should be")
    assert evaluate("1.2.1", stub).status == "not attempted"


def doubling(years, params, log=np.log2):
    slope = np.polyfit(np.asarray(years, float), log(np.asarray(params, float)), 1)[0]
    return 1 / slope


def test_1_2_2_doubling_time():
    assert evaluate("1.2.2", doubling).passed
    failed_with(evaluate("1.2.2", lambda y, p: doubling(y, p, np.log10)), "log10")
    failed_with(evaluate("1.2.2", lambda y, p: doubling(y, p, np.log)), "natural log")
    failed_with(evaluate("1.2.2", lambda y, p: 1 / doubling(y, p)), "1 / slope")
    failed_with(evaluate("1.2.2", lambda y, p: 12 * doubling(y, p)), "months")
    failed_with(evaluate("1.2.2", lambda y, p: 1.0), "least-squares doubling time")
    assert evaluate("1.2.2", stub).status == "not attempted"


def make_examples(ids, T):
    n = len(ids) - T
    return np.stack([ids[i:i + T] for i in range(n)]), np.stack([ids[i + 1:i + T + 1] for i in range(n)])


def test_1_2_3_make_examples():
    assert evaluate("1.2.3", make_examples).passed
    failed_with(evaluate("1.2.3", lambda ids, T: (make_examples(ids, T)[0],) * 2), "shift by one")
    def shifted_back(ids, T):
        X, _ = make_examples(ids, T)
        return X, X - 1
    failed_with(evaluate("1.2.3", shifted_back), "wrong way")
    def one_too_many(ids, T):
        n = len(ids) - T + 1
        X = np.stack([ids[i:i + T] for i in range(n)])
        return X, X + 1
    failed_with(evaluate("1.2.3", one_too_many), "you made")
    failed_with(evaluate("1.2.3", lambda ids, T: tuple(a.T for a in make_examples(ids, T)) if T > 1 else make_examples(ids, T)),
                "transposed")
    failed_with(evaluate("1.2.3", lambda ids, T: make_examples(ids, T)[0]), "tuple (X, Y)")
    assert evaluate("1.2.3", stub).status == "not attempted"


def contrast(points, query, power=1.0):
    d = np.linalg.norm(points - query, axis=1) ** power
    return (d.max() - d.min()) / d.min()


def test_1_2_4_relative_contrast():
    assert evaluate("1.2.4", contrast).passed
    failed_with(evaluate("1.2.4", lambda p, q: contrast(p, q, 2.0)), "squared distances")
    def by_max(p, q):
        d = np.linalg.norm(p - q, axis=1)
        return (d.max() - d.min()) / d.max()
    failed_with(evaluate("1.2.4", by_max), "*nearest* distance")
    def ratio(p, q):
        d = np.linalg.norm(p - q, axis=1)
        return d.max() / d.min()
    failed_with(evaluate("1.2.4", ratio), "max/min")
    failed_with(evaluate("1.2.4", lambda p, q: 0.5), "Euclidean")
    assert evaluate("1.2.4", stub).status == "not attempted"


@pytest.mark.parametrize("exercise_id", ["1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.2.1", "1.2.2", "1.2.3", "1.2.4"])
def test_unattempted_value_is_not_attempted(exercise_id):
    assert evaluate(exercise_id, ...).status == "not attempted"
