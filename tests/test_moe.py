"""utils.moe: the MoE layer against a per-token loop, the auxiliary losses on hand examples, accounting."""
import math

import numpy as np
import pytest
import torch

from utils import gpt, moe


def per_token_loop(layer: moe.MoE, x: torch.Tensor) -> torch.Tensor:
    """y_t = sum over the top-k experts i of token t of g_i FFN_i(x_t), one token at a time."""
    h = x.reshape(-1, layer.n_embd)
    out = torch.zeros_like(h)
    normalize = layer.k > 1 if layer.normalize is None else layer.normalize
    for t in range(h.shape[0]):
        p = torch.softmax(layer.router(h[t]), dim=-1)
        top = torch.topk(p, layer.k)
        g = top.values / top.values.sum() if normalize else top.values
        for gi, e in zip(g, top.indices):
            out[t] += gi * layer.experts[int(e)](h[t])
    return out.reshape(x.shape)


CONFIG = gpt.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


@pytest.mark.parametrize("E, k, normalize", [(4, 1, None), (4, 2, None), (3, 3, None), (5, 2, False)])
def test_moe_layer_equals_per_token_loop(E, k, normalize):
    torch.manual_seed(0)
    layer = moe.MoE(16, E, k, hidden=24, normalize=normalize).double()
    x = torch.randn(3, 7, 16, dtype=torch.float64)
    assert torch.allclose(layer(x), per_token_loop(layer, x), rtol=0, atol=1e-12)
    assert layer.counts.sum().item() == 21 * k
    assert layer.index.shape == (21, k)


def test_one_expert_is_the_dense_mlp():
    torch.manual_seed(1)
    layer = moe.MoE(16, 1, 1).double()
    mlp = gpt.MLP(CONFIG).double()
    mlp.load_state_dict(layer.experts[0].state_dict())
    x = torch.randn(2, 5, 16, dtype=torch.float64)
    assert torch.equal(layer(x), mlp(x))


def test_top_k_gates_normalisation_and_the_k1_trap():
    logits = torch.tensor([[1.0, 2.0, 0.0, -1.0]], requires_grad=True)
    gates, index, probs = moe.top_k_gates(logits, 2)
    assert index.tolist() == [[1, 0]]
    assert torch.allclose(gates.sum(), torch.tensor(1.0))
    assert torch.allclose(probs.sum(), torch.tensor(1.0))
    raw, _, _ = moe.top_k_gates(logits, 1)
    assert torch.allclose(raw, probs[:, 1:2])
    one, _, _ = moe.top_k_gates(logits, 1, normalize=True)
    one.sum().backward()
    assert torch.count_nonzero(logits.grad) == 0  # a normalised top-1 gate is the constant 1
    with pytest.raises(ValueError, match="more than"):
        moe.top_k_gates(logits, 5)


def test_load_balancing_loss_hand_examples():
    uniform = torch.full((8, 4), 0.25)
    assert moe.load_balancing_loss(uniform, torch.arange(8)[:, None] % 4).item() == pytest.approx(1.0)
    collapsed = torch.tensor([[1.0, 0.0, 0.0]] * 5)
    assert moe.load_balancing_loss(collapsed, torch.zeros(5, 1, dtype=torch.long)).item() == pytest.approx(3.0)
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1]])
    # f = (1, 0, 0) (both to expert 0), P = (0.65, 0.25, 0.1): 3 * 0.65
    assert moe.load_balancing_loss(probs, torch.zeros(2, 1, dtype=torch.long)).item() == pytest.approx(1.95)
    with pytest.raises(ValueError, match="agree"):
        moe.load_balancing_loss(probs, torch.zeros(3, 1, dtype=torch.long))


def test_router_z_loss_hand_example():
    logits = torch.tensor([[0.0, 0.0], [math.log(3.0), math.log(1.0)]])
    # logsumexp: ln 2 and ln 4
    assert moe.router_z_loss(logits).item() == pytest.approx((math.log(2) ** 2 + math.log(4) ** 2) / 2)


def test_counts_and_flops():
    dense = gpt.GPT(CONFIG)
    assert moe.flops_per_token(dense) == dense.flops_per_token()
    assert moe.count_params(dense) == {"total": dense.num_params(), "active": dense.num_params()}
    sparse = moe.make_moe_gpt(CONFIG, n_experts=4, k=1)
    counts = moe.count_params(sparse)
    router = CONFIG.n_layer * CONFIG.n_embd * 4
    assert counts["active"] == dense.num_params() + router
    expert = sum(p.numel() for p in sparse.transformer.h[0].mlp.experts[0].parameters())
    assert counts["total"] == counts["active"] + CONFIG.n_layer * 3 * expert
    assert moe.flops_per_token(sparse) == dense.flops_per_token() + 3 * 2 * router
    wide = moe.make_dense_gpt(CONFIG, 4 * 4 * CONFIG.n_embd)
    # equal total up to the routers and the c_proj biases of the 3 extra experts
    assert counts["total"] - wide.num_params() == CONFIG.n_layer * (4 * CONFIG.n_embd + 3 * CONFIG.n_embd)


def test_gpt_with_moe_trains_and_reports_load():
    torch.manual_seed(0)
    model = moe.make_moe_gpt(CONFIG, n_experts=4, k=2)
    ids = np.arange(400) % 11
    hist = moe.train_lm(model, ids, steps=30, lr=1e-2, batch_size=8, balance_weight=0.01, log_every=10)
    assert hist["step"] == [0, 10, 20, 29]
    assert hist["ce"][-1] < hist["ce"][0] - 0.5
    assert moe.expert_load(model).shape == (2, 4)
    assert moe.expert_load(model).sum() == 2 * 8 * 8 * 2
    routes = moe.route(model, torch.zeros(2, 8, dtype=torch.long))
    assert routes.shape == (2, 2, 8) and routes.max() < 4
    assert gpt.evaluate_loss(model, ids, num_windows=4) < 2.0


def test_clear_errors():
    with pytest.raises(ValueError, match="k=3"):
        moe.MoE(8, 2, 3)
    with pytest.raises(ValueError, match="n_embd=8"):
        moe.MoE(8, 2, 1)(torch.zeros(2, 5))
    with pytest.raises(RuntimeError, match="forward pass"):
        moe.expert_load(gpt.GPT(CONFIG))
    with pytest.raises(RuntimeError, match="forward pass"):
        moe.balance_loss(moe.make_moe_gpt(CONFIG, 2))
    with pytest.raises(TypeError, match="utils.gpt.GPT"):
        moe.replace_mlp(torch.nn.Linear(2, 2), lambda c: None)
    assert moe.balance_loss(gpt.GPT(CONFIG)).item() == 0.0
