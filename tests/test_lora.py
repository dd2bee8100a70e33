"""utils.lora: LoRA layers, injection into utils.gpt, merging, counting (section 9.2)."""
import copy

import pytest
import torch
from torch import nn

from utils import gpt, lora


def small_gpt(seed=0):
    torch.manual_seed(seed)
    return gpt.GPT(gpt.GPTConfig(vocab_size=20, block_size=8, n_layer=2, n_head=2, n_embd=16))


def ids(seed=1):
    return torch.randint(0, 20, (3, 8), generator=torch.Generator().manual_seed(seed))


def test_untrained_adapter_leaves_the_model_exactly_unchanged():
    base = small_gpt()
    adapted = copy.deepcopy(base)
    names = lora.inject_lora(adapted, r=2, alpha=4)
    assert len(names) == 8 and all(n.endswith(lora.GPT_TARGETS) for n in names)
    with torch.no_grad():
        assert torch.equal(adapted(ids()), base(ids()))


def test_only_A_and_B_train_and_counts_match_the_formula():
    base = small_gpt()
    n = base.num_params()
    lora.inject_lora(base, r=3)
    counts = lora.count_params(base)
    # per block: c_attn 16->48, c_proj 16->16, c_fc 16->64, mlp.c_proj 64->16
    expected = 2 * 3 * ((16 + 48) + (16 + 16) + (16 + 64) + (64 + 16))
    assert counts == {"total": n + expected, "trainable": expected, "frozen": n}
    assert all(name.endswith((".A", ".B")) for name, p in base.named_parameters() if p.requires_grad)
    assert sum(p.numel() for p in lora.trainable_parameters(base)) == expected


def test_first_gradient_reaches_B_only_then_training_changes_the_output():
    model = small_gpt()
    lora.inject_lora(model, r=2)
    x = ids()
    loss = model.loss(x[:, :-1], x[:, 1:])
    loss.backward()
    for layer in lora.lora_layers(model).values():
        assert torch.count_nonzero(layer.A.grad) == 0 and torch.count_nonzero(layer.B.grad) > 0
    opt = torch.optim.Adam(lora.trainable_parameters(model), lr=1e-2)
    before = model(x).detach()
    opt.step()
    assert not torch.equal(model(x).detach(), before)


def test_merge_unmerge_and_unload_in_float64():
    model = small_gpt().double()
    base_weights = {k: v.clone() for k, v in model.state_dict().items()}
    lora.inject_lora(model, r=2, alpha=3)
    with torch.no_grad():
        for layer in lora.lora_layers(model).values():
            layer.B.normal_(std=0.5)
        x = ids()
        two_path = model(x)
        lora.merge_lora(model)
        assert torch.allclose(model(x), two_path, rtol=0, atol=1e-12)
        lora.unmerge_lora(model)
        assert torch.allclose(model(x), two_path, rtol=0, atol=1e-12)
        for name, layer in lora.lora_layers(model).items():
            assert torch.allclose(layer.base.weight, base_weights[name + ".weight"], rtol=0, atol=1e-12)
        lora.merge_and_unload(model)
        assert not lora.lora_layers(model) and torch.allclose(model(x), two_path, rtol=0, atol=1e-12)
        assert sum(p.numel() for p in model.parameters()) == small_gpt().num_params()


def test_merge_formula_and_scale():
    layer = lora.LoRALinear(nn.Linear(5, 4).double(), r=2, alpha=6)
    with torch.no_grad():
        layer.B.normal_()
    assert layer.scale == 3.0
    assert torch.allclose(layer.delta_weight(), 3.0 * layer.B @ layer.A)
    x = torch.randn(7, 5, dtype=torch.float64)
    expected = x @ (layer.base.weight + 3.0 * layer.B @ layer.A).T + layer.base.bias
    assert torch.allclose(layer(x), expected, rtol=0, atol=1e-12)


def test_optimizer_state_bytes_is_eight_bytes_per_trainable_parameter():
    model = small_gpt()
    lora.inject_lora(model, r=2)
    params = lora.trainable_parameters(model)
    opt = torch.optim.Adam(params, lr=1e-3)
    assert lora.optimizer_state_bytes(opt) == 0  # state is created lazily
    x = ids()
    model.loss(x[:, :-1], x[:, 1:]).backward()
    opt.step()
    n = sum(p.numel() for p in params)
    assert lora.optimizer_state_bytes(opt) == 8 * n
    assert lora.optimizer_state_bytes(opt, include_scalars=True) > 8 * n


def test_tied_weights_counted_once():
    model = small_gpt()
    assert lora.count_params(model)["total"] == model.num_params()


def test_targets_and_seed():
    a, b = small_gpt(), small_gpt()
    names = lora.inject_lora(a, r=1, targets=("attn.c_attn",), seed=5)
    lora.inject_lora(b, r=1, targets="attn.c_attn", seed=5)
    assert names == ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"]
    for (na, la), (nb, lb) in zip(lora.lora_layers(a).items(), lora.lora_layers(b).items()):
        assert na == nb and torch.equal(la.A, lb.A)


def test_clear_errors():
    model = small_gpt()
    with pytest.raises(ValueError, match="no nn.Linear matches"):
        lora.inject_lora(model, r=2, targets=("nothing",))
    with pytest.raises(ValueError, match="at least 1"):
        lora.inject_lora(model, r=0)
    with pytest.raises(TypeError, match="integer"):
        lora.inject_lora(model, r=2.5)
    with pytest.raises(ValueError, match="exceeds"):
        lora.LoRALinear(nn.Linear(4, 3), r=4)
    with pytest.raises(TypeError, match="nn.Linear"):
        lora.LoRALinear(nn.Conv1d(2, 2, 1), r=1)
    with pytest.raises(ValueError, match="alpha"):
        lora.LoRALinear(nn.Linear(4, 3), r=1, alpha=-1)
    with pytest.raises(ValueError, match="no LoRA layers"):
        lora.merge_lora(model)
    lora.inject_lora(model, r=2)
    with pytest.raises(ValueError, match="already has LoRA"):
        lora.inject_lora(model, r=2)
    layer = lora.lora_layers(model)["transformer.h.0.attn.c_attn"]
    with pytest.raises(ValueError, match="features"):
        layer(torch.zeros(2, 5))
    with pytest.raises(RuntimeError, match="not merged"):
        layer.unmerge()
    layer.merge()
    with pytest.raises(RuntimeError, match="already merged"):
        layer.merge()
    with pytest.raises(TypeError, match="optimizer"):
        lora.optimizer_state_bytes("adam")
