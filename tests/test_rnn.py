"""utils.rnn (RNN, LSTM, GRU, clip_grad_norm) against PyTorch in float64, and its errors on bad input."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import rnn

LAYERS = [(rnn.RNN, torch.nn.RNN), (rnn.LSTM, torch.nn.LSTM), (rnn.GRU, torch.nn.GRU)]
IDS = ["RNN", "LSTM", "GRU"]
TOL = 1e-6


def torch_pair(ours_cls, torch_cls, input_size, hidden_size, seed):
    torch.manual_seed(seed)
    module = torch_cls(input_size, hidden_size, batch_first=True).double()
    with torch.no_grad():  # larger weights than the default init: saturated gates are tested too
        for p in module.parameters():
            p.mul_(2.0)
    return ours_cls.from_torch(module), module


def run_both(layer, module, X, state, dY):
    """Forward and backward through our layer and the torch module; return both sets of results."""
    is_lstm = isinstance(layer, rnn.LSTM)
    Y = layer.forward(X, state)
    dX = layer.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    if state is None:
        state_t = None
    elif is_lstm:
        state_t = tuple(torch.tensor(s[None], requires_grad=True) for s in state)
    else:
        state_t = torch.tensor(state[None], requires_grad=True)
    Yt, final_t = module(Xt, state_t)
    Yt.backward(torch.tensor(dY))
    return Y, dX, Xt, Yt, final_t, state_t


@pytest.mark.parametrize("ours_cls, torch_cls", LAYERS, ids=IDS)
@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 4), time=st.integers(1, 7), input_size=st.integers(1, 5),
       hidden_size=st.integers(1, 6), with_state=st.booleans(), seed=st.integers(0, 10_000))
def test_forward_and_backward_match_torch(ours_cls, torch_cls, batch, time, input_size, hidden_size,
                                          with_state, seed):
    layer, module = torch_pair(ours_cls, torch_cls, input_size, hidden_size, seed)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, time, input_size))
    dY = rng.normal(size=(batch, time, hidden_size))
    is_lstm = ours_cls is rnn.LSTM
    state = None
    if with_state:
        h0 = rng.normal(size=(batch, hidden_size))
        state = (h0, rng.normal(size=(batch, hidden_size))) if is_lstm else h0
    Y, dX, Xt, Yt, final_t, state_t = run_both(layer, module, X, state, dY)

    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=TOL, rtol=0)
    for name in layer.params:
        np.testing.assert_allclose(layer.grads[name], getattr(module, f"{name}_l0").grad.numpy(),
                                   atol=TOL, rtol=0, err_msg=name)
    if is_lstm:
        np.testing.assert_allclose(layer.state[0], final_t[0][0].detach().numpy(), atol=TOL, rtol=0)
        np.testing.assert_allclose(layer.state[1], final_t[1][0].detach().numpy(), atol=TOL, rtol=0)
    else:
        np.testing.assert_allclose(layer.state, final_t[0].detach().numpy(), atol=TOL, rtol=0)
    if with_state:
        if is_lstm:
            np.testing.assert_allclose(layer.dstate[0], state_t[0].grad[0].numpy(), atol=TOL, rtol=0)
            np.testing.assert_allclose(layer.dstate[1], state_t[1].grad[0].numpy(), atol=TOL, rtol=0)
        else:
            np.testing.assert_allclose(layer.dstate, state_t.grad[0].numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("ours_cls, torch_cls", LAYERS, ids=IDS)
def test_long_sequence_matches_torch(ours_cls, torch_cls):
    layer, module = torch_pair(ours_cls, torch_cls, 3, 8, seed=1)
    rng = np.random.default_rng(1)
    X, dY = rng.normal(size=(2, 60, 3)), rng.normal(size=(2, 60, 8))
    Y, dX, Xt, Yt, _, _ = run_both(layer, module, X, None, dY)
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=TOL, rtol=0)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=TOL, rtol=0)


@pytest.mark.parametrize("ours_cls, torch_cls", LAYERS, ids=IDS)
def test_state_carries_a_sequence_across_calls(ours_cls, torch_cls):
    """Two halves fed one after the other (state=layer.state) give the output of the whole."""
    layer, _ = torch_pair(ours_cls, torch_cls, 2, 4, seed=3)
    X = np.random.default_rng(3).normal(size=(3, 10, 2))
    whole = layer.forward(X)
    first = layer.forward(X[:, :4])
    second = layer.forward(X[:, 4:], state=layer.state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-12)


@pytest.mark.parametrize("ours_cls", [c for c, _ in LAYERS], ids=IDS)
def test_init_is_float64_with_torch_shapes_and_range(ours_cls):
    layer = ours_cls(5, 7, rng=np.random.default_rng(0))
    G = ours_cls.num_gates
    assert {k: v.shape for k, v in layer.params.items()} == {
        "weight_ih": (G * 7, 5), "weight_hh": (G * 7, 7), "bias_ih": (G * 7,), "bias_hh": (G * 7,)}
    for name, value in layer.params.items():
        assert value.dtype == np.float64
        assert np.abs(value).max() <= 1 / np.sqrt(7)
        assert layer.grads[name].shape == value.shape
    again = ours_cls(5, 7, rng=np.random.default_rng(0))
    assert all(np.array_equal(layer.params[k], again.params[k]) for k in layer.params)


@pytest.mark.parametrize("ours_cls, torch_cls", LAYERS, ids=IDS)
def test_bad_inputs_give_clear_errors(ours_cls, torch_cls):
    layer = ours_cls(4, 3, rng=np.random.default_rng(0))
    kind = ours_cls.kind
    with pytest.raises(ValueError, match=rf"{kind}\(4 -> 3\): expected input with 4 features, got shape \(2, 5, 6\)"):
        layer.forward(np.zeros((2, 5, 6)))
    with pytest.raises(ValueError, match=r"batch, time, 4.*got shape \(5, 4\).*X\[None\]"):
        layer.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="batch is empty"):
        layer.forward(np.zeros((0, 5, 4)))
    with pytest.raises(ValueError, match="no time steps"):
        layer.forward(np.zeros((2, 0, 4)))
    with pytest.raises(TypeError, match="array of numbers"):
        layer.forward("not an array")
    with pytest.raises(TypeError, match="array of numbers"):
        layer.forward(np.array([[["a"] * 4]]))
    with pytest.raises(RuntimeError, match="forward"):
        ours_cls(4, 3, rng=np.random.default_rng(0)).backward(np.zeros((2, 5, 3)))
    layer.forward(np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"dY must have the shape of the output \(2, 5, 3\)"):
        layer.backward(np.zeros((2, 5, 4)))
    bad_h0 = np.zeros((1, 2, 3))
    with pytest.raises(ValueError, match=r"\(batch, hidden\) = \(2, 3\).*drop the first axis"):
        layer.forward(np.zeros((2, 5, 4)), state=(bad_h0, np.zeros((2, 3))) if kind == "LSTM" else bad_h0)
    with pytest.raises(TypeError, match="rng"):
        ours_cls(4, 3, rng=0)
    with pytest.raises(ValueError, match="hidden_size must be at least 1"):
        ours_cls(4, 0, rng=np.random.default_rng(0))


def test_lstm_state_must_be_a_pair():
    layer = rnn.LSTM(2, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"pair \(h0, c0\)"):
        layer.forward(np.zeros((1, 2, 2)), state=np.zeros((1, 3)))


def test_from_torch_rejects_what_it_cannot_copy():
    with pytest.raises(TypeError, match="expects a torch.nn.LSTM, got GRU"):
        rnn.LSTM.from_torch(torch.nn.GRU(2, 3))
    with pytest.raises(ValueError, match="num_layers=2"):
        rnn.GRU.from_torch(torch.nn.GRU(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="bidirectional"):
        rnn.LSTM.from_torch(torch.nn.LSTM(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="'relu'"):
        rnn.RNN.from_torch(torch.nn.RNN(2, 3, nonlinearity="relu"))


def torch_clip(arrays, max_norm):
    params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = torch.tensor(a)
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad.numpy() for p in params], norm.item()


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=4), scale=st.floats(1e-3, 1e3),
       max_norm=st.floats(0.01, 100.0), seed=st.integers(0, 10_000))
def test_clip_grad_norm_matches_torch(sizes, scale, max_norm, seed):
    rng = np.random.default_rng(seed)
    grads = {f"g{i}": scale * rng.normal(size=(n, 2)) for i, n in enumerate(sizes)}
    expected, expected_norm = torch_clip([g.copy() for g in grads.values()], max_norm)
    norm = rnn.clip_grad_norm(grads, max_norm)
    assert np.isclose(norm, expected_norm, rtol=1e-12)
    for ours, ref in zip(grads.values(), expected):
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-300)


def test_clip_grad_norm_shares_one_norm_across_layers_and_keeps_direction():
    a = {"w": np.array([3.0, 0.0])}
    b = {"w": np.array([[0.0, 4.0]])}
    norm = rnn.clip_grad_norm([a, b], max_norm=1.0)
    assert norm == 5.0
    np.testing.assert_allclose(a["w"], [0.6, 0.0], atol=1e-6)
    np.testing.assert_allclose(b["w"], [[0.0, 0.8]], atol=1e-6)
    small = {"w": np.array([0.3, 0.4])}
    assert rnn.clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small["w"], [0.3, 0.4])  # below the threshold: untouched


def test_clip_grad_norm_bad_inputs():
    with pytest.raises(ValueError, match="positive"):
        rnn.clip_grad_norm({"w": np.ones(2)}, 0.0)
    with pytest.raises(TypeError, match="max_norm must be a number"):
        rnn.clip_grad_norm({"w": np.ones(2)}, "1")
    with pytest.raises(TypeError, match="float NumPy array"):
        rnn.clip_grad_norm({"w": [1.0, 2.0]}, 1.0)
    with pytest.raises(TypeError, match="dict of arrays"):
        rnn.clip_grad_norm(3.0, 1.0)
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        rnn.clip_grad_norm({"w": np.array([np.nan, 1.0])}, 1.0, error_if_nonfinite=True)
