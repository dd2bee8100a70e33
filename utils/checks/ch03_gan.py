"""Checkers for section 3.4 (generative adversarial networks)."""
from __future__ import annotations

import copy
import math

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _small_mlp(n_in, n_out, seed):
    """A tiny MLP with fixed weights, made without touching the notebook's global torch RNG."""
    import torch
    from torch import nn

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(n_in, 16), nn.LeakyReLU(0.2), nn.Linear(16, n_out))


def _scalar(value, what: str) -> float:
    if hasattr(value, "detach"):
        if value.numel() != 1:
            raise Wrong(f"{what} should be a single number (the mean over the batch), "
                        f"got a tensor of shape {tuple(value.shape)}")
        return float(value.detach())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a number, got {type(value).__name__}")


# --- 3.4.1 the non-saturating generator loss ----------------------------------

@exercise("3.4.1", "non-saturating generator loss")
def _check_nonsaturating(loss_fn) -> str:
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(341)
    logits = (3 * torch.randn(64, 1, generator=gen)).requires_grad_(True)
    out = loss_fn(logits)
    if not torch.is_tensor(out):
        raise Wrong(f"return a torch tensor (so that the generator can back-propagate through it), "
                    f"got {type(out).__name__}")
    value = _scalar(out, "the loss")
    expected = F.softplus(-logits).mean().item()
    if not math.isclose(value, expected, rel_tol=1e-5, abs_tol=1e-6):
        minimax = -F.softplus(logits).mean().item()
        if math.isclose(value, minimax, rel_tol=1e-5, abs_tol=1e-6):
            raise Wrong("that is the minimax (saturating) loss log(1 - D(G(z))); "
                        "the non-saturating loss is -log D(G(z))")
        if math.isclose(value, -expected, rel_tol=1e-5, abs_tol=1e-6):
            raise Wrong("the sign is flipped: the loss is -log D(G(z)), which is positive")
        if math.isclose(value, expected * len(logits), rel_tol=1e-5):
            raise Wrong("you summed over the batch: take the mean")
        if math.isclose(value, F.softplus(logits).mean().item(), rel_tol=1e-5):
            raise Wrong("check which label the fakes get: the generator wants D to call them real (label 1)")
        raise not_close("on 64 random logits the loss", value, expected, rtol=1e-5, atol=1e-6,
                        hint="the input is the discriminator's logit a, and D = sigmoid(a)")
    no_gradient = Wrong("the value is right but the gradient is not: build the loss from torch operations "
                        "on the logits (no .item(), no NumPy) so that autograd can differentiate it")
    if not out.requires_grad:
        raise no_gradient
    grad, = torch.autograd.grad(out, logits)
    if not torch.allclose(grad, -(1 - torch.sigmoid(logits.detach())) / len(logits), atol=1e-6):
        raise no_gradient
    extreme = torch.tensor([[-100.0], [-30.0], [0.0], [30.0]], requires_grad=True)
    out = loss_fn(extreme)
    value = _scalar(out, "the loss")
    if not math.isfinite(value):
        raise Wrong("for a logit of -100 the loss is not finite: sigmoid(-100) rounds to 0 and log(0) = -inf; "
                    "use F.softplus(-a) (or F.binary_cross_entropy_with_logits) instead of log(sigmoid(a))")
    if not math.isclose(value, F.softplus(-extreme).mean().item(), rel_tol=1e-4):
        raise not_close("for the logits [-100, -30, 0, 30] the loss", value, F.softplus(-extreme).mean().item(),
                        rtol=1e-4, hint=": large logits lose precision")
    grad, = torch.autograd.grad(out, extreme)
    if not torch.isfinite(grad).all():
        raise Wrong("the gradient is not finite for a logit of -100: use F.softplus(-a)")
    return "value and gradient −(1 − D)/n match on 64 random logits, and stay finite for a logit of −100"


# --- 3.4.2 one discriminator step, with detach ---------------------------------

def _reference_step(D, G, real, z, average: bool):
    import torch
    import torch.nn.functional as F

    D = copy.deepcopy(D)
    opt = torch.optim.SGD(D.parameters(), lr=0.1)
    fake = G(z).detach()
    loss = F.binary_cross_entropy_with_logits(D(real), torch.ones(len(real), 1)) + \
        F.binary_cross_entropy_with_logits(D(fake), torch.zeros(len(z), 1))
    if average:
        loss = loss / 2
    opt.zero_grad()
    loss.backward()
    opt.step()
    return [p.detach().clone() for p in D.parameters()], loss.item()


def _params_equal(params, reference, atol=1e-6) -> bool:
    return all(torch_allclose(p, r, atol) for p, r in zip(params, reference))


def torch_allclose(a, b, atol):
    import torch

    return torch.allclose(a.detach(), b, atol=atol, rtol=1e-5)


@exercise("3.4.2", "discriminator step with detach")
def _check_discriminator_step(discriminator_step) -> str:
    import torch
    import torch.nn.functional as F

    D, G = _small_mlp(2, 1, seed=1), _small_mlp(2, 2, seed=2)
    D_start = copy.deepcopy(D)
    gen = torch.Generator().manual_seed(342)
    real = torch.randn(32, 2, generator=gen) + 2.0
    z = torch.randn(32, 2, generator=gen)
    ref_sum, loss_sum = _reference_step(D, G, real, z, average=False)
    ref_avg, loss_avg = _reference_step(D, G, real, z, average=True)
    start_D = [p.detach().clone() for p in D.parameters()]
    start_G = [p.detach().clone() for p in G.parameters()]
    for p in D.parameters():  # stale gradients from an earlier step: zero_grad must clear them
        p.grad = torch.full_like(p, 0.5)
    d_optimizer = torch.optim.SGD(D.parameters(), lr=0.1)

    loss = discriminator_step(D, G, d_optimizer, real, z)

    leaked = [p.grad for p in G.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    if leaked:
        raise Wrong("the generator's parameters received gradients from the discriminator's loss: "
                    "use G(z).detach() (or torch.no_grad()) for the fakes in the discriminator step")
    if not all(torch.equal(a, b.detach()) for a, b in zip(start_G, G.parameters())):
        raise Wrong("the generator's parameters changed: the discriminator step must update D only")
    params = list(D.parameters())
    if all(torch.equal(a, b.detach()) for a, b in zip(start_D, params)):
        raise Wrong("D's parameters did not change: call loss.backward() and d_optimizer.step()")
    if _params_equal(params, ref_sum) or _params_equal(params, ref_avg):
        expected = loss_sum if _params_equal(params, ref_sum) else loss_avg
        value = _scalar(loss, "the returned loss")
        if not math.isclose(value, expected, rel_tol=1e-4):
            raise not_close("D was updated correctly; return the loss of this step, which", value, expected,
                            rtol=1e-4)
        return ("D moved exactly as one optimiser step on BCE(D(real), 1) + BCE(D(fake), 0), "
                "and the generator received no gradient")
    stale = [r - 0.1 * 0.5 for r in ref_sum]
    stale_avg = [r - 0.1 * 0.5 for r in ref_avg]
    if _params_equal(params, stale) or _params_equal(params, stale_avg):
        raise Wrong("D's update includes stale gradients from before the step: call d_optimizer.zero_grad() "
                    "before loss.backward()")
    D_swap = copy.deepcopy(D_start)
    opt = torch.optim.SGD(D_swap.parameters(), lr=0.1)
    fake = G(z).detach()
    swapped = F.binary_cross_entropy_with_logits(D_swap(real), torch.zeros(32, 1)) + \
        F.binary_cross_entropy_with_logits(D_swap(fake), torch.ones(32, 1))
    opt.zero_grad()
    swapped.backward()
    opt.step()
    if _params_equal(params, [p.detach() for p in D_swap.parameters()]):
        raise Wrong("the labels are swapped: real samples get label 1, fakes label 0")
    raise Wrong("D's parameters after your step differ from one optimiser step on "
                "BCE(D(real), 1) + BCE(D(G(z)), 0): use the given real batch, the fakes G(z) from the given z, "
                "BCE with logits, and exactly one d_optimizer.step()")


# --- 3.4.3 the mode-coverage metric --------------------------------------------

def _coverage_cases():
    from utils.gan import mixture_centers

    rng = np.random.default_rng(343)
    ring = mixture_centers(8, "ring", 2.0)
    cases = [(ring[rng.integers(0, 8, 300)] + 0.15 * rng.normal(size=(300, 2)), ring, 0.3)]
    cases.append((rng.uniform(-3, 3, size=(400, 2)), ring, 0.5))  # many off-mode points
    close = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])  # radius 0.8 around 0 and 1 overlaps
    pts = np.array([[0.45, 0.0], [0.55, 0.1], [0.2, 0.0], [1.7, 0.0], [-0.3, 0.2], [3.0, 3.0], [0.4, 0.6]])
    cases.append((pts, close, 0.8))
    cases.append((np.repeat(ring[[2]], 50, axis=0) + 0.01 * rng.normal(size=(50, 2)), ring, 0.3))
    return cases


@exercise("3.4.3", "mode coverage metric")
def _check_mode_coverage(coverage_fn) -> str:
    from utils.gan import mode_coverage

    for samples, centers, radius in _coverage_cases():
        expected = mode_coverage(samples, centers, radius)
        out = coverage_fn(samples.copy(), centers.copy(), radius)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Wrong("return a tuple (per_mode, off_mode)")
        try:
            per_mode = np.asarray(out[0], dtype=float)
        except (TypeError, ValueError):
            raise Wrong(f"per_mode should be an array of numbers, got {type(out[0]).__name__}")
        off_mode = _scalar(out[1], "off_mode")
        if per_mode.shape != (len(centers),):
            raise Wrong(f"per_mode should have one share per centre, shape ({len(centers)},), got {per_mode.shape}")
        if np.allclose(per_mode, expected.per_mode, atol=1e-9) and math.isclose(off_mode, expected.off_mode,
                                                                                abs_tol=1e-9):
            continue
        n = len(samples)
        if np.allclose(per_mode, expected.per_mode * n):
            raise Wrong("return shares of all samples (counts divided by the number of samples), not counts")
        near = 1 - expected.off_mode
        if near > 0 and np.allclose(per_mode, expected.per_mode / near) and not math.isclose(near, 1.0):
            raise Wrong("per_mode should be a share of *all* samples, not of the near ones: "
                        "per_mode.sum() + off_mode must equal 1")
        if per_mode.sum() + off_mode > 1 + 1e-9:
            raise Wrong(f"per_mode.sum() + off_mode = {numbers(per_mode.sum() + off_mode, 1.0, digits=3)[0]} > 1 "
                        f"(the check allows {tolerance(atol=1e-9)}): a sample was counted "
                        "for more than one mode; count it only for its nearest centre")
        if not np.allclose(per_mode, expected.per_mode, atol=1e-9):
            yours, right = numbers(per_mode, expected.per_mode, digits=3)
            raise Wrong(f"with {len(centers)} centres and radius {radius} the shares should be {right}, got "
                        f"{yours} (the check allows {tolerance(1e-5, 1e-9)}); a sample counts for its nearest "
                        "centre only if it lies within the radius")
        if not math.isclose(off_mode, expected.off_mode, abs_tol=1e-9):
            raise not_close("off_mode", off_mode, expected.off_mode, rtol=1e-9, atol=1e-9,
                            hint=": it is the share of samples that are not within the radius of their nearest centre")
    return "matches utils.gan.mode_coverage on four cases, including overlapping radii and a collapsed sample"


# --- 3.4.4 the optimal discriminator of two Gaussian mixtures -----------------

def _mixture_density(x, centers, std, weights, *, variance_as_std=False, nearest_only=False):
    """Density of a mixture of round 2-D Gaussians at the rows of x (switches reproduce mistakes)."""
    d2 = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=-1)  # (n, k)
    spread = std if variance_as_std else std**2
    bumps = np.exp(-d2 / (2 * spread)) / (2 * np.pi * spread)
    if nearest_only:
        bumps = np.where(d2 == d2.min(axis=1, keepdims=True), bumps, 0.0)
    return bumps @ weights


def _d_star(x, centers, std, data_weights, gen_weights, *, swap=False, **mistake):
    p_data = _mixture_density(x, centers, std, data_weights, **mistake)
    p_g = _mixture_density(x, centers, std, gen_weights, **mistake)
    return (p_g if swap else p_data) / (p_data + p_g)


def _d_star_cases():
    """Mixtures and points the learner does not see: (x, centers, std, data_weights, gen_weights)."""
    r = np.random.default_rng(344)
    angles = 2 * np.pi * np.arange(8) / 8
    ring = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    collapsed = np.zeros(8)
    collapsed[[2, 5]] = 0.5
    cases = [(ring + r.normal(0, 0.05, ring.shape), ring, 0.1, np.full(8, 1 / 8), collapsed)]
    centers = r.uniform(-1, 1, size=(5, 2))
    gen = r.dirichlet(np.ones(5))
    gen[3] = 0.0
    gen /= gen.sum()
    points = np.concatenate([centers + r.normal(0, 0.2, centers.shape), r.uniform(-1, 1, size=(6, 2))])
    cases.append((points, centers, 0.3, r.dirichlet(np.ones(5)), gen))
    same = r.dirichlet(np.ones(3))
    cases.append((r.normal(0, 0.5, size=(7, 2)), r.normal(0, 0.5, size=(3, 2)), 0.4, same, same.copy()))
    return cases


@exercise("3.4.4", "optimal discriminator of two Gaussian mixtures")
def _check_optimal_discriminator(optimal_discriminator) -> str:
    if not callable(optimal_discriminator):
        raise Wrong("write a function optimal_discriminator(x, centers, std, data_weights, gen_weights); "
                    f"got a {type(optimal_discriminator).__name__}")
    mistakes = [
        (dict(swap=True), "you computed p_g / (p_data + p_g); D* is p_data / (p_data + p_g), the probability "
                          "that x is real"),
        (dict(variance_as_std=True), "the Gaussian's exponent is −‖x − c‖² / (2 std²): square the standard "
                                     "deviation"),
        (dict(nearest_only=True), "you used only the nearest centre; a mixture density sums the bumps of "
                                  "all centres, weighted"),
    ]
    for x, centers, std, data_weights, gen_weights in _d_star_cases():
        expected = _d_star(x, centers, std, data_weights, gen_weights)
        result = optimal_discriminator(x.copy(), centers.copy(), std, data_weights.copy(), gen_weights.copy())
        try:
            got = np.asarray(result, dtype=np.float64)
        except (TypeError, ValueError):
            raise Wrong(f"optimal_discriminator should return an array of numbers, got {type(result).__name__}")
        if got.size != len(x):
            raise Wrong(f"for {len(x)} points the result should have {len(x)} values (one D* per point), "
                        f"got shape {got.shape}")
        got = got.reshape(-1)
        if np.allclose(got, expected, rtol=1e-7, atol=1e-10):
            continue
        if np.allclose(got, 0.5) and not np.allclose(expected, 0.5):
            raise Wrong("D* = 1/2 only where p_g = p_data; compute both densities at every point")
        for switches, reason in mistakes:
            if np.allclose(got, _d_star(x, centers, std, data_weights, gen_weights, **switches), rtol=1e-7,
                           atol=1e-10):
                raise Wrong(reason)
        uniform = np.full(len(centers), 1 / len(centers))
        if np.allclose(got, _d_star(x, centers, std, uniform, uniform)):
            raise Wrong("your result ignores the weights: the data and the generator put different weights "
                        "on the same Gaussians, and that difference is what D* measures")
        worst = int(np.argmax(np.abs(got - expected)))
        raise not_close(f"at x = {np.round(x[worst], 3)} D*", got[worst], expected[worst], rtol=1e-7, atol=1e-10,
                        hint="D* = p_data / (p_data + p_g) with each p a weighted sum of round Gaussians")
    return ("right on three mixtures you did not see, including a collapsed generator (D* = 1 where it "
            "puts no mass) and two equal mixtures (D* = 1/2)")
