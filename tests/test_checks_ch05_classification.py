"""Each checker of section 5.1 accepts the reference answer and rejects plausible mistakes.

The three contract tests come from ``tests/checker_contract.py``.
"""
import numpy as np
import torch
import torch.nn.functional as F

from checker_contract import contract_tests
from utils.checks import NOT_ATTEMPTED, evaluate


def precision_recall(C):
    C = np.asarray(C, dtype=float)
    return np.diag(C) / C.sum(axis=0), np.diag(C) / C.sum(axis=1)


def shift_images(X, dx, dy):
    h, w = X.shape[-2:]
    padded = F.pad(X, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top:top + h, left:left + w]


def tta_probs(net, X, shifts):
    net.eval()
    with torch.no_grad():
        return torch.stack([net(shift_images(X, dx, dy)).softmax(dim=1) for dx, dy in shifts]).mean(dim=0)


def integrated_gradients(net, x, target, steps=32, alphas=None):
    if alphas is None:
        alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    path = (alphas.view(-1, 1, 1, 1) * x).requires_grad_(True)
    net(path)[:, target].sum().backward()
    return x * path.grad.mean(dim=0)


REFERENCE = {"5.1.1": precision_recall, "5.1.2": shift_images, "5.1.3": tta_probs,
             "5.1.4": integrated_gradients}


def swapped_pr(C):
    p, r = precision_recall(C)
    return r, p


def tta_no_eval(net, X, shifts):
    with torch.no_grad():
        return torch.stack([net(shift_images(X, dx, dy)).softmax(dim=1) for dx, dy in shifts]).mean(dim=0)


def tta_mean_logits(net, X, shifts):
    net.eval()
    with torch.no_grad():
        return torch.stack([net(shift_images(X, dx, dy)) for dx, dy in shifts]).mean(dim=0).softmax(dim=1)


def tta_unshifted(net, X, shifts):
    net.eval()
    with torch.no_grad():
        return net(X).softmax(dim=1)


def tta_with_grad(net, X, shifts):
    net.eval()
    return torch.stack([net(shift_images(X, dx, dy)).softmax(dim=1) for dx, dy in shifts]).mean(dim=0)


def ig_no_multiply(net, x, target, steps=32):
    return integrated_gradients(net, x, target, steps) / x


def ig_left(net, x, target, steps=32):
    return integrated_gradients(net, x, target, steps, alphas=torch.arange(steps, dtype=x.dtype) / steps)


def ig_plain_gradient(net, x, target, steps=32):
    x = x.clone().requires_grad_(True)
    net(x.unsqueeze(0))[0, target].backward()
    return x.grad


def ig_probability(net, x, target, steps=32):
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    path = (alphas.view(-1, 1, 1, 1) * x).requires_grad_(True)
    net(path).softmax(dim=1)[:, target].sum().backward()
    return x * path.grad.mean(dim=0)


WRONG = [
    ("5.1.1", swapped_pr, "swapped"),
    ("5.1.1", lambda C: (np.diag(C), np.diag(C)), "counts"),
    ("5.1.1", lambda C: (precision_recall(C)[1], precision_recall(C)[1]), "PREDICTED"),
    ("5.1.1", lambda C: precision_recall(C)[0], "tuple"),
    ("5.1.2", lambda X, dx, dy: torch.roll(X, shifts=(dy, dx), dims=(-2, -1)), "torch.roll"),
    ("5.1.2", lambda X, dx, dy: shift_images(X, -dx, -dy), "wrong way"),
    ("5.1.2", lambda X, dx, dy: shift_images(X, dy, dx), "swapped"),
    ("5.1.2", lambda X, dx, dy: X[..., 1:, :], "shape"),
    ("5.1.3", tta_no_eval, "net.eval()"),
    ("5.1.3", tta_mean_logits, "PROBABILITIES"),
    ("5.1.3", tta_unshifted, "unshifted"),
    ("5.1.3", tta_with_grad, "no_grad"),
    ("5.1.3", lambda net, X, shifts: torch.zeros(len(X), 10), "summing to 1"),
    ("5.1.4", ig_no_multiply, "multiply it element-wise by x"),
    ("5.1.4", ig_left, "midpoints"),
    ("5.1.4", ig_plain_gradient, "gradient at x only"),
    ("5.1.4", ig_probability, "the logit, not the probability"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_ellipsis_is_not_attempted():
    """An exercise cell whose function was replaced by ``...`` is not attempted either."""
    for id in sorted(REFERENCE):
        assert evaluate(id, ...).status == NOT_ATTEMPTED
