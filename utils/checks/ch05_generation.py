"""Checkers for section 5.3 (image generation and restoration)."""
from __future__ import annotations

import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _number(value, what: str) -> float:
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")
    return float(value)


def _array(value, what: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be an array of numbers, got {type(value).__name__}")


# --- 5.3.1 ---------------------------------------------------------------------------

@exercise("5.3.1", "PSNR of additive noise")
def _check_psnr_of_noise(psnr_of_noise) -> str:
    for sigma, max_value in ((10.0, 255.0), (2.0, 255.0), (0.1, 1.0), (0.4, 1.0), (0.05, 1.0)):
        got = _number(psnr_of_noise(sigma, max_value=max_value), f"psnr_of_noise({sigma}, max_value={max_value})")
        expected = 20 * math.log10(max_value / sigma)
        if math.isclose(got, expected, abs_tol=1e-6):
            continue
        if math.isclose(got, expected / 2, abs_tol=1e-6):
            raise Wrong(f"psnr_of_noise({sigma}) = {got:.3f} dB is half the right value: the MSE is sigma**2, "
                        "so PSNR = 10 log10(MAX² / sigma²) = 20 log10(MAX / sigma)")
        if math.isclose(got, 10 * math.log10(max_value**2 / sigma), abs_tol=1e-6):
            raise Wrong("you divided by sigma instead of sigma**2: the mean squared error of noise with "
                        "standard deviation sigma is sigma**2")
        if math.isclose(got, 20 * math.log10(1 / sigma), abs_tol=1e-6):
            raise Wrong(f"for max_value={max_value} the answer should change: MAX is the largest possible "
                        "pixel value (255 for 8-bit images), PSNR = 20 log10(MAX / sigma)")
        if math.isclose(got, 20 * math.log(max_value / sigma), abs_tol=1e-6) or \
                math.isclose(got, 10 * math.log(max_value**2 / sigma**2), abs_tol=1e-6):
            raise Wrong("decibels use the base-10 logarithm (math.log10), not the natural log")
        if math.isclose(got, -expected, abs_tol=1e-6):
            raise Wrong("the sign is flipped: PSNR = 10 log10(MAX² / MSE), signal over noise")
        raise not_close(f"psnr_of_noise({sigma}, max_value={max_value}) in dB", got, expected, atol=1e-6)
    return "20 log10(MAX / sigma) for five (sigma, MAX) pairs, including 8-bit images"


# --- 5.3.2 ---------------------------------------------------------------------------

def _tiny_gan(seed: int):
    """A tiny conditional generator and projection discriminator on 1x4x4 images."""
    import torch
    from torch import nn

    class TinyG(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(10, 3)
            self.linear = nn.Linear(5 + 3, 16)

        def forward(self, z, y):
            return torch.sigmoid(self.linear(torch.cat([z, self.embed(y)], dim=1))).view(-1, 1, 4, 4)

    class TinyD(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(16, 1)
            self.embed = nn.Embedding(10, 16)

        def forward(self, x, y):
            h = x.flatten(1)
            return self.linear(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)

    torch.manual_seed(seed)
    return TinyG().double(), TinyD().double()


@exercise("5.3.2", "discriminator loss with detach")
def _check_discriminator_loss(discriminator_loss) -> str:
    import torch
    import torch.nn.functional as F

    for seed in (0, 1, 2):
        G, D = _tiny_gan(seed)
        gen = torch.Generator().manual_seed(seed)
        real = torch.rand(6, 1, 4, 4, generator=gen, dtype=torch.float64)
        labels = torch.randint(0, 10, (6,), generator=gen)
        z = torch.randn(6, 5, generator=gen, dtype=torch.float64)
        loss = discriminator_loss(D, G, real, labels, z)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise Wrong(f"discriminator_loss should return a scalar torch tensor (so that you can call "
                        f".backward()), got {type(loss).__name__}")
        if not loss.requires_grad:
            raise Wrong("the loss has no gradient: do not compute D's outputs under torch.no_grad() or "
                        "with .item(); only the FAKE images should be detached")
        with torch.no_grad():
            fake = G(z, labels)
            d_real, d_fake = D(real, labels), D(fake, labels)
            ones, zeros = torch.ones(6, dtype=torch.float64), torch.zeros(6, dtype=torch.float64)
            bce = F.binary_cross_entropy_with_logits
            expected = bce(d_real, ones) + bce(d_fake, zeros)
            swapped = bce(d_real, zeros) + bce(d_fake, ones)
            unconditional_fake = [bce(d_real, ones) + bce(D(fake, (labels + k) % 10), zeros) for k in range(1, 10)]
        value = loss.item()
        if not math.isclose(value, expected.item(), rel_tol=1e-5, abs_tol=1e-7):
            if math.isclose(value, swapped.item(), rel_tol=1e-5):
                raise Wrong("the targets are swapped: the discriminator should say 1 (real) for real images "
                            "and 0 (fake) for generated ones")
            if math.isclose(value, expected.item() / 2, rel_tol=1e-5):
                raise Wrong("you averaged the two terms; the loss asked for is their sum, "
                            "BCE(D(real), 1) + BCE(D(fake), 0)")
            if math.isclose(value, bce(d_real, ones).item(), rel_tol=1e-5):
                raise Wrong("only the real term is there: add BCE(D(fake, labels), 0) for the generated images")
            if any(math.isclose(value, u.item(), rel_tol=1e-5) for u in unconditional_fake):
                raise Wrong("the fakes were judged with different labels: generate them with G(z, labels) and "
                            "judge them with D(fake, labels), the same labels as the real images")
            raise not_close("for a test batch the loss", value, expected.item(), rtol=1e-5, atol=1e-7,
                            hint=": mean BCE with logits of D(real, labels) vs 1 plus D(G(z, labels), labels) vs 0")
        G.zero_grad(set_to_none=True)
        D.zero_grad(set_to_none=True)
        loss.backward()
        leaked = [name for name, p in G.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
        if leaked:
            raise Wrong(f"gradient reached the generator ({', '.join(leaked)}): the discriminator's loss must "
                        "use fake.detach() (or make the fakes under torch.no_grad())")
        if any(p.grad is None or p.grad.abs().sum() == 0 for p in D.parameters()):
            raise Wrong("some discriminator parameters got no gradient: compute D(real, labels) and "
                        "D(fake, labels) with gradients enabled")
    return ("the value equals BCE(D(real), 1) + BCE(D(fake), 0) on three batches, D gets gradients "
            "and the generator none (detach)")


# --- 5.3.3 ---------------------------------------------------------------------------

@exercise("5.3.3", "distance to the nearest reference image")
def _check_nearest_distance(nearest_distance) -> str:
    rng = np.random.default_rng(53)
    for n, m in ((7, 30), (40, 9)):
        samples = rng.random((n, 1, 5, 5))
        reference = rng.random((m, 1, 5, 5))
        samples[0] = reference[3]  # an exact copy
        got = _array(nearest_distance(samples.copy(), reference.copy()), "nearest_distance(samples, reference)")
        d = np.sqrt(((samples.reshape(n, 1, -1) - reference.reshape(1, m, -1)) ** 2).sum(axis=2))
        expected = d.min(axis=1)
        if got.shape == (m,) and n != m:
            raise Wrong(f"you returned {m} numbers, one per reference image; the answer has one per sample "
                        f"({n}): take the minimum over the reference images (axis=1 of an (n, m) table)")
        if got.shape != (n,):
            raise Wrong(f"for {n} samples the result should have shape ({n},), got {got.shape}")
        if np.allclose(got, expected, atol=1e-6):
            continue
        if np.allclose(got, expected**2, atol=1e-6):
            raise Wrong("these are squared distances: take the square root")
        if np.allclose(got, d.mean(axis=1), atol=1e-6):
            raise Wrong("that is the mean distance to the reference set; the NEAREST image is the minimum")
        if np.allclose(got, d.argmin(axis=1)):
            raise Wrong("you returned the index of the nearest image; return its distance")
        if abs(got[0]) > 1e-6:
            raise Wrong(f"sample 0 is an exact copy of reference image 3, so its distance must be 0, "
                        f"got {got[0]:.4g} (the check allows {tolerance(atol=1e-6)})")
        i = int(np.argmax(np.abs(got - expected)))
        yours, right = numbers(got[i], expected[i])
        raise Wrong(f"distances differ from the Euclidean distance to the nearest reference image: for sample "
                    f"{i} expected {right}, got {yours} (the check allows {tolerance(1e-5, 1e-6)})")
    return "Euclidean distance to the nearest reference image, for each sample (an exact copy gives 0)"


# --- 5.3.4 ---------------------------------------------------------------------------

def _slerp_reference(z0, z1, t):
    import torch

    omega = torch.arccos(torch.clamp((z0 / z0.norm()) @ (z1 / z1.norm()), -1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


@exercise("5.3.4", "spherical interpolation (slerp)")
def _check_slerp(slerp) -> str:
    import torch

    gen = torch.Generator().manual_seed(54)
    z0 = torch.randn(16, generator=gen, dtype=torch.float64)
    z1 = torch.randn(16, generator=gen, dtype=torch.float64)
    for t in (0.0, 0.3, 0.5, 1.0):
        out = slerp(z0.clone(), z1.clone(), t)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (16,):
            raise Wrong(f"slerp(z0, z1, {t}) should return a tensor of shape (16,), got "
                        f"{type(out).__name__} {tuple(getattr(out, 'shape', ()))}")
        out = out.detach().double()
        if not torch.isfinite(out).all():
            raise Wrong(f"slerp(z0, z1, {t}) contains NaN or inf")
        expected = _slerp_reference(z0, z1, t)
        if torch.allclose(out, expected, atol=1e-6):
            continue
        if torch.allclose(out, (1 - t) * z0 + t * z1, atol=1e-6):
            raise Wrong("this is the straight line (1 - t) z0 + t z1; slerp follows the arc: "
                        "sin((1 - t) Ω) / sin Ω · z0 + sin(t Ω) / sin Ω · z1")
        if torch.allclose(out, _slerp_reference(z0, z1, 1 - t), atol=1e-6):
            raise Wrong("t runs the wrong way: slerp(z0, z1, 0) must be z0 and slerp(z0, z1, 1) must be z1")
        raise Wrong(f"slerp(z0, z1, {t}) differs from the reference by {(out - expected).abs().max():.3g} (the "
                    f"check allows {tolerance(1e-5, 1e-6)}); Ω is the angle between z0 and z1: "
                    "arccos(z0·z1 / (|z0| |z1|))")
    # equal lengths: slerp keeps the length all along the arc
    u0, u1 = z0 / z0.norm() * 4, z1 / z1.norm() * 4
    mid = slerp(u0, u1, 0.5).detach().double()
    if not math.isclose(mid.norm().item(), 4.0, rel_tol=1e-6):
        raise not_close("for two vectors of length 4 the length of the midpoint", mid.norm().item(), 4.0, rtol=1e-6)
    # (almost) parallel vectors: sin Ω ~ 0, fall back to the straight line without NaN
    par = slerp(z0, 2 * z0, 0.5)
    if not torch.isfinite(par).all() or not torch.allclose(par.double(), 1.5 * z0, atol=1e-5):
        raise Wrong("for parallel vectors (z1 = 2 z0) sin Ω = 0: fall back to the straight line "
                    "instead of dividing by zero")
    return ("matches the reference at four values of t, keeps the length of equal-length vectors, "
            "and handles Ω = 0")
