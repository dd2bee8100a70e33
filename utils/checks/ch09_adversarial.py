"""Checkers for section 9.10 (adversarial examples: FGSM, PGD's projection, robust accuracy)."""
from __future__ import annotations

import numpy as np
import torch

from utils.checks import Wrong, exercise, number, numbers, tolerance


def _tensor(value, what: str, like: torch.Tensor) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise Wrong(f"{what} should return a tensor, got {type(value).__name__}")
    if tuple(value.shape) != tuple(like.shape):
        raise Wrong(f"{what} has shape {tuple(value.shape)}, expected {tuple(like.shape)} (like x)")
    return value.to(torch.float64)


def _cases(seed: int):
    g = torch.Generator().manual_seed(seed)
    out = []
    for shape in ((2, 1, 5, 5), (3, 4), (1, 1, 28, 28)):
        x = torch.rand(shape, generator=g, dtype=torch.float64)
        x[..., 0] = 0.0  # black pixels, as in MNIST's background
        x[..., -1] = 1.0  # white ones
        out.append(x)
    return out, g


@exercise("9.10.1", "one FGSM step with clipping")
def _check_fgsm_step(fgsm_step) -> str:
    xs, g = _cases(910)
    for x, eps in zip(xs, (0.1, 0.25, 0.05)):
        grad = torch.randn(x.shape, generator=g, dtype=torch.float64)
        grad[..., 1] = 0.0  # a zero gradient leaves the pixel alone (sign 0)
        x_in, grad_in = x.clone(), grad.clone()
        what = f"fgsm_step(x of shape {tuple(x.shape)}, grad, eps={eps})"
        got = _tensor(fgsm_step(x_in, grad_in, eps), what, x)
        if not (torch.equal(x_in, x) and torch.equal(grad_in, grad)):
            raise Wrong(f"{what} modified x or grad in place; return a new tensor")
        expected = (x + eps * grad.sign()).clamp(0, 1)
        err = (got - expected).abs().max().item()
        if err <= 1e-9:
            continue
        for wrong, reason in (((x + eps * grad.sign()), "did not clip to the pixel range [0, 1]"),
                              ((x - eps * grad.sign()).clamp(0, 1), "stepped against the gradient: the attack "
                                                                   "increases the loss, so add eps * sign(grad)"),
                              ((x + eps * grad).clamp(0, 1), "used the gradient itself; FGSM uses its sign"),
                              ((x + eps * grad / grad.abs().max()).clamp(0, 1),
                               "scaled the gradient; FGSM uses its sign, every pixel moves by exactly eps"),
                              (eps * grad.sign(), "returned the perturbation; return the attacked image x + delta"),
                              ((x + eps * torch.where(grad >= 0, 1.0, -1.0)).clamp(0, 1),
                               "moved pixels whose gradient is 0; sign(0) = 0 leaves them alone")):
            if torch.allclose(got, wrong, rtol=0, atol=1e-9):
                raise Wrong(f"{what}: you {reason}")
        raise Wrong(f"{what} differs from clip(x + eps * sign(grad), 0, 1) by up to {err:.3e} "
                    f"({tolerance(atol=1e-9)} allowed)")
    return "3 random images in float64 (with black and white pixels and zero gradients), within 1e-9"


@exercise("9.10.2", "the L-infinity projection of PGD")
def _check_project_linf(project_linf) -> str:
    xs, g = _cases(911)
    for x, eps in zip(xs, (0.1, 0.3, 0.05)):
        x_adv = x + (torch.rand(x.shape, generator=g, dtype=torch.float64) * 2 - 1) * 3 * eps
        x_in, adv_in = x.clone(), x_adv.clone()
        what = f"project_linf(x_adv, x of shape {tuple(x.shape)}, eps={eps})"
        got = _tensor(project_linf(adv_in, x_in, eps), what, x)
        if not (torch.equal(x_in, x) and torch.equal(adv_in, x_adv)):
            raise Wrong(f"{what} modified x or x_adv in place; return a new tensor")
        expected = (x + (x_adv - x).clamp(-eps, eps)).clamp(0, 1)
        err = (got - expected).abs().max().item()
        if err <= 1e-9:
            continue
        for wrong, reason in (((x + (x_adv - x).clamp(-eps, eps)), "did not clip to the pixel range [0, 1]"),
                              (x_adv.clamp(0, 1), "only clipped to [0, 1]; also clamp x_adv - x to [-eps, eps]"),
                              (x_adv.clamp(-eps, eps), "clamped x_adv itself to [-eps, eps]; the ball is around x: "
                                                       "clamp the difference x_adv - x"),
                              ((x_adv - x).clamp(-eps, eps), "returned the perturbation; return x + delta"),
                              (x + eps * (x_adv - x).sign(), "moved every pixel to the edge of the ball; "
                                                              "a pixel already inside stays where it is")):
            if torch.allclose(got, wrong, rtol=0, atol=1e-9):
                raise Wrong(f"{what}: you {reason}")
        worst = (got - x).abs().max().item()
        raise Wrong(f"{what} differs from the projection by up to {err:.3e} ({tolerance(atol=1e-9)} allowed); "
                    f"your largest |x_proj - x| is {numbers(worst)[0]} (eps {eps})")
    return "3 random cases in float64, within 1e-9, inputs left unchanged"


_CORRECT = [
    np.array([[True, True, False, True, True],
              [True, False, False, False, True],
              [True, True, False, True, False]]),
    np.array([[True, True, True, False]]),
    np.array([[True, False, True, True, False, True],
              [True, True, False, True, False, True]]),
    np.array([[False, False], [False, False]]),
]


@exercise("9.10.3", "per-image worst case over several attacks")
def _check_worst_case(worst_case_accuracy) -> str:
    for correct in _CORRECT:
        got = number(worst_case_accuracy(correct.copy()), f"worst_case_accuracy(array of shape {correct.shape})")
        expected = correct.all(axis=0).mean()
        if abs(got - expected) <= 1e-12:
            continue
        what = f"worst_case_accuracy(correct of shape {correct.shape}) = {numbers(got, expected)[0]}"
        if correct.shape[0] > 1 and abs(got - correct.mean(axis=1).min()) <= 1e-12:
            raise Wrong(f"{what}: you took the accuracy of the single strongest attack; different attacks fool "
                        f"the model on different images, so count an image robust only if every attack "
                        f"failed on it (expected {numbers(expected, got)[0]})")
        if abs(got - correct.mean()) <= 1e-12:
            raise Wrong(f"{what}: you averaged over attacks and images; an image counts only if every "
                        f"attack failed on it (expected {numbers(expected, got)[0]})")
        if abs(got - correct.any(axis=0).mean()) <= 1e-12:
            raise Wrong(f"{what}: you counted images where any attack failed; it must be every attack "
                        f"(expected {numbers(expected, got)[0]})")
        if abs(got - correct.all(axis=0).sum()) <= 1e-12:
            raise Wrong(f"{what}: you returned a count; return the share of images (expected "
                        f"{numbers(expected, got)[0]})")
        raise Wrong(f"{what}, expected {numbers(expected, got)[0]} ({tolerance(atol=1e-12)} allowed)")
    return f"{len(_CORRECT)} tables of attack outcomes, exactly"


@exercise("9.10.4", "the first-order loss increase under an L-infinity budget")
def _check_first_order(first_order_increase) -> str:
    g = torch.Generator().manual_seed(913)
    for shape, eps in (((1, 28, 28), 0.1), ((4, 4), 0.3), ((10,), 0.01)):
        grad = torch.randn(shape, generator=g, dtype=torch.float64)
        what = f"first_order_increase(grad of shape {shape}, eps={eps})"
        got = number(first_order_increase(grad.clone(), eps), what)
        expected = eps * grad.abs().sum().item()
        if abs(got - expected) <= 1e-9 * abs(expected):
            continue
        for wrong, reason in ((eps * grad.sum().item(), "summed the signed gradient; the best delta takes each "
                                                        "pixel's sign, so the increase is eps * sum |g|"),
                              (eps * grad.norm().item(), "used the L2 norm of g; for an L-infinity budget the "
                                                         "increase is eps times the L1 norm (the dual norm)"),
                              (eps * grad.abs().max().item(), "used the largest |g|; every pixel moves by eps, "
                                                              "so all of them add up"),
                              (grad.abs().sum().item(), "forgot eps")):
            if abs(got - wrong) <= 1e-9 * max(1.0, abs(wrong)):
                raise Wrong(f"{what} = {numbers(got)[0]}: you {reason} (expected {numbers(expected, got)[0]})")
        raise Wrong(f"{what} = {numbers(got, expected)[0]}, expected {numbers(expected, got)[0]} "
                    f"({tolerance(rtol=1e-9)} allowed)")
    return "3 random gradients in float64, within a relative 1e-9 (it is eps * ||g||_1: it grows with the pixels)"
