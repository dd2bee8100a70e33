"""Each checker of section 9.7 accepts the reference answer and rejects plausible mistakes."""
import pytest
import torch
import torch.nn.functional as F
from checker_contract import contract_tests

from utils import compress
from utils.checks import NOT_ATTEMPTED, evaluate


def conv2d_flops(c_in, c_out, k, h_out, w_out):
    return 2 * c_in * c_out * k * k * h_out * w_out


def quantize_symmetric(w, bits):
    qmax = 2 ** (bits - 1) - 1
    scale = w.reshape(w.shape[0], -1).abs().amax(dim=1) / qmax
    q = torch.clamp(torch.round(w / scale.reshape((-1,) + (1,) * (w.ndim - 1))), -qmax, qmax)
    return q, scale


def global_magnitude_masks(weights, sparsity):
    flat = torch.cat([w.abs().flatten() for w in weights])
    k = round(sparsity * flat.numel())
    keep = torch.ones_like(flat)
    if k:
        keep[torch.argsort(flat, stable=True)[:k]] = 0
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.numel()].reshape(w.shape))
        start += w.numel()
    return masks


def kd_loss(student_logits, teacher_logits, y, T, alpha):
    log_q = F.log_softmax(student_logits / T, dim=1)
    p = F.softmax(teacher_logits / T, dim=1)
    kl = (p * (torch.log(p) - log_q)).sum(dim=1).mean()
    return alpha * T * T * kl + (1 - alpha) * F.cross_entropy(student_logits, y)


REFERENCE = {"9.7.1": conv2d_flops, "9.7.2": quantize_symmetric, "9.7.3": global_magnitude_masks, "9.7.4": kd_loss}


def quantize_with(divisor, rounding=torch.round, per_channel=True, clamp=True):
    def answer(w, bits):
        qmax = 2 ** (bits - 1) - 1
        flat = w.reshape(w.shape[0], -1) if per_channel else w.reshape(1, -1)
        scale = flat.abs().amax(dim=1) / divisor(bits)
        shape = (-1,) + (1,) * (w.ndim - 1) if per_channel else (1,) * w.ndim
        q = rounding(w / scale.reshape(shape))
        return (torch.clamp(q, -qmax, qmax) if clamp else q), scale
    return answer


def per_layer_masks(weights, sparsity):
    return [global_magnitude_masks([w], sparsity)[0] for w in weights]


def keep_smallest(weights, sparsity):
    return [1 - m for m in global_magnitude_masks(weights, sparsity)]


def _signed(weights, sparsity):
    flat = torch.cat([w.flatten() for w in weights])
    k = round(sparsity * flat.numel())
    keep = torch.ones_like(flat)
    if k:
        keep[torch.argsort(flat, stable=True)[:k]] = 0
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.numel()].reshape(w.shape))
        start += w.numel()
    return masks


def kd_variant(T2=True, reverse=False, soften_teacher=True, reduction="batchmean", swap=False):
    def answer(s, t, y, T, alpha):
        a = 1 - alpha if swap else alpha
        ls, lt = F.log_softmax(s / T, dim=1), F.log_softmax(t / T if soften_teacher else t, dim=1)
        kl = F.kl_div(lt, ls, reduction="sum", log_target=True) if reverse else \
            F.kl_div(ls, lt, reduction="sum", log_target=True)
        kl = kl / {"sum": 1, "batchmean": s.shape[0], "mean": s.numel()}[reduction]
        return a * (T * T if T2 else 1) * kl + (1 - a) * F.cross_entropy(s, y)
    return answer


WRONG = [
    ("9.7.1", lambda c_in, c_out, k, h, w: c_in * c_out * k * k * h * w, "multiply-add is 2 FLOPs"),
    ("9.7.1", lambda c_in, c_out, k, h, w: 2 * c_in * c_out * k * h * w, "k * k"),
    ("9.7.1", lambda c_in, c_out, k, h, w: 2 * c_out * k * k * h * w, "all"),
    ("9.7.1", lambda c_in, c_out, k, h, w: 2 * c_in * c_out * k * k, "slides"),
    ("9.7.1", lambda c_in, c_out, k, h, w: 2 * c_in * c_out * k * k * (h + 2) * (w + 2), "should be"),
    ("9.7.1", lambda c_in, c_out, k, h, w: "a lot", "should be a number"),
    ("9.7.2", quantize_with(lambda b: 2 ** (b - 1)), "divide by qmax"),
    ("9.7.2", quantize_with(lambda b: 2 ** (b - 1) - 0.5), "divide by qmax"),
    ("9.7.2", quantize_with(lambda b: 2 ** b - 1), "2**bits - 1"),
    ("9.7.2", quantize_with(lambda b: 2 ** (b - 1) - 1, per_channel=False), "one scale for the whole tensor"),
    ("9.7.2", quantize_with(lambda b: 2 ** (b - 1) - 1, rounding=torch.floor), "truncated"),
    ("9.7.2", quantize_with(lambda b: 2 ** (b - 1) - 1, rounding=lambda x: x), "non-integers"),
    ("9.7.2", lambda w, bits: (torch.round(w).clamp(-1, 1), w.reshape(w.shape[0], -1).abs().amax(dim=1) / (2 ** (bits - 1) - 1)),
     "differ from round"),
    ("9.7.2", lambda w, bits: torch.round(w), "pair"),
    ("9.7.2", lambda w, bits: (torch.round(w).flatten(), torch.ones(w.shape[0])), "shape"),
    ("9.7.3", per_layer_masks, "per-layer"),
    ("9.7.3", keep_smallest, "kept the smallest"),
    ("9.7.3", _signed, "signed value"),
    ("9.7.3", lambda weights, s: [torch.ones_like(w) for w in weights], "weights removed"),
    ("9.7.3", lambda weights, s: global_magnitude_masks(weights, s)[:1], "list of"),
    ("9.7.3", lambda weights, s: [m.flatten() for m in global_magnitude_masks(weights, s)], "shape"),
    ("9.7.4", kd_variant(T2=False), "T^2"),
    ("9.7.4", kd_variant(reverse=True), "KL(student || teacher)"),
    ("9.7.4", kd_variant(soften_teacher=False), "soften both"),
    ("9.7.4", kd_variant(reduction="sum"), "summed"),
    ("9.7.4", kd_variant(reduction="mean"), "batchmean"),
    ("9.7.4", kd_variant(swap=True), "swapped"),
    ("9.7.4", lambda s, t, y, T, alpha: F.cross_entropy(s, y), "expected"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    """utils.compress's functions, wrapped to the exercises' signatures, pass their checkers."""
    assert evaluate("9.7.2", lambda w, bits: compress.quantize_per_channel(w, bits)).passed

    def masks_from_library(weights, sparsity):
        net = torch.nn.Sequential(*[torch.nn.Linear(1, w.numel(), bias=False) for w in weights])
        with torch.no_grad():
            for layer, w in zip(net, weights):
                layer.weight.copy_(w.reshape(-1, 1))
        masks = compress.magnitude_masks(net, sparsity)
        return [masks[str(i)].reshape(w.shape) for i, w in enumerate(weights)]

    assert evaluate("9.7.3", masks_from_library).passed
    assert evaluate("9.7.4", compress.distillation_loss).passed
