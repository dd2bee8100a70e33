"""utils.sizing: every formula against real PyTorch modules, and clear errors for bad input."""
import math

import pytest
import torch
from torch import nn

from utils import sizing


def numel(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())  # shared (tied) tensors are counted once


# --- parameter counts ---------------------------------------------------------

@pytest.mark.parametrize("sizes", [[64, 10], [784, 256, 128, 10], [3, 1, 5]])
@pytest.mark.parametrize("bias", [True, False])
def test_mlp_params_matches_torch(sizes, bias):
    layers = [nn.Linear(a, b, bias=bias) for a, b in zip(sizes, sizes[1:])]
    assert sizing.mlp_params(sizes, bias=bias) == numel(nn.Sequential(*layers))


@pytest.mark.parametrize("in_ch, out_ch, k, groups, bias", [
    (1, 6, 5, 1, True), (3, 96, 11, 1, True), (96, 256, 5, 2, True), (16, 32, (3, 5), 4, False), (8, 8, 3, 8, True),
])
def test_conv_params_matches_torch(in_ch, out_ch, k, groups, bias):
    conv = nn.Conv2d(in_ch, out_ch, k, groups=groups, bias=bias)
    assert sizing.conv_params(in_ch, out_ch, k, bias=bias, groups=groups) == numel(conv)


def reference_gpt(n_layer, d, n_head, vocab, block, tied=True):
    """A GPT-2-shaped decoder from PyTorch's own layers (an independent implementation).

    nn.TransformerEncoderLayer holds the same tensors as a GPT-2 block: a fused qkv
    projection with bias, an output projection, a d -> 4d -> d MLP and two LayerNorms.
    """
    with torch.device("meta"):
        wte = nn.Embedding(vocab, d)
        parts = [wte, nn.Embedding(block, d), nn.LayerNorm(d)]
        parts += [nn.TransformerEncoderLayer(d, n_head, 4 * d, batch_first=True) for _ in range(n_layer)]
        if not tied:
            parts.append(nn.Linear(d, vocab, bias=False))
    return nn.ModuleList(parts)


@pytest.mark.parametrize("cfg", [(2, 64, 4, 100, 32), (12, 768, 12, 50257, 1024), (3, 96, 8, 65, 256)])
@pytest.mark.parametrize("tied", [True, False])
def test_transformer_params_matches_torch_layers(cfg, tied):
    assert sizing.transformer_params(*cfg, tied_embeddings=tied) == numel(reference_gpt(*cfg, tied=tied))


def test_transformer_params_known_models():
    assert sizing.transformer_params(12, 768, 12, 50257, 1024) == 124_439_808  # GPT-2 small
    gpt3 = sizing.transformer_params(96, 12288, 96, 50257, 2048)
    assert 174e9 < gpt3 < 176e9  # "175B"
    per_block = 12 * 768**2 + 13 * 768
    parts = sizing.transformer_param_breakdown(12, 768, 12, 50257, 1024)
    assert parts["attention"] + parts["MLP"] + parts["LayerNorm"] - 2 * 768 == 12 * per_block
    assert parts["output head"] == 0


def test_transformer_params_without_bias():
    d, L = 64, 2
    with_bias = sizing.transformer_params(L, d, 4, 100, 32)
    no_bias = sizing.transformer_params(L, d, 4, 100, 32, bias=False)
    # per block: 3d + d + 4d + d biases and 2 LayerNorm shifts; plus the final LayerNorm's shift
    assert with_bias - no_bias == L * (9 * d + 2 * d) + d


# --- memory -------------------------------------------------------------------

def adam_state_bytes(model: nn.Module) -> int:
    """Bytes held by weights, gradients and Adam's moments after one real step."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(4, 16, dtype=next(model.parameters()).dtype)
    model(x).float().pow(2).mean().backward()
    opt.step()
    total = 0
    for p in model.parameters():
        total += p.numel() * p.element_size() + p.grad.numel() * p.grad.element_size()
        state = opt.state[p]
        total += sum(state[k].numel() * state[k].element_size() for k in ("exp_avg", "exp_avg_sq"))
    return total


def test_training_memory_fp32_matches_a_real_adam_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8))
    n = numel(model)
    assert adam_state_bytes(model) == sizing.training_memory_bytes(n, "fp32") == 16 * n


def test_training_memory_pure_bf16_matches_a_real_adam_step():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 8)).to(torch.bfloat16)
    n = numel(model)
    assert adam_state_bytes(model) == sizing.training_memory_bytes(n, "bf16", master_weights=False) == 8 * n


def test_training_memory_mixed_precision_parts():
    parts = sizing.training_memory_breakdown(1000, "bf16")
    assert parts == {"weights": 2000, "gradients": 2000, "fp32 master weights": 4000,
                     "Adam m (1st moment)": 4000, "Adam v (2nd moment)": 4000}
    assert sizing.training_memory_bytes(1000, "bf16") == sizing.training_memory_bytes(1000, "fp32") == 16000
    assert sizing.training_memory_bytes(1000, "fp32", optimizer="sgd") == 8000
    assert sizing.training_memory_bytes(1000, "bfloat16", optimizer="sgd_momentum") == 2000 + 2000 + 4000 + 4000
    assert sizing.weights_bytes(1000, "int8") == 1000


# --- compute and time ---------------------------------------------------------

def test_training_flops_gpt3():
    n = sizing.transformer_params(96, 12288, 96, 50257, 2048)
    assert math.isclose(sizing.training_flops(n, 300e9), 3.14e23, rel_tol=0.01)  # GPT-3 paper, Table D.1


def test_training_days():
    # 1 GPU at 1e15 FLOP/s, fully used, one day's worth of FLOPs -> 1 day
    assert math.isclose(sizing.training_days(86_400e15, 1, 1e15, 1.0), 1.0)
    assert math.isclose(sizing.training_days(86_400e15, 4, 1e15, 0.5), 0.5)


def test_six_n_d_against_a_measured_flop_count():
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    sizes = [32, 64, 64, 10]
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    x = torch.randn(128, 32, requires_grad=True)  # input grad needed too: all matmuls run 3 times
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    weights = sizing.mlp_params(sizes, bias=False)
    assert counter.get_total_flops() == 6 * weights * 128  # biases are additions, not counted


# --- bad inputs ---------------------------------------------------------------

@pytest.mark.parametrize("call, error, phrase", [
    (lambda: sizing.transformer_params(12, 768, 11, 50257, 1024), ValueError, "divisible by n_head"),
    (lambda: sizing.transformer_params(-1, 768, 12, 50257, 1024), ValueError, "n_layer must be at least 1"),
    (lambda: sizing.transformer_params(12, 768.0, 12, 50257, 1024), TypeError, "d_model must be an integer"),
    (lambda: sizing.transformer_params(12, 768, 12, True, 1024), TypeError, "vocab_size must be an integer"),
    (lambda: sizing.mlp_params([784]), ValueError, "at least an input and an output"),
    (lambda: sizing.mlp_params([784, 0, 10]), ValueError, "sizes[1] must be at least 1"),
    (lambda: sizing.mlp_params(784), TypeError, "list of layer widths"),
    (lambda: sizing.conv_params(3, 64, 0), ValueError, "kernel_size must be at least 1"),
    (lambda: sizing.conv_params(3, 64, 3, groups=2), ValueError, "must divide"),
    (lambda: sizing.conv_params(3, 64, (3, 3, 3)), ValueError, "pair"),
    (lambda: sizing.training_memory_bytes(1e6, "fp8"), ValueError, "unknown dtype"),
    (lambda: sizing.training_memory_bytes(1e6, 4), TypeError, "dtype must be a string"),
    (lambda: sizing.training_memory_bytes(-5, "fp32"), ValueError, "n_params must be positive"),
    (lambda: sizing.training_memory_bytes(1e6, "fp32", optimizer="lion"), ValueError, "unknown optimizer"),
    (lambda: sizing.training_memory_bytes(1e6, "fp32", master_weights=True), ValueError, "2-byte dtype"),
    (lambda: sizing.training_flops(1e9, -1), ValueError, "n_tokens must be positive"),
    (lambda: sizing.training_flops("1e9", 1e9), TypeError, "n_params must be a number"),
    (lambda: sizing.training_days(1e20, 0, 1e15, 0.4), ValueError, "n_gpus must be at least 1"),
    (lambda: sizing.training_days(1e20, 8, 1e15, 40), ValueError, "fraction of peak"),
    (lambda: sizing.training_days(1e20, 8, float("nan"), 0.4), ValueError, "finite"),
])
def test_bad_inputs_raise_clear_errors(call, error, phrase):
    with pytest.raises(error, match=None) as info:
        call()
    assert phrase in str(info.value), str(info.value)


def test_divisibility_error_suggests_a_head_count():
    with pytest.raises(ValueError, match="try n_head=12"):
        sizing.transformer_params(12, 768, 11, 50257, 1024)
