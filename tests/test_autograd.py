"""utils.autograd.Value against torch.autograd (float64), and its errors on bad input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.autograd import Value

# Operations written once, applied to Values and to torch tensors alike.
UNARY = {
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "exp": lambda a: a.exp(),
    "log": lambda a: (a * a + 0.1).log(),
    "pow": lambda a: (a * a + 0.5) ** 1.5,
    "square": lambda a: a**2,
    "neg": lambda a: -a,
    "rsub": lambda a: 2.0 - a,
    "rdiv": lambda a: 1.0 / (a * a + 1.0),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 0.5),
    "radd_rmul": lambda a, b: 3.0 * a + (0.5 + b),
}


def both(x, fn):
    """Apply fn to Value leaves and to torch leaves; return (value out, leaves, torch out, leaves)."""
    leaves_v = [Value(float(v)) for v in x]
    leaves_t = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in x]
    out_v, out_t = fn(*leaves_v), fn(*leaves_t)
    out_v.backward()
    out_t.backward()
    grads_t = [0.0 if t.grad is None else t.grad.item() for t in leaves_t]
    return out_v.data, [v.grad for v in leaves_v], out_t.item(), grads_t


def assert_match(x, fn, rtol=1e-10):
    value, grads, value_ref, grads_ref = both(x, fn)
    scale = 1 + max(abs(g) for g in grads_ref)
    assert math.isclose(value, value_ref, rel_tol=rtol, abs_tol=rtol), (value, value_ref)
    assert np.allclose(grads, grads_ref, rtol=rtol, atol=rtol * scale), (grads, grads_ref)


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_ops_match_torch(name):
    for x in (-2.3, -0.4, 0.3, 1.7):
        assert_match([x], UNARY[name])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_ops_match_torch(name):
    rng = np.random.default_rng(1)
    for a, b in rng.normal(size=(5, 2)):
        assert_match([a, b], BINARY[name])


def random_expression(rng, n_leaves=4, n_ops=15):
    ops = []
    safe = {**UNARY, "exp": lambda a: a.tanh().exp()}  # no exp of a large intermediate value
    unary, binary = list(safe.values()), list(BINARY.values())
    for k in range(n_ops):
        n = n_leaves + k
        if rng.random() < 0.5:
            ops.append((unary[rng.integers(len(unary))], int(rng.integers(n))))
        else:
            ops.append((binary[rng.integers(len(binary))], int(rng.integers(n)), int(rng.integers(n))))

    def fn(*leaves):
        nodes = list(leaves)
        for op, *idx in ops:
            nodes.append(op(*(nodes[i] for i in idx)))
        return sum(nodes[n_leaves:])
    return fn


def test_random_expressions_match_torch():
    rng = np.random.default_rng(0)
    for _ in range(100):
        assert_match(rng.normal(size=4), random_expression(rng))


def test_reused_node_accumulates():
    # x used three times: d/dx (x*x + x) = 2x + 1
    x = Value(1.5)
    (x * x + x).backward()
    assert x.grad == 4.0


def test_deep_graph_needs_no_recursion():
    x = Value(0.5)
    y = x
    for _ in range(5000):  # deeper than Python's default recursion limit
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_gradients_accumulate_across_backward_calls_like_torch():
    x = Value(2.0)
    (x * 3.0).backward()
    (x * 3.0).backward()
    assert x.grad == 6.0


finite = st.floats(min_value=-5, max_value=5, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite, c=finite)
def test_property_smooth_expression_matches_torch(a, b, c):
    assert_match([a, b, c], lambda x, y, z: (x * y - z).tanh() * (y / (z * z + 1.0)).sigmoid() + (x * x + 1.0).log())


@settings(max_examples=60, deadline=None)
@given(a=finite, b=finite)
def test_property_gradient_is_linear(a, b):
    # ∇(f + 2g) = ∇f + 2∇g for f = a*b, g = tanh(a) - b**2
    def grads(fn):
        x, y = Value(a), Value(b)
        fn(x, y).backward()
        return np.array([x.grad, y.grad])
    f = lambda x, y: x * y  # noqa: E731
    g = lambda x, y: x.tanh() - y**2  # noqa: E731
    assert np.allclose(grads(lambda x, y: f(x, y) + 2.0 * g(x, y)), grads(f) + 2 * grads(g), atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(min_value=-30, max_value=30, allow_nan=False))
def test_property_sigmoid_and_tanh_gradients_bounded(a):
    x = Value(a)
    x.sigmoid().backward()
    assert 0.0 <= x.grad <= 0.25
    x = Value(a)
    x.tanh().backward()
    assert 0.0 <= x.grad <= 1.0


@settings(max_examples=60, deadline=None)
@given(a=st.floats(min_value=-800, max_value=800, allow_nan=False))
def test_property_sigmoid_never_overflows(a):
    s = Value(a).sigmoid()
    assert 0.0 <= s.data <= 1.0
    assert math.isclose(s.data, torch.sigmoid(torch.tensor(a, dtype=torch.float64)).item(), rel_tol=1e-12, abs_tol=1e-300)


# --- bad input gives a clear error -------------------------------------------------

@pytest.mark.parametrize("bad, error, phrase", [
    (lambda: Value(-1.0).log(), ValueError, "positive"),
    (lambda: Value(0.0).log(), ValueError, "positive"),
    (lambda: Value(2.0) + "3", TypeError, "unsupported operand"),
    (lambda: "3" * Value(2.0), TypeError, "can't multiply"),
    (lambda: Value(2.0) * None, TypeError, "unsupported operand"),
    (lambda: Value(2.0) ** Value(3.0), TypeError, "exponent must be a constant"),
    (lambda: Value(-2.0) ** 0.5, ValueError, "negative base"),
    (lambda: Value(0.0) ** -1, ValueError, "infinite derivative"),
    (lambda: Value(1.0) / 0, ZeroDivisionError, "division by zero"),
    (lambda: 1.0 / Value(0.0), ZeroDivisionError, "division by zero"),
    (lambda: Value(1000.0).exp(), OverflowError, "overflows"),
    (lambda: Value("1.5"), TypeError, "real number"),
    (lambda: Value(True), TypeError, "real number"),
    (lambda: Value([1.0, 2.0]), TypeError, "real number"),
])
def test_bad_input_raises_a_clear_error(bad, error, phrase):
    with pytest.raises(error, match=phrase):
        bad()


def test_numpy_scalars_are_accepted():
    x = Value(np.float64(2.0))
    y = x * np.float32(3.0) + np.int64(1)
    y.backward()
    assert y.data == 7.0 and x.grad == 3.0


def test_repr_shows_data_and_grad():
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0)"
