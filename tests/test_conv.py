"""utils.conv against PyTorch in float64: convolution, pooling, flatten, forward and backward; bad inputs."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from utils import conv, nn

TOL = 1e-6
FAST = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**31 - 1)


def forward_backward_torch(module, X, dY):
    X_t = torch.tensor(X, requires_grad=True)
    Y_t = module(X_t)
    Y_t.backward(torch.tensor(dY))
    return Y_t.detach().numpy(), X_t.grad.numpy()


@FAST
@given(N=st.integers(1, 3), C=st.integers(1, 3), F_out=st.integers(1, 4), H=st.integers(1, 9), W=st.integers(1, 9),
       kh=st.integers(1, 4), kw=st.integers(1, 4), stride=st.integers(1, 3), padding=st.integers(0, 2), seed=seeds)
def test_conv2d_layer_matches_torch(N, C, F_out, H, W, kh, kw, stride, padding, seed):
    assume(kh <= H + 2 * padding and kw <= W + 2 * padding)
    torch.manual_seed(seed)
    module = torch.nn.Conv2d(C, F_out, (kh, kw), stride=stride, padding=padding).double()
    layer = conv.Conv2D.from_torch(module)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, C, H, W))
    Y = layer(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    Y_t, dX_t = forward_backward_torch(module, X, dY)
    assert Y.shape == Y_t.shape
    assert np.abs(Y - Y_t).max() <= TOL and np.abs(dX - dX_t).max() <= TOL
    assert np.abs(layer.grads["W"] - module.weight.grad.numpy()).max() <= TOL
    assert np.abs(layer.grads["b"] - module.bias.grad.numpy()).max() <= TOL


@FAST
@given(N=st.integers(1, 3), C=st.integers(1, 3), H=st.integers(1, 9), W=st.integers(1, 9), k=st.integers(1, 4),
       stride=st.integers(1, 3), padding=st.integers(0, 2), seed=seeds, kind=st.sampled_from(["max", "avg"]))
def test_pooling_matches_torch(N, C, H, W, k, stride, padding, seed, kind):
    assume(padding <= k // 2 and k <= H + 2 * padding and k <= W + 2 * padding)
    ours = (conv.MaxPool2D if kind == "max" else conv.AvgPool2D)(k, stride=stride, padding=padding)
    theirs = (torch.nn.MaxPool2d if kind == "max" else torch.nn.AvgPool2d)(k, stride=stride, padding=padding)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, C, H, W))
    Y = ours(X)
    dY = rng.normal(size=Y.shape)
    Y_t, dX_t = forward_backward_torch(theirs, X, dY)
    assert Y.shape == Y_t.shape and np.abs(Y - Y_t).max() <= TOL
    assert np.abs(ours.backward(dY) - dX_t).max() <= TOL


def test_max_pool_ties_go_to_the_first_maximum_like_torch():
    X = np.zeros((1, 1, 4, 4))  # every window is a tie (e.g. after ReLU)
    ours = conv.MaxPool2D(2)
    ours(X)
    dY = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    _, dX_t = forward_backward_torch(torch.nn.MaxPool2d(2), X, dY)
    assert np.array_equal(ours.backward(dY), dX_t)


@FAST
@given(n=st.integers(1, 30), k=st.integers(1, 7), padding=st.integers(0, 3), stride=st.integers(1, 4))
def test_conv_output_size_matches_torch(n, k, padding, stride):
    if k > n + 2 * padding:
        with pytest.raises(ValueError, match="does not fit"):
            conv.conv_output_size(n, k, padding, stride)
        return
    out = F.conv2d(torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1), stride=stride, padding=(padding, 0)).shape[2]
    assert conv.conv_output_size(n, k, padding, stride) == out


@FAST
@given(N=st.integers(1, 2), C=st.integers(1, 3), H=st.integers(2, 7), W=st.integers(2, 7), k=st.integers(1, 3),
       stride=st.integers(1, 3), padding=st.integers(0, 2), seed=seeds)
def test_col2im_is_the_adjoint_of_im2col(N, C, H, W, k, stride, padding, seed):
    """<im2col(X), G> == <X, col2im(G)> for all X, G: the backward of a copy is a sum."""
    assume(k <= H + 2 * padding and k <= W + 2 * padding)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, C, H, W))
    cols, _, _ = conv.im2col(X, k, k, stride, padding)
    G = rng.normal(size=cols.shape)
    assert np.isclose(np.sum(cols * G), np.sum(X * conv.col2im(G, X.shape, k, k, stride, padding)))


def test_functional_conv2d_and_backward_match_torch():
    rng = np.random.default_rng(0)
    X, W, b = rng.normal(size=(2, 3, 8, 7)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    Y = conv.conv2d(X, W, b, stride=2, padding=1)
    dY = rng.normal(size=Y.shape)
    dX, dW, db = conv.conv2d_backward(dY, X, W, stride=2, padding=1)
    tensors = [torch.tensor(a, requires_grad=True) for a in (X, W, b)]
    Y_t = F.conv2d(*tensors, stride=2, padding=1)
    Y_t.backward(torch.tensor(dY))
    assert np.abs(Y - Y_t.detach().numpy()).max() <= TOL
    for ours, t in zip((dX, dW, db), tensors):
        assert np.abs(ours - t.grad.numpy()).max() <= TOL
    assert np.allclose(conv.conv2d(X, W), F.conv2d(torch.tensor(X), torch.tensor(W)).numpy())  # no bias


def test_flatten_and_a_whole_cnn_match_torch():
    torch.manual_seed(0)
    torch_cnn = torch.nn.Sequential(torch.nn.Conv2d(2, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Conv2d(4, 3, 2), torch.nn.Tanh(), torch.nn.AvgPool2d(2),
                                    torch.nn.Flatten(), torch.nn.Linear(3, 5)).double()
    net = nn.Sequential(conv.Conv2D.from_torch(torch_cnn[0]), nn.ReLU(), conv.MaxPool2D(2),
                        conv.Conv2D.from_torch(torch_cnn[3]), nn.Tanh(), conv.AvgPool2D(2), conv.Flatten(),
                        nn.Dense.from_torch(torch_cnn[7]))
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(3, 2, 6, 6)), np.array([0, 4, 2])
    loss_fn = nn.SoftmaxCrossEntropy()
    loss = loss_fn(net(X), y)
    dX = net.backward(loss_fn.backward())
    X_t = torch.tensor(X, requires_grad=True)
    loss_t = F.cross_entropy(torch_cnn(X_t), torch.tensor(y))
    loss_t.backward()
    assert abs(loss - loss_t.item()) <= TOL and np.abs(dX - X_t.grad.numpy()).max() <= TOL
    assert np.abs(net[0].grads["W"] - torch_cnn[0].weight.grad.numpy()).max() <= TOL
    assert np.abs(net[3].grads["W"] - torch_cnn[3].weight.grad.numpy()).max() <= TOL
    assert nn.gradient_check(net, X[:1], y=y[:1], loss=nn.SoftmaxCrossEntropy()) < 1e-7


def test_conv_layer_init_and_repr():
    layer = conv.Conv2D(4, 8, 3, np.random.default_rng(0), stride=2, padding=1)
    assert layer.params["W"].shape == (8, 4, 3, 3) and layer.params["b"].shape == (8,)
    assert str(layer) == "Conv2D(4 -> 8, 3x3, stride 2, padding 1)"
    big = conv.Conv2D(16, 64, 3, np.random.default_rng(0))
    assert abs(big.params["W"].std() - np.sqrt(2 / (16 * 9))) < 0.01  # He initialisation
    assert str(conv.MaxPool2D(2)) == "MaxPool2D(2x2, stride 2)"


# --- bad inputs ----------------------------------------------------------------------

def test_kernel_larger_than_input():
    layer = conv.Conv2D(1, 2, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Conv2D\(1 -> 2, 5x5\).*5x5 kernel does not fit in the 3x3 input"):
        layer(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        conv.MaxPool2D(4)(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="does not fit"):
        conv.conv2d(np.zeros((1, 1, 2, 9)), np.zeros((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"larger than the padded input \(size 3 \+ 2 × 0 = 3\)"):
        conv.conv_output_size(3, 5)


def test_channel_and_shape_mismatch_messages_name_layer_and_shapes():
    layer = conv.Conv2D(3, 8, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"Conv2D\(3 -> 8, 3x3\).*\(batch, 3, height, width\).*\(2, 4, 8, 8\)"):
        layer(np.zeros((2, 4, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2D\(3 -> 8, 3x3\).*4-D.*\(3, 8, 8\)"):
        layer(np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match=r"MaxPool2D.*4-D.*\(8, 8\)"):
        conv.MaxPool2D(2)(np.zeros((8, 8)))
    layer(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"Conv2D.*\(2, 8, 6, 6\).*\(2, 8, 8, 8\)"):
        layer.backward(np.zeros((2, 8, 8, 8)))
    with pytest.raises(ValueError, match=r"weights of shape \(4, 2, 3, 3\).*\(1, 3, 5, 5\)"):
        conv.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"bias.*\(4,\)"):
        conv.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((4, 2, 3, 3)), b=np.zeros(3))


@pytest.mark.parametrize("layer", [conv.Conv2D(1, 2, 3, np.random.default_rng(0)), conv.MaxPool2D(2),
                                   conv.AvgPool2D(2), conv.Flatten()])
def test_empty_batch_nan_and_non_numeric(layer):
    with pytest.raises(ValueError, match="empty batch"):
        layer(np.zeros((0, 1, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        layer(np.full((1, 1, 4, 4), np.nan))
    with pytest.raises(TypeError, match="numeric"):
        layer("image")


def test_argument_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        conv.Conv2D(1, 2, 3, rng, stride=0)
    with pytest.raises(TypeError, match="padding must be an integer"):
        conv.Conv2D(1, 2, 3, rng, padding=1.5)
    with pytest.raises(ValueError, match="at most half the kernel"):
        conv.MaxPool2D(2, padding=2)
    with pytest.raises(TypeError, match="Generator"):
        conv.Conv2D(1, 2, 3, rng=42)
    with pytest.raises(ValueError, match="groups=1"):
        conv.Conv2D.from_torch(torch.nn.Conv2d(2, 2, 3, groups=2))
    with pytest.raises(RuntimeError, match="before forward"):
        conv.MaxPool2D(2).backward(np.zeros((1, 1, 2, 2)))
