"""The checkers of section 2.2: reference answers pass, typical mistakes fail with a useful message.

The three contract tests come from tests/checker_contract.py (REFERENCE and WRONG at the end
of this file); the tests here cover what the contract does not: other correct answers.
"""
import math

import numpy as np
import pytest

from checker_contract import contract_tests
from utils.autograd import Value
from utils.checks import NOT_ATTEMPTED, evaluate


@pytest.mark.parametrize("id", ["2.2.1", "2.2.2", "2.2.3", "2.2.4"])
def test_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


# --- 2.2.1 -----------------------------------------------------------------------

def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)




# --- 2.2.2 -----------------------------------------------------------------------

def grad_f(x, y):
    return np.array([2 * x * y + y * np.cos(x * y), x**2 + x * np.cos(x * y)])


def test_grad_f_as_a_tuple_of_floats_passes():
    assert evaluate("2.2.2", lambda x, y: (2 * x * y + y * math.cos(x * y), x**2 + x * math.cos(x * y))).passed


# --- 2.2.3 -----------------------------------------------------------------------

def momentum_step(theta, velocity, grad, lr, beta):
    velocity = beta * velocity + grad
    return theta - lr * velocity, velocity


def test_momentum_other_convention_passes():
    def step(theta, velocity, grad, lr, beta):  # v ← βv − αg, θ ← θ + v: the same path
        velocity = beta * velocity - lr * grad
        return theta + velocity, velocity
    assert evaluate("2.2.3", step).passed


def test_momentum_in_place_update_passes():
    def step(theta, velocity, grad, lr, beta):
        velocity *= beta
        velocity += grad
        theta -= lr * velocity
        return theta, velocity
    assert evaluate("2.2.3", step).passed


# --- 2.2.4 -----------------------------------------------------------------------

def make_sin(local=math.cos, accumulate=True, chain=True, record_child=True):
    def value_sin(x):
        out = Value(math.sin(x.data), (x,) if record_child else (), "sin")

        def _backward():
            g = local(x.data) * (out.grad if chain else 1.0)
            if accumulate:
                x.grad += g
            else:
                x.grad = g
        out._backward = _backward
        return out
    return value_sin


def test_value_sin_with_the_chapters_own_class_passes():
    class Node:  # a minimal stand-in for the chapter's inline Value (same attribute names)
        def __init__(self, data, children=()):
            self.data, self.grad, self._prev, self._backward = data, 0.0, tuple(children), lambda: None

        def __mul__(self, k):
            out = Node(self.data * k, (self,))
            out._backward = lambda: setattr(self, "grad", self.grad + k * out.grad)
            return out

        def __add__(self, other):
            out = Node(self.data + other.data, (self, other))

            def _backward():
                self.grad += out.grad
                other.grad += out.grad
            out._backward = _backward
            return out

        def backward(self):
            topo, seen = [], set()

            def build(v):
                if v not in seen:
                    seen.add(v)
                    for c in v._prev:
                        build(c)
                    topo.append(v)
            build(self)
            self.grad = 1.0
            for v in reversed(topo):
                v._backward()

    def value_sin(x):
        out = Node(math.sin(x.data), (x,))

        def _backward():
            x.grad += math.cos(x.data) * out.grad
        out._backward = _backward
        return out
    assert evaluate("2.2.4", value_sin).passed


# --- the contract: reference answers pass, mistakes are named, stubs are not attempted ---

REFERENCE = {"2.2.1": central, "2.2.2": grad_f, "2.2.3": momentum_step, "2.2.4": make_sin()}

WRONG = [
    ("2.2.1", lambda f, x, h=1e-5: (f(x + h) - f(x)) / h, "forward difference"),
    ("2.2.1", lambda f, x, h=1e-5: (f(x) - f(x - h)) / h, "backward difference"),
    ("2.2.1", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / h, "divide by 2*h"),
    ("2.2.1", lambda f, x, h=1e-5: (f(x - h) - f(x + h)) / (2 * h), "sign is flipped"),
    ("2.2.1", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / 2 * h, "parentheses"),
    ("2.2.1", lambda f, x, h=1e-12: (f(x + h) - f(x - h)) / (2 * h), "default h"),
    ("2.2.1", lambda f, x, h=1e-2: (f(x + h) - f(x - h)) / (2 * h), "default h"),
    ("2.2.1", lambda f, x, h=1e-5: "slope", "one number"),
    ("2.2.2", lambda x, y: [x**2 + x * np.cos(x * y), 2 * x * y + y * np.cos(x * y)], "swapped"),
    ("2.2.2", lambda x, y: [2 * x * y + np.cos(x * y), x**2 + np.cos(x * y)], "chain rule"),
    ("2.2.2", lambda x, y: [2 * x * y - y * np.cos(x * y), x**2 - x * np.cos(x * y)], "sign error"),
    ("2.2.2", lambda x, y: [2 * x + y * np.cos(x * y), x**2 + x * np.cos(x * y)], "2xy"),
    ("2.2.2", lambda x, y: [2 * x * y + y * np.cos(x * y), 2 * x * y + x * np.cos(x * y)], "x²"),
    ("2.2.2", lambda x, y: [2 * x * y + y * np.cos(x * y)], "2 numbers"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * g, g), "plain gradient descent"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * (b * v + (1 - b) * g), b * v + (1 - b) * g), "exponential average"),
    ("2.2.3", lambda t, v, g, lr, b: (t + lr * (b * v + g), b * v + g), "uphill"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * v, b * v + g), "update v first"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * (g + b * (b * v + g)), b * v + g), "Nesterov"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * (v + b * g), v + b * g), "β multiplies the gradient"),
    ("2.2.3", lambda t, v, g, lr, b: t - lr * g, "pair"),
    ("2.2.3", lambda t, v, g, lr, b: (t - lr * (b * v + g) * 1.01, b * v + g), "torch.optim.SGD gives"),
    ("2.2.4", make_sin(local=lambda x: -math.cos(x)), "sign error"),
    ("2.2.4", make_sin(chain=False), "out.grad"),
    ("2.2.4", make_sin(accumulate=False), "accumulate"),
    ("2.2.4", make_sin(record_child=False), "child"),
    ("2.2.4", make_sin(local=lambda x: math.sin(x)), "should be cos(0.7)"),
    ("2.2.4", lambda x: math.sin(x.data), "should return a Value"),
    ("2.2.4", lambda x: Value(math.sin(x.data), (x,), "sin"), "stayed 0"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)
