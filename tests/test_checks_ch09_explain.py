"""Each checker of section 9.11 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
import torch
from checker_contract import contract_tests
from scipy.stats import pearsonr, rankdata

from utils.checks import NOT_ATTEMPTED, evaluate


def quadrature(method, m):
    k = np.arange(m)
    if method == "left":
        return k / m, np.full(m, 1 / m)
    if method == "middle":
        return (k + 0.5) / m, np.full(m, 1 / m)
    weights = np.full(m + 1, 1 / m)
    weights[[0, -1]] /= 2
    return np.arange(m + 1) / m, weights


def spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    return pearsonr(ra, rb).statistic


def deletion_curve(net, x, target, attribution, steps):
    d = x.numel()
    order = attribution.flatten().argsort(descending=True)
    images = []
    for k in range(steps + 1):
        z = x.flatten().clone()
        z[order[:k * d // steps]] = 0
        images.append(z.view(x.shape))
    with torch.no_grad():
        return torch.softmax(net(torch.stack(images)), dim=1)[:, target].numpy()


def occlusion_map(net, x, target, size, stride, mean=True, logit=True, sign=1.0, nan_uncovered=False):
    _, h, w = x.shape
    total, count = torch.zeros_like(x), torch.zeros_like(x)
    f = (lambda z: net(z.unsqueeze(0))[0, target]) if logit else \
        (lambda z: torch.softmax(net(z.unsqueeze(0)), 1)[0, target])
    with torch.no_grad():
        score = f(x)
        for i in range(0, h - size + 1, stride):
            for j in range(0, w - size + 1, stride):
                z = x.clone()
                z[:, i:i + size, j:j + size] = 0
                total[:, i:i + size, j:j + size] += sign * (score - f(z))
                count[:, i:i + size, j:j + size] += 1
    if not mean:
        return total
    if nan_uncovered:
        return total / count
    return torch.where(count > 0, total / count.clamp_min(1), torch.zeros_like(x))


REFERENCE = {"9.11.1": quadrature, "9.11.2": spearman, "9.11.3": deletion_curve, "9.11.4": occlusion_map}


def captum_trapezoid(method, m):
    if method != "trapezoid":
        return quadrature(method, m)
    w = np.full(m, 1 / m)
    w[[0, -1]] /= 2
    return np.linspace(0, 1, m), w


def unhalved_trapezoid(method, m):
    if method != "trapezoid":
        return quadrature(method, m)
    return np.arange(m + 1) / m, np.full(m + 1, 1 / m)


def middle_as_left(method, m):
    return quadrature("left" if method == "middle" else method, m)


def left_as_right(method, m):
    if method == "left":
        return np.arange(1, m + 1) / m, np.full(m, 1 / m)
    return quadrature(method, m)


def shifted_middle(method, m):
    a, w = quadrature(method, m)
    return (a + 0.01 if method == "middle" else a), w


def ordinal_spearman(a, b):
    return pearsonr(rankdata(a, "ordinal"), rankdata(b, "ordinal")).statistic


def deletion_ascending(net, x, target, attribution, steps):
    return deletion_curve(net, x, target, -attribution, steps)


def deletion_abs(net, x, target, attribution, steps):
    return deletion_curve(net, x, target, attribution.abs(), steps)


def deletion_logits(net, x, target, attribution, steps):
    d = x.numel()
    order = attribution.flatten().argsort(descending=True)
    images = []
    for k in range(steps + 1):
        z = x.flatten().clone()
        z[order[:k * d // steps]] = 0
        images.append(z.view(x.shape))
    with torch.no_grad():
        return net(torch.stack(images))[:, target].numpy()


def deletion_no_start(net, x, target, attribution, steps):
    return deletion_curve(net, x, target, attribution, steps)[1:]


def deletion_rounded(net, x, target, attribution, steps):
    d = x.numel()
    order = attribution.flatten().argsort(descending=True)
    images = []
    for k in range(steps + 1):
        z = x.flatten().clone()
        z[order[:round(k * d / steps)]] = 0
        images.append(z.view(x.shape))
    with torch.no_grad():
        return torch.softmax(net(torch.stack(images)), dim=1)[:, target].numpy()


WRONG = [
    ("9.11.1", captum_trapezoid, "m + 1"),
    ("9.11.1", unhalved_trapezoid, "halve the weights"),
    ("9.11.1", middle_as_left, "left points"),
    ("9.11.1", left_as_right, "right points"),
    ("9.11.1", shifted_middle, "the points should be"),
    ("9.11.1", lambda method, m: quadrature(method, m)[0], "pair"),
    ("9.11.1", lambda method, m: (quadrature(method, m)[0], 2 * quadrature(method, m)[1]), "add up to"),
    ("9.11.2", lambda a, b: pearsonr(a, b).statistic, "Pearson"),
    ("9.11.2", ordinal_spearman, "average rank"),
    ("9.11.2", lambda a, b: spearman(a, b) + 1e-6, "should be"),
    ("9.11.2", lambda a, b: "high", "one number"),
    ("9.11.3", deletion_ascending, "least attributed"),
    ("9.11.3", deletion_abs, "|attribution|"),
    ("9.11.3", deletion_logits, "softmax probability"),
    ("9.11.3", deletion_no_start, "include step 0"),
    ("9.11.3", deletion_rounded, "differs from the expected curve first at step"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride, sign=-1.0), "opposite sign"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride, mean=False), "mean"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride, logit=False), "logit"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride, nan_uncovered=True), "NaN"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride).numpy(), "torch tensor"),
    ("9.11.4", lambda net, x, t, size, stride: occlusion_map(net, x, t, size, stride)[0], "shape"),
    ("9.11.4", lambda net, x, t, size, stride: 1.01 * occlusion_map(net, x, t, size, stride), "differs"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    from utils import explain

    def quad_from_library(method, m):
        a, w = explain.path_weights(method, m)
        return a.numpy(), w.numpy()

    def occlusion_from_library(net, x, target, size, stride):
        return explain.occlusion(net, x.unsqueeze(0), target, size=size, stride=stride)[0]

    def deletion_from_library(net, x, target, attribution, steps):
        probs, _ = explain.deletion_curves(net, x.unsqueeze(0), target, attribution.unsqueeze(0), steps=steps)
        return probs[0].numpy()

    def spearman_from_library(a, b):
        return explain.rank_correlation(a[None], b[None])[0]

    assert evaluate("9.11.1", quad_from_library).passed
    assert evaluate("9.11.4", occlusion_from_library).passed
    assert evaluate("9.11.3", deletion_from_library).passed
    assert evaluate("9.11.2", spearman_from_library).passed
