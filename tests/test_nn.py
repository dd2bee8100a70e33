"""utils.nn against PyTorch in float64: every layer forward and backward, losses, optimisers, errors."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import nn

TOL = 1e-6
FAST = settings(max_examples=25, deadline=None)

dims = st.integers(1, 7)
seeds = st.integers(0, 2**32 - 1)

ACTIVATIONS = [
    (nn.Sigmoid, torch.sigmoid),
    (nn.Tanh, torch.tanh),
    (nn.ReLU, torch.relu),
    (nn.GELU, lambda t: torch.nn.functional.gelu(t)),
    (lambda: nn.GELU(approximate="tanh"), lambda t: torch.nn.functional.gelu(t, approximate="tanh")),
]


def torch_forward_backward(fn, X, dY):
    X_t = torch.tensor(X, requires_grad=True)
    Y_t = fn(X_t)
    Y_t.backward(torch.tensor(dY))
    return Y_t.detach().numpy(), X_t.grad.numpy()


@pytest.mark.parametrize("make, torch_fn", ACTIVATIONS)
@FAST
@given(batch=dims, features=dims, extra=st.integers(0, 3), scale=st.floats(0.1, 30), seed=seeds)
def test_activation_matches_torch(make, torch_fn, batch, features, extra, scale, seed):
    rng = np.random.default_rng(seed)
    shape = (batch, features) + (extra,) * (extra > 0)  # 2-D or 3-D input: activations take any shape
    X = rng.normal(scale=scale, size=shape)
    dY = rng.normal(size=shape)
    layer = make()
    Y = layer(X)
    dX = layer.backward(dY)
    Y_t, dX_t = torch_forward_backward(torch_fn, X, dY)
    assert np.abs(Y - Y_t).max() <= TOL and np.abs(dX - dX_t).max() <= TOL


def test_torch_gelu_default_is_the_exact_erf_form():
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    assert np.allclose(torch.nn.GELU()(x).numpy(), nn.GELU().f(x.numpy()), atol=1e-14)
    assert np.abs(nn.GELU(approximate="tanh").f(x.numpy()) - nn.GELU().f(x.numpy())).max() > 1e-4


def test_sigmoid_does_not_overflow():
    Y = nn.Sigmoid()(np.array([[-1000.0, 0.0, 1000.0]]))
    assert np.allclose(Y, [[0.0, 0.5, 1.0]])


@FAST
@given(batch=dims, d_in=dims, d_out=dims, seed=seeds)
def test_dense_matches_torch_linear(batch, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed % 2**31)
    linear = torch.nn.Linear(d_in, d_out).double()
    dense = nn.Dense.from_torch(linear)
    X, dY = rng.normal(size=(batch, d_in)), rng.normal(size=(batch, d_out))
    Y = dense(X)
    dX = dense.backward(dY)
    X_t = torch.tensor(X, requires_grad=True)
    linear(X_t).backward(torch.tensor(dY))
    assert np.abs(Y - linear(X_t).detach().numpy()).max() <= TOL
    assert np.abs(dX - X_t.grad.numpy()).max() <= TOL
    assert np.abs(dense.grads["W"] - linear.weight.grad.numpy().T).max() <= TOL
    assert np.abs(dense.grads["b"] - linear.bias.grad.numpy()).max() <= TOL


def test_dense_init_scales():
    rng = np.random.default_rng(0)
    assert abs(nn.Dense(400, 300, rng).params["W"].std() - np.sqrt(2 / 400)) < 0.003
    assert abs(nn.Dense(400, 300, rng, init="xavier").params["W"].std() - np.sqrt(2 / 700)) < 0.003
    assert not nn.Dense(4, 3, rng).params["b"].any()


@FAST
@given(batch=dims, classes=st.integers(2, 9), scale=st.floats(0.1, 50), seed=seeds)
def test_softmax_cross_entropy_matches_torch(batch, classes, scale, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=scale, size=(batch, classes))
    y = rng.integers(0, classes, size=batch)
    soft = rng.dirichlet(np.ones(classes), size=batch)
    for target, target_t in ((y, torch.tensor(y)), (soft, torch.tensor(soft))):
        loss_fn = nn.SoftmaxCrossEntropy()
        loss = loss_fn(logits, target)
        Z_t = torch.tensor(logits, requires_grad=True)
        loss_t = torch.nn.functional.cross_entropy(Z_t, target_t)
        loss_t.backward()
        assert abs(loss - loss_t.item()) <= TOL
        assert np.abs(loss_fn.backward() - Z_t.grad.numpy()).max() <= TOL
        assert np.allclose(loss_fn.probs.sum(axis=1), 1.0)


@FAST
@given(batch=dims, labels=dims, scale=st.floats(0.1, 50), seed=seeds)
def test_sigmoid_bce_matches_torch(batch, labels, scale, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=scale, size=(batch, labels))
    targets = rng.integers(0, 2, size=(batch, labels)).astype(float)
    loss_fn = nn.SigmoidBCE()
    loss = loss_fn(logits, targets)
    Z_t = torch.tensor(logits, requires_grad=True)
    loss_t = torch.nn.functional.binary_cross_entropy_with_logits(Z_t, torch.tensor(targets))
    loss_t.backward()
    assert abs(loss - loss_t.item()) <= TOL
    assert np.abs(loss_fn.backward() - Z_t.grad.numpy()).max() <= TOL


def _twin_networks(sizes, seed, activation=torch.nn.Tanh, ours=nn.Tanh):
    torch.manual_seed(seed)
    modules = []
    for d_in, d_out in zip(sizes[:-1], sizes[1:]):
        modules += [torch.nn.Linear(d_in, d_out), activation()]
    torch_net = torch.nn.Sequential(*modules[:-1]).double()
    net = nn.Sequential(*[nn.Dense.from_torch(m) if isinstance(m, torch.nn.Linear) else ours() for m in torch_net])
    return net, torch_net


@FAST
@given(sizes=st.lists(dims, min_size=2, max_size=5), batch=dims, seed=st.integers(0, 2**31 - 1))
def test_sequential_matches_torch(sizes, batch, seed):
    net, torch_net = _twin_networks(sizes, seed)
    rng = np.random.default_rng(seed)
    X, dY = rng.normal(size=(batch, sizes[0])), rng.normal(size=(batch, sizes[-1]))
    Y = net(X)
    dX = net.backward(dY)
    X_t = torch.tensor(X, requires_grad=True)
    Y_t = torch_net(X_t)
    Y_t.backward(torch.tensor(dY))
    assert np.abs(Y - Y_t.detach().numpy()).max() <= TOL and np.abs(dX - X_t.grad.numpy()).max() <= TOL
    for layer, module in zip(net.layers[::2], torch_net[::2]):
        assert np.abs(layer.grads["W"] - module.weight.grad.numpy().T).max() <= TOL
    pairs = list(net.parameters())
    assert len(pairs) == 2 * (len(sizes) - 1) and all(name in layer.params for layer, name in pairs)


OPTIMISERS = [
    (lambda n: nn.SGD(n, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda n: nn.SGD(n, lr=0.05, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.01)),
    (lambda n: nn.Momentum(n, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    (lambda n: nn.Momentum(n, lr=0.05, momentum=0.5, weight_decay=0.1),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.5, weight_decay=0.1)),
    (lambda n: nn.Adam(n, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    (lambda n: nn.Adam(n, lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
     lambda p: torch.optim.Adam(p, lr=0.003, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
]


@pytest.mark.parametrize("make_ours, make_theirs", OPTIMISERS)
def test_optimiser_takes_the_same_steps_as_torch(make_ours, make_theirs):
    net, torch_net = _twin_networks([4, 6, 3], seed=5)
    ours, theirs = make_ours(net), make_theirs(torch_net.parameters())
    loss_fn = nn.SoftmaxCrossEntropy()
    rng = np.random.default_rng(5)
    for _ in range(25):
        X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
        loss = loss_fn(net(X), y)
        net.backward(loss_fn.backward())
        ours.step()
        theirs.zero_grad()
        loss_t = torch.nn.functional.cross_entropy(torch_net(torch.tensor(X)), torch.tensor(y))
        loss_t.backward()
        theirs.step()
        assert abs(loss - loss_t.item()) <= TOL
    for layer, module in zip(net.layers[::2], torch_net[::2]):
        assert np.abs(layer.params["W"] - module.weight.detach().numpy().T).max() <= TOL
        assert np.abs(layer.params["b"] - module.bias.detach().numpy()).max() <= TOL


def test_adam_first_step_is_lr_times_sign():
    net = nn.Sequential(nn.Dense(3, 2, np.random.default_rng(0)))
    W0 = net[0].params["W"].copy()
    net[0].grads["W"] = np.array([[1.0, -2.0], [3e-3, -4e3], [0.5, 7.0]])
    net[0].grads["b"] = np.zeros(2)
    nn.Adam(net, lr=0.1).step()
    assert np.allclose(W0 - net[0].params["W"], 0.1 * np.sign(net[0].grads["W"]), atol=1e-6)


def test_numerical_gradient_of_a_known_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = nn.numerical_gradient(lambda a: np.sum(a**3) + a[0, 1] * a[1, 0], x)
    expected = 3 * x**2 + np.array([[0, x[1, 0]], [x[0, 1], 0]])
    assert np.allclose(g, expected, atol=1e-6)
    assert np.array_equal(x, [[1.0, -2.0], [0.5, 3.0]])  # restored
    with pytest.raises(TypeError, match="float64"):
        nn.numerical_gradient(lambda a: a.sum(), np.array([1, 2]))


def test_gradient_check_accepts_correct_and_rejects_broken_backward():
    rng = np.random.default_rng(0)
    net = nn.Sequential(nn.Dense(4, 5, rng), nn.Tanh(), nn.Dense(5, 3, rng), nn.GELU())
    X, y = rng.normal(size=(3, 4)), np.array([0, 2, 1])
    assert nn.gradient_check(net, X) < 1e-7
    assert nn.gradient_check(net, X, y=y, loss=nn.SoftmaxCrossEntropy()) < 1e-7

    class BrokenDense(nn.Dense):
        def backward(self, dY):
            dX = super().backward(dY)
            self.grads["W"] = dY.T @ self._X  # wrong: transposed (only legal for square W)
            return dX

    broken = nn.Sequential(BrokenDense(4, 4, rng), nn.Tanh())
    errors = nn.gradient_errors(broken, rng.normal(size=(4, 4)))
    assert errors["0.W"] > 0.01 and errors["X"] < 1e-7


# --- bad inputs ----------------------------------------------------------------------

def test_dense_shape_mismatch_names_layer_and_shapes():
    layer = nn.Dense(64, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Dense\(64 -> 10\).*64 features.*\(32, 63\)"):
        layer(np.zeros((32, 63)))
    with pytest.raises(ValueError, match=r"Dense\(64 -> 10\).*\(32, 4, 16\)"):
        layer(np.zeros((32, 4, 16)))


@pytest.mark.parametrize("layer", [nn.Dense(3, 2, np.random.default_rng(0)), nn.ReLU(), nn.Sigmoid(), nn.GELU()])
def test_empty_batch_nan_and_non_numeric_input(layer):
    with pytest.raises(ValueError, match="empty batch"):
        layer(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="NaN"):
        layer(np.array([[1.0, np.nan, 0.0]]))
    with pytest.raises(TypeError, match="numeric"):
        layer("abc")
    with pytest.raises(TypeError, match="numeric"):
        layer(np.array([["a", "b", "c"]]))
    with pytest.raises(ValueError, match="scalar"):
        layer(np.float64(1.0))


def test_backward_errors():
    layer = nn.Dense(3, 2, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((4, 2)))
    layer(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Dense\(3 -> 2\).*\(4, 2\).*\(4, 3\)"):
        layer.backward(np.zeros((4, 3)))
    relu = nn.ReLU()
    relu(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"ReLU.*\(2, 5\).*\(5, 2\)"):
        relu.backward(np.zeros((5, 2)))


def test_loss_errors():
    ce = nn.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        ce(np.zeros((4, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        ce(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="integers"):
        ce(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="empty batch"):
        ce(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.SoftmaxCrossEntropy().backward()
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 2\)"):
        nn.SigmoidBCE()(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.SigmoidBCE()(np.zeros((2, 2)), np.full((2, 2), 2.0))


def test_constructor_and_optimiser_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="at least 1"):
        nn.Dense(0, 3, rng)
    with pytest.raises(TypeError, match="Generator"):
        nn.Dense(2, 3, 0)
    with pytest.raises(ValueError, match="init"):
        nn.Dense(2, 3, rng, init="zeros")
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU(approximate="fast")
    with pytest.raises(TypeError, match="not a layer"):
        nn.Sequential(nn.ReLU(), "relu")
    net = nn.Sequential(nn.Dense(2, 3, rng))
    with pytest.raises(ValueError, match="lr"):
        nn.SGD(net, lr=-1)
    with pytest.raises(ValueError, match="no parameters"):
        nn.Adam(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="momentum"):
        nn.Momentum(net, momentum=1.0)
