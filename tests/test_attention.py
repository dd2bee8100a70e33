"""utils.attention against PyTorch in float64 (forward and backward), and its error messages."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import attention

TOL = 1e-9  # the course's bar is 1e-6; float64 gives far better


def t64(a, grad=True):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def close(ours, ref, tol=TOL):
    ref = ref.detach().numpy() if isinstance(ref, torch.Tensor) else np.asarray(ref)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    assert np.max(np.abs(ours - ref)) <= tol, np.max(np.abs(ours - ref))


def random_keep_mask(rng, shape):
    """A boolean mask with at least one allowed key per query."""
    mask = rng.random(shape) < 0.6
    mask[..., rng.integers(0, shape[-1])] = True
    return mask


sizes = st.integers(1, 4)


# --- scaled dot-product attention ------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(B=sizes, H=sizes, T_q=st.integers(1, 6), T_k=st.integers(1, 6), d_k=st.integers(1, 8),
       d_v=st.integers(1, 8), mask_kind=st.sampled_from(["none", "causal", "random", "float"]),
       seed=st.integers(0, 2**16))
def test_sdpa_forward_backward_match_torch(B, H, T_q, T_k, d_k, d_v, mask_kind, seed):
    rng = np.random.default_rng(seed)
    if mask_kind == "causal":
        T_k = T_q
    Q, K = rng.normal(size=(B, H, T_q, d_k)), rng.normal(size=(B, H, T_k, d_k))
    V = rng.normal(size=(B, H, T_k, d_v))
    kwargs, mask = {}, None
    if mask_kind == "causal":
        mask, kwargs = attention.causal_mask(T_q), {"is_causal": True}
    elif mask_kind == "random":
        mask = random_keep_mask(rng, (B, 1, T_q, T_k))
        kwargs = {"attn_mask": torch.tensor(mask)}
    elif mask_kind == "float":
        mask = rng.normal(size=(T_q, T_k))  # an additive bias, like ALiBi or relative positions
        kwargs = {"attn_mask": t64(mask, grad=False)}
    out, P = attention.scaled_dot_product_attention(Q, K, V, mask=mask)
    tQ, tK, tV = t64(Q), t64(K), t64(V)
    ref = F.scaled_dot_product_attention(tQ, tK, tV, **kwargs)
    close(out, ref)
    assert np.allclose(P.sum(-1), 1.0) and P.shape == (B, H, T_q, T_k)
    dO = rng.normal(size=out.shape)
    ref.backward(torch.tensor(dO))
    for ours, t in zip(attention.scaled_dot_product_attention_backward(dO, Q, K, V, P), (tQ, tK, tV)):
        close(ours, t.grad)


def test_sdpa_custom_scale_and_unbatched():
    rng = np.random.default_rng(1)
    Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out, P = attention.scaled_dot_product_attention(Q, K, V, scale=0.3)
    tQ, tK, tV = t64(Q), t64(K), t64(V)
    ref = F.scaled_dot_product_attention(tQ, tK, tV, scale=0.3)
    close(out, ref)
    dO = rng.normal(size=out.shape)
    ref.backward(torch.tensor(dO))
    grads = attention.scaled_dot_product_attention_backward(dO, Q, K, V, P, scale=0.3)
    for ours, t in zip(grads, (tQ, tK, tV)):
        close(ours, t.grad)


def test_masked_entries_get_zero_weight_and_zero_gradient():
    rng = np.random.default_rng(2)
    Q, K, V = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3))
    mask = attention.causal_mask(4)
    out, P = attention.scaled_dot_product_attention(Q, K, V, mask)
    assert np.all(P[:, ~mask] == 0.0)
    _, dK, dV = attention.scaled_dot_product_attention_backward(np.ones_like(out), Q, K, V, P)
    # the last key is seen only by the last query: its value gradient is that query's weight on it
    assert np.allclose(dV[:, -1], P[:, -1, -1:])


def test_causal_mask():
    m = attention.causal_mask(4)
    assert m.dtype == bool and m.shape == (4, 4)
    assert np.array_equal(m, np.tril(np.ones((4, 4), dtype=bool)))
    assert attention.causal_mask(1).tolist() == [[True]]
    with pytest.raises(ValueError, match="T must be at least 1"):
        attention.causal_mask(0)
    with pytest.raises(TypeError, match="integer"):
        attention.causal_mask(2.5)


# --- multi-head attention ------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(B=sizes, T=st.integers(1, 6), S=st.integers(1, 6), H=sizes, head_dim=st.integers(1, 4),
       kind=st.sampled_from(["self", "self-causal", "self-padding", "cross"]), seed=st.integers(0, 2**16))
def test_mha_matches_torch_multihead_attention(B, T, S, H, head_dim, kind, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    E = H * head_dim
    torch_mha = nn.MultiheadAttention(E, H, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # torch starts the biases at 0; make them non-trivial
        torch_mha.in_proj_bias.normal_()
        torch_mha.out_proj.bias.normal_()
    mha = attention.MultiHeadAttention.from_torch(torch_mha)
    X = rng.normal(size=(B, T, E))
    tX = t64(X)
    context, torch_kwargs, mask = None, {}, None
    if kind == "cross":
        context = rng.normal(size=(B, S, E))
        tC = t64(context)
        kv = (tC, tC)
    else:
        kv = (tX, tX)
    if kind == "self-causal":
        mask = attention.causal_mask(T)
        torch_kwargs["attn_mask"] = torch.tensor(~mask)  # torch MHA: True = blocked
    elif kind == "self-padding":
        keep = random_keep_mask(rng, (B, T))
        mask = keep[:, None, None, :]  # (B, 1, 1, S): the same keys hidden for every query and head
        torch_kwargs["key_padding_mask"] = torch.tensor(~keep)
    ref, ref_w = torch_mha(tX, *kv, **torch_kwargs)
    Y = mha.forward(X, mask=mask, context=context)
    close(Y, ref)
    close(mha.avg_attn_weights, ref_w)
    assert mha.attn_weights.shape == (B, H, T, S if kind == "cross" else T)
    dY = rng.normal(size=Y.shape)
    ref.backward(torch.tensor(dY))
    close(mha.backward(dY), tX.grad)
    if kind == "cross":
        close(mha.d_context, tC.grad)
    for name, p in torch_mha.named_parameters():
        close(mha.grads[name], p.grad)


def test_mha_protocol_and_initialisation():
    rng = np.random.default_rng(0)
    mha = attention.MultiHeadAttention(16, 4, rng)
    assert set(mha.params) == set(dict(nn.MultiheadAttention(16, 4).named_parameters()))
    for name, p in mha.params.items():
        assert p.dtype == np.float64 and mha.grads[name].shape == p.shape
    bound = np.sqrt(6 / (16 + 48))
    assert np.abs(mha.params["in_proj_weight"]).max() <= bound
    assert np.all(mha.params["in_proj_bias"] == 0)
    X = rng.normal(size=(2, 3, 16))
    assert np.array_equal(mha(X), mha.forward(X))
    again = attention.MultiHeadAttention(16, 4, np.random.default_rng(0))
    assert np.array_equal(again.params["in_proj_weight"], mha.params["in_proj_weight"])  # seeded


def test_mha_3d_mask_is_per_batch():
    rng = np.random.default_rng(3)
    mha = attention.MultiHeadAttention(6, 2, rng)
    X = rng.normal(size=(2, 4, 6))
    mask = np.stack([attention.causal_mask(4), np.ones((4, 4), dtype=bool)])
    Y = mha.forward(X, mask=mask)
    assert np.allclose(Y[0], mha.forward(X[:1], mask=attention.causal_mask(4))[0])
    assert np.allclose(Y[1], mha.forward(X[1:])[0])


# --- LayerNorm ---------------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(lead=st.lists(st.integers(1, 4), min_size=0, max_size=2), N=st.integers(1, 10),
       eps=st.sampled_from([1e-5, 1e-6, 0.1]), scale=st.sampled_from([0.01, 1.0, 100.0]), seed=st.integers(0, 2**16))
def test_layernorm_matches_torch(lead, N, eps, scale, seed):
    rng = np.random.default_rng(seed)
    torch_ln = nn.LayerNorm(N, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        torch_ln.weight.copy_(torch.tensor(rng.normal(size=N)))
        torch_ln.bias.copy_(torch.tensor(rng.normal(size=N)))
    ln = attention.LayerNorm.from_torch(torch_ln)
    assert ln.eps == eps
    X = 3.0 + scale * rng.normal(size=(*lead, N))
    tX = t64(X)
    ref = torch_ln(tX)
    close(ln.forward(X), ref)
    dY = rng.normal(size=X.shape)
    ref.backward(torch.tensor(dY))
    close(ln.backward(dY), tX.grad, tol=1e-7 if scale == 0.01 else TOL)  # 1/σ = 100 amplifies rounding
    close(ln.grads["weight"], torch_ln.weight.grad)
    close(ln.grads["bias"], torch_ln.bias.grad)


def test_layernorm_defaults_like_torch():
    ln = attention.LayerNorm(5)
    assert ln.eps == nn.LayerNorm(5).eps == 1e-5
    assert np.all(ln.params["weight"] == 1) and np.all(ln.params["bias"] == 0)
    Y = ln(np.arange(10.0).reshape(2, 5))
    assert np.allclose(Y.mean(-1), 0) and np.allclose(Y.var(-1), 1, atol=1e-4)


# --- positional encoding -----------------------------------------------------------

def test_positional_encoding_values_and_offset_property():
    pe = attention.sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    assert np.allclose(pe[0], np.tile([0.0, 1.0], 8))  # sin 0, cos 0
    assert np.isclose(pe[1, 0], np.sin(1.0)) and np.isclose(pe[1, 1], np.cos(1.0))
    assert np.isclose(pe[3, 4], np.sin(3 / 10000 ** (4 / 16)))  # pair 2: dims 4 and 5
    omega = 10000.0 ** (-np.arange(0, 16, 2) / 16)
    dots = pe @ pe.T
    for k in range(0, 30):
        assert np.allclose(np.diagonal(dots, k), np.cos(omega * k).sum())
    odd = attention.sinusoidal_positional_encoding(7, 5)
    assert odd.shape == (7, 5)  # odd d: the frequencies use d = 5, and the last column is a sine
    assert np.isclose(odd[6, 4], np.sin(6 / 10000 ** (4 / 5))) and np.isclose(odd[6, 3], np.cos(6 / 10000 ** (2 / 5)))


def test_positional_encoding_bad_inputs():
    with pytest.raises(ValueError, match="d must be at least 1"):
        attention.sinusoidal_positional_encoding(5, 0)
    with pytest.raises(TypeError, match="T must be an integer"):
        attention.sinusoidal_positional_encoding(5.0, 4)
    with pytest.raises(ValueError, match="base"):
        attention.sinusoidal_positional_encoding(5, 4, base=1.0)


# --- Transformer block -------------------------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 6), H=st.integers(1, 3), head_dim=st.integers(1, 4),
       ff=st.integers(1, 12), causal=st.booleans(), seed=st.integers(0, 2**16))
def test_transformer_block_matches_torch_encoder_layer(B, T, H, head_dim, ff, causal, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    E = H * head_dim
    layer = nn.TransformerEncoderLayer(E, H, ff, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True, dtype=torch.float64)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))  # move LayerNorm and biases off their initial values
    block = attention.TransformerBlock.from_torch(layer)
    X = rng.normal(size=(B, T, E))
    tX = t64(X)
    mask = attention.causal_mask(T) if causal else None
    src_mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64) if causal else None
    ref = layer(tX, src_mask=src_mask)
    Y = block.forward(X, mask=mask)
    close(Y, ref)
    dY = rng.normal(size=Y.shape)
    ref.backward(torch.tensor(dY))
    close(block.backward(dY), tX.grad)
    grads = block.grads
    assert set(grads) == set(dict(layer.named_parameters()))
    for name, p in layer.named_parameters():
        close(grads[name], p.grad)


def test_transformer_block_parameter_count_and_defaults():
    block = attention.TransformerBlock(32, 4, None, np.random.default_rng(0))
    assert block.ff_dim == 128
    n_torch = sum(p.numel() for p in nn.TransformerEncoderLayer(32, 4, 128).parameters())
    assert sum(p.size for p in block.params.values()) == n_torch


# --- errors a learner will meet ---------------------------------------------------------

def test_sdpa_errors_name_both_shapes():
    Q, K, V = np.zeros((2, 5, 8)), np.zeros((2, 6, 7)), np.zeros((2, 6, 3))
    with pytest.raises(ValueError, match=r"Q of shape \(2, 5, 8\) and K of shape \(2, 6, 7\)"):
        attention.scaled_dot_product_attention(Q, K, V)
    with pytest.raises(ValueError, match=r"K of shape \(2, 6, 8\) and V of shape \(2, 5, 3\)"):
        attention.scaled_dot_product_attention(Q, np.zeros((2, 6, 8)), np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match="same leading"):
        attention.scaled_dot_product_attention(Q, np.zeros((3, 6, 8)), np.zeros((3, 6, 3)))
    with pytest.raises(ValueError, match="at least 2 axes"):
        attention.scaled_dot_product_attention(np.zeros(8), np.zeros((6, 8)), np.zeros((6, 3)))
    with pytest.raises(ValueError, match="empty"):
        attention.scaled_dot_product_attention(np.zeros((0, 8)), np.zeros((6, 8)), np.zeros((6, 3)))
    with pytest.raises(TypeError, match="numeric array"):
        attention.scaled_dot_product_attention("Q", K, V)
    with pytest.raises(ValueError, match="scale must be a positive number"):
        attention.scaled_dot_product_attention(Q, np.zeros((2, 6, 8)), V, scale=0)


def test_sdpa_mask_errors():
    Q, K, V = np.zeros((2, 5, 4)), np.zeros((2, 6, 4)), np.zeros((2, 6, 3))
    with pytest.raises(ValueError, match=r"mask of shape \(5, 5\) does not fit .* \(2, 5, 6\)"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.ones((5, 5), dtype=bool))
    with pytest.raises(ValueError, match=r"mask of shape \(6,\)"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.ones(6, dtype=bool))
    blocked = np.ones((5, 6), dtype=bool)
    blocked[2] = False
    with pytest.raises(ValueError, match="blocks every key for some query"):
        attention.scaled_dot_product_attention(Q, K, V, mask=blocked)
    with pytest.raises(ValueError, match="NaN"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.full((5, 6), np.nan))
    with pytest.raises(TypeError, match="boolean or float"):
        attention.scaled_dot_product_attention(Q, K, V, mask=np.full((5, 6), "a"))


def test_backward_errors():
    Q = K = V = np.zeros((3, 4))
    out, P = attention.scaled_dot_product_attention(Q, K, V)
    with pytest.raises(ValueError, match=r"d_output should have the output's shape \(3, 4\)"):
        attention.scaled_dot_product_attention_backward(np.zeros((3, 5)), Q, K, V, P)
    with pytest.raises(ValueError, match=r"weights should have shape \(3, 3\)"):
        attention.scaled_dot_product_attention_backward(out, Q, K, V, P[:, :2])


def test_layer_errors_name_the_layer_and_the_shapes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="embed_dim 10 is not divisible by num_heads 3"):
        attention.MultiHeadAttention(10, 3, rng)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        attention.MultiHeadAttention(8, 2, 0)
    mha = attention.MultiHeadAttention(8, 2, rng)
    with pytest.raises(RuntimeError, match="forward before backward"):
        mha.backward(np.zeros((1, 2, 8)))
    with pytest.raises(ValueError, match=r"MultiHeadAttention\(E=8, heads=2\): expected X of shape "
                                         r"\(batch, time, 8\), got shape \(2, 5, 7\)"):
        mha.forward(np.zeros((2, 5, 7)))
    with pytest.raises(ValueError, match=r"got shape \(5, 8\)"):
        mha.forward(np.zeros((5, 8)))
    with pytest.raises(ValueError, match="empty"):
        mha.forward(np.zeros((0, 5, 8)))
    with pytest.raises(ValueError, match=r"mask of shape \(5, 4\) does not fit"):
        mha.forward(np.zeros((2, 5, 8)), mask=np.ones((5, 4), dtype=bool))
    with pytest.raises(ValueError, match="same batch size"):
        mha.forward(np.zeros((2, 5, 8)), context=np.zeros((3, 4, 8)))
    with pytest.raises(TypeError, match="numeric array"):
        mha.forward([["a"]])
    Y = mha.forward(np.zeros((2, 5, 8)))
    with pytest.raises(ValueError, match=r"dY must have the output's shape \(2, 5, 8\), got \(2, 5, 7\)"):
        mha.backward(np.zeros((2, 5, 7)))
    assert Y.shape == (2, 5, 8)
    ln = attention.LayerNorm(8)
    with pytest.raises(ValueError, match=r"LayerNorm\(8\): expected input whose last axis has 8 features, "
                                         r"got shape \(3, 7\)"):
        ln.forward(np.zeros((3, 7)))
    with pytest.raises(ValueError, match="eps must be a positive number"):
        attention.LayerNorm(8, eps=0)
    block = attention.TransformerBlock(8, 2, 16, rng)
    with pytest.raises(ValueError, match=r"TransformerBlock\(E=8, heads=2, ff=16\): expected X of shape"):
        block.forward(np.zeros((2, 3, 9)))
    with pytest.raises(RuntimeError, match="forward before backward"):
        attention.TransformerBlock(8, 2, 16, rng).backward(np.zeros((2, 3, 8)))


def test_from_torch_rejects_the_wrong_module():
    with pytest.raises(TypeError, match="expects torch.nn.MultiheadAttention"):
        attention.MultiHeadAttention.from_torch(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="default layout"):
        attention.MultiHeadAttention.from_torch(nn.MultiheadAttention(4, 2, kdim=3, vdim=3))
    with pytest.raises(TypeError, match="expects torch.nn.LayerNorm"):
        attention.LayerNorm.from_torch(nn.Linear(4, 4))
    with pytest.raises(ValueError, match="pre-LN"):
        attention.TransformerBlock.from_torch(nn.TransformerEncoderLayer(4, 2, 8, batch_first=True))
