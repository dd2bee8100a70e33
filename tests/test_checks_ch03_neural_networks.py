"""Each checker of section 3.1 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
from checker_contract import contract_tests

from utils import nn, prob

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflowing softmax is one of the mistakes


class LeakyReLU(nn.Layer):
    slope_neg, slope_pos = 0.01, 1.0

    def forward(self, X):
        self.X = X
        return np.where(X > 0, self.slope_pos * X, self.slope_neg * X)

    def backward(self, dY):
        return dY * np.where(self.X > 0, self.slope_pos, self.slope_neg)


class PlainReLU(LeakyReLU):
    slope_neg = 0.0


class WrongSlope(LeakyReLU):
    slope_neg = 0.1


class LocalOnly(LeakyReLU):
    def backward(self, dY):
        return np.where(self.X > 0, 1.0, 0.01)


class ReLUBackward(LeakyReLU):
    def backward(self, dY):
        return dY * (self.X > 0)


class StubLayer(nn.Layer):
    def forward(self, X):
        raise NotImplementedError

    def backward(self, dY):
        raise NotImplementedError


def dense_backward(X, W, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def ce_grad(logits, y):
    return (prob.softmax(logits, axis=1) - np.eye(logits.shape[1])[y]) / len(y)


class RMSprop:
    def __init__(self, net, lr=0.01, alpha=0.99, eps=1e-8, variant=""):
        self.pairs = list(net.parameters())
        self.lr, self.alpha, self.eps, self.variant = lr, alpha, eps, variant
        self.s = [np.zeros_like(layer.params[name]) for layer, name in self.pairs]

    def step(self):
        for (layer, name), s in zip(self.pairs, self.s):
            g = layer.grads[name]
            s[:] = self.alpha * s + (g * g if self.variant == "no (1 - alpha)" else (1 - self.alpha) * g * g)
            if self.variant == "eps inside":
                layer.params[name] -= self.lr * g / np.sqrt(s + self.eps)
            elif self.variant == "noop":
                pass
            else:
                layer.params[name] -= self.lr * g / (np.sqrt(s) + self.eps)


def rmsprop_variant(variant):
    return type("RMSpropVariant", (RMSprop,), {"__init__": lambda self, net, lr=0.01, alpha=0.99, eps=1e-8:
                                                 RMSprop.__init__(self, net, lr, alpha, eps, variant)})


class StubRMSprop:
    def __init__(self, net, lr=0.01, alpha=0.99, eps=1e-8):
        raise NotImplementedError

    def step(self):
        raise NotImplementedError


def stub(*args):
    raise NotImplementedError


REFERENCE = {"3.1.1": LeakyReLU, "3.1.2": dense_backward, "3.1.3": ce_grad, "3.1.4": RMSprop}
STUBS = {"3.1.1": StubLayer, "3.1.2": stub, "3.1.3": stub, "3.1.4": StubRMSprop}

WRONG = [
    ("3.1.1", PlainReLU, "that is ReLU"),
    ("3.1.1", WrongSlope, "0.01 * x"),
    ("3.1.1", LocalOnly, "multiply it by dY"),
    ("3.1.1", ReLUBackward, "ReLU's rule"),
    ("3.1.1", LeakyReLU(), "class LeakyReLU itself"),
    ("3.1.2", lambda X, W, dZ: (dZ @ W.T, dZ @ X.T, dZ.sum(axis=0)), "whitepaper's column-major layout"),
    ("3.1.2", lambda X, W, dZ: (dZ @ W.T, (X.T @ dZ).T, dZ.sum(axis=0)), "transposed"),
    ("3.1.2", lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ.sum(axis=1)), "axis 0"),
    ("3.1.2", lambda X, W, dZ: (X.T @ dZ @ W.T + dZ.sum(axis=0), X.T @ dZ, dZ.sum(axis=0)), "whitepaper's bug"),
    ("3.1.2", lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)), "mean over the batch"),
    ("3.1.2", lambda X, W, dZ: (dZ @ W.T, X.T @ dZ), "tuple (dX, dW, db)"),
    ("3.1.3", lambda z, y: ce_grad(z, y) * len(y), "divide by N"),
    ("3.1.3", lambda z, y: -ce_grad(z, y), "sign is flipped"),
    ("3.1.3", lambda z, y: (z - np.eye(z.shape[1])[y]) / len(y), "apply softmax first"),
    ("3.1.3", lambda z, y: prob.softmax(z, axis=1) / len(y), "subtract the one-hot"),
    ("3.1.3", lambda z, y: (np.exp(z) / np.exp(z).sum(1, keepdims=True) - np.eye(z.shape[1])[y]) / len(y),
     "subtract the row maximum"),
    ("3.1.4", rmsprop_variant("eps inside"), "outside the square root"),
    ("3.1.4", rmsprop_variant("no (1 - alpha)"), "(1 - alpha) is missing"),
    ("3.1.4", rmsprop_variant("noop"), "did not change the weights"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG, stubs=STUBS)
