"""Checkers for section 9.7 (cloud and edge: FLOPs, quantisation, pruning, distillation)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from utils.checks import Wrong, exercise, number, numbers


@exercise("9.7.1", "FLOPs of a convolution")
def _check_conv2d_flops(conv2d_flops) -> str:
    cases = [(1, 12, 3, 28, 28), (12, 24, 3, 14, 14), (3, 64, 7, 112, 112), (16, 16, 1, 8, 8), (2, 5, 5, 3, 4)]
    for c_in, c_out, k, h, w in cases:
        what = f"conv2d_flops({c_in}, {c_out}, {k}, {h}, {w})"
        got = number(conv2d_flops(c_in, c_out, k, h, w), what)
        expected = 2 * c_in * c_out * k * k * h * w
        if got == expected:
            continue
        if got == expected / 2:
            raise Wrong(f"{what} = {got:.0f} counts multiply-adds; a multiply-add is 2 FLOPs (expected {expected})")
        if got == 2 * c_in * c_out * k * h * w:
            raise Wrong(f"{what} = {got:.0f}: a k x k kernel has k * k = {k * k} weights per input channel, not k")
        if got in (2 * c_out * k * k * h * w, 2 * c_in * k * k * h * w):
            raise Wrong(f"{what} = {got:.0f}: each output value sums over all {c_in} input channels, and there are "
                        f"{c_out} output channels: both factors belong in the count")
        if got == 2 * c_in * c_out * k * k:
            raise Wrong(f"{what} = {got:.0f} is one output position; the kernel slides over all {h} x {w} outputs")
        a, b = numbers(got, expected)
        raise Wrong(f"{what} should be {b} FLOPs, got {a} (exact integer expected)")
    return f"{len(cases)} convolutions, exactly 2 * C_in * C_out * k^2 * H_out * W_out"


def _reference_quantize(w, bits):
    qmax = 2 ** (bits - 1) - 1
    amax = w.reshape(w.shape[0], -1).abs().amax(dim=1)
    scale = torch.where(amax > 0, amax / qmax, torch.ones_like(amax))
    shape = (-1,) + (1,) * (w.ndim - 1)
    return torch.clamp(torch.round(w / scale.reshape(shape)), -qmax, qmax), scale


@exercise("9.7.2", "symmetric per-channel quantisation")
def _check_quantize(quantize_symmetric) -> str:
    g = torch.Generator().manual_seed(97)
    w_conv = torch.randn(6, 3, 3, 3, generator=g)
    w_conv[2] *= 10  # one channel with a much larger range
    cases = [(w_conv, 8), (torch.randn(5, 7, generator=g) * 0.1, 8), (torch.randn(4, 9, generator=g), 4),
             (torch.randn(3, 2, 2, 2, generator=g), 2)]
    for w, bits in cases:
        what = f"quantize_symmetric(w of shape {tuple(w.shape)}, bits={bits})"
        out = quantize_symmetric(w.clone(), bits)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Wrong(f"{what} should return a pair (q, scale), got {type(out).__name__}")
        q, scale = (torch.as_tensor(np.asarray(t.detach() if isinstance(t, torch.Tensor) else t), dtype=torch.float64)
                    for t in out)
        q_ref, s_ref = (t.double() for t in _reference_quantize(w, bits))
        qmax = 2 ** (bits - 1) - 1
        if tuple(q.shape) != tuple(w.shape):
            raise Wrong(f"{what}: q has shape {tuple(q.shape)}, expected the shape of w {tuple(w.shape)}")
        if scale.numel() == 1:
            raise Wrong(f"{what}: one scale for the whole tensor; use one per output channel (dimension 0), "
                        f"{w.shape[0]} scales")
        if tuple(scale.shape) != (w.shape[0],):
            raise Wrong(f"{what}: scale has shape {tuple(scale.shape)}, expected ({w.shape[0]},), one per output channel")
        if not torch.equal(q, torch.round(q)):
            raise Wrong(f"{what}: q holds non-integers; round w / scale to the nearest integer")
        if torch.allclose(scale, s_ref * qmax / (qmax + 1), rtol=1e-6) or \
                torch.allclose(scale, s_ref * qmax / (qmax + 0.5), rtol=1e-6):
            raise Wrong(f"{what}: scale = max|w| / {2 ** (bits - 1)} (or / {qmax + 0.5}); the symmetric range "
                        f"is -{qmax}..{qmax}, so divide by qmax = 2**(bits-1) - 1 = {qmax}")
        if torch.allclose(scale, s_ref * qmax / (2 ** bits - 1), rtol=1e-6):
            raise Wrong(f"{what}: you divided by 2**bits - 1 = {2 ** bits - 1}; the symmetric range has "
                        f"qmax = 2**(bits-1) - 1 = {qmax} on each side of zero")
        if not torch.allclose(scale, s_ref, rtol=1e-6):
            a, b = numbers(scale.max().item(), s_ref.max().item())
            raise Wrong(f"{what}: scales differ from max|w_c| / {qmax} (largest {a}, expected {b}; "
                        f"relative tolerance 1e-6)")
        if q.abs().max() > qmax:
            raise Wrong(f"{what}: |q| reaches {q.abs().max():.0f} > {qmax}; clamp to [-{qmax}, {qmax}]")
        diff = (q - q_ref).abs()
        if diff.max() == 0:
            continue
        if diff.max() <= 1 and ((q <= q_ref).all() or (q.abs() <= q_ref.abs()).all()) and \
                (diff > 0).float().mean() >= 0.01:
            raise Wrong(f"{what}: q is truncated (floor or int()); round to the nearest integer, so the error "
                        "is at most half a step")
        if diff.max() <= 1 and (diff > 0).float().mean() < 0.01:
            continue  # a tie at exactly x.5 rounded the other way: the bound scale / 2 still holds
        raise Wrong(f"{what}: {int((diff > 0).sum())} of {q.numel()} integers differ from round(w / scale) "
                    f"(largest difference {diff.max():.0f})")
    return f"{len(cases)} tensors at 8, 4 and 2 bits: scales max|w_c| / qmax, integers round(w / scale)"


def _reference_masks(weights, sparsity, key=torch.abs):
    flat = torch.cat([key(w).flatten() for w in weights])
    k = int(round(sparsity * flat.numel()))
    keep = torch.ones_like(flat)
    if k:
        keep[torch.topk(flat, k, largest=False).indices] = 0
    out, start = [], 0
    for w in weights:
        out.append(keep[start:start + w.numel()].reshape(w.shape))
        start += w.numel()
    return out


@exercise("9.7.3", "global magnitude pruning masks")
def _check_masks(global_magnitude_masks) -> str:
    g = torch.Generator().manual_seed(973)
    small = torch.randn(8, 4, generator=g) * 0.05  # a layer of small weights: global pruning hits it hardest
    cases = [([torch.randn(6, 3, generator=g), small], 0.5), ([torch.randn(5, 2, 3, generator=g)], 0.3),
             ([torch.randn(10, generator=g), torch.randn(4, 4, generator=g) * 3, small], 0.8),
             ([torch.randn(3, 3, generator=g)], 0.0)]
    for weights, s in cases:
        what = f"global_magnitude_masks({len(weights)} tensors of shapes {[tuple(w.shape) for w in weights]}, {s})"
        got = global_magnitude_masks([w.clone() for w in weights], s)
        if not isinstance(got, (list, tuple)) or len(got) != len(weights):
            raise Wrong(f"{what} should return a list of {len(weights)} masks, got {type(got).__name__}")
        got = [torch.as_tensor(np.asarray(m.detach() if isinstance(m, torch.Tensor) else m), dtype=torch.float32)
               for m in got]
        for m, w in zip(got, weights):
            if tuple(m.shape) != tuple(w.shape):
                raise Wrong(f"{what}: a mask has shape {tuple(m.shape)}, its weight {tuple(w.shape)}")
        expected = _reference_masks(weights, s)
        if all(torch.equal(m, e) for m, e in zip(got, expected)):
            continue
        n = sum(w.numel() for w in weights)
        removed = int(sum((m == 0).sum() for m in got))
        if all(torch.equal(m, 1 - e) for m, e in zip(got, expected)):
            raise Wrong(f"{what}: you kept the smallest weights and removed the largest; remove the smallest |w|")
        per_layer = [_reference_masks([w], s)[0] for w in weights]
        if all(torch.equal(m, e) for m, e in zip(got, per_layer)):
            raise Wrong(f"{what}: each tensor lost the same share (per-layer pruning); rank all weights together "
                        "with one global threshold")
        signed = _reference_masks(weights, s, key=lambda w: w)
        if removed != round(s * n):
            raise Wrong(f"{what}: {removed} weights removed, expected round({s} * {n}) = {round(s * n)}")
        if all(torch.equal(m, e) for m, e in zip(got, signed)):
            raise Wrong(f"{what}: you ranked the weights by their signed value; rank by magnitude |w|")
        raise Wrong(f"{what}: the right number of weights removed, but not the {round(s * n)} of smallest |w|")
    return f"{len(cases)} cases, identical to a global L1 ranking (as torch.nn.utils.prune.global_unstructured)"


def _reference_kd(s, t, y, T, alpha):
    soft = F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1), reduction="batchmean", log_target=True)
    return alpha * T * T * soft + (1 - alpha) * F.cross_entropy(s, y)


@exercise("9.7.4", "knowledge-distillation loss")
def _check_kd(kd_loss) -> str:
    g = torch.Generator().manual_seed(974)
    cases = [(8, 10, 4.0, 0.7), (5, 3, 1.0, 0.5), (16, 10, 2.0, 0.9), (4, 6, 8.0, 0.3), (3, 10, 4.0, 0.0)]
    for n, c, T, alpha in cases:
        s = torch.randn(n, c, generator=g, dtype=torch.float64) * 3
        t = torch.randn(n, c, generator=g, dtype=torch.float64) * 3
        y = torch.randint(0, c, (n,), generator=g)
        what = f"kd_loss(batch {n}, {c} classes, T={T:g}, alpha={alpha:g})"
        got = number(kd_loss(s.clone(), t.clone(), y.clone(), T, alpha), what)
        expected = _reference_kd(s, t, y, T, alpha).item()
        if abs(got - expected) <= 1e-6 * max(1.0, abs(expected)):
            continue
        soft = F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t / T, dim=1), reduction="batchmean",
                        log_target=True).item()
        hard = F.cross_entropy(s, y).item()
        wrong = [
            (alpha * soft + (1 - alpha) * hard, "forgot the factor T^2 on the soft term (it keeps the soft gradients "
                                                "the same size as T changes)"),
            (alpha * T * T * F.kl_div(F.log_softmax(t / T, dim=1), F.log_softmax(s / T, dim=1), reduction="batchmean",
                                      log_target=True).item() + (1 - alpha) * hard,
             "computed KL(student || teacher); the target distribution is the teacher's: KL(p_teacher || q_student)"),
            (alpha * T * T * F.kl_div(F.log_softmax(s / T, dim=1), F.log_softmax(t, dim=1), reduction="batchmean",
                                      log_target=True).item() + (1 - alpha) * hard,
             "did not divide the teacher's logits by T; soften both"),
            (alpha * T * T * soft * n + (1 - alpha) * hard,
             "summed the KL over the batch; average it (reduction='batchmean'), like the cross-entropy"),
            (alpha * T * T * soft / c + (1 - alpha) * hard,
             "averaged the KL over batch * classes (reduction='mean'); use 'batchmean': sum over classes, "
             "mean over the batch"),
            ((1 - alpha) * T * T * soft + alpha * hard, "swapped alpha and 1 - alpha: alpha weighs the soft term"),
            (alpha * T * T * soft + (1 - alpha) * F.cross_entropy(s / T, y).item(),
             "divided the student's logits by T in the hard (label) loss; use the plain logits there"),
        ]
        for value, reason in wrong:
            if abs(got - value) <= 1e-6 * max(1.0, abs(value)):
                raise Wrong(f"{what} = {got:.6g}: you {reason} (expected {expected:.6g})")
        a, b = numbers(got, expected)
        raise Wrong(f"{what} = {a}, expected {b} (relative tolerance 1e-6)")
    return f"{len(cases)} random batches in float64, within a relative 1e-6"
