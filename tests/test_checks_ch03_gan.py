"""Each checker of section 3.4 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_contract import contract_tests

from utils import gan
from utils.checks import PASSED, evaluate


def ns_loss(logits):
    return F.softplus(-logits).mean()


def d_step(D, G, opt, real, z, *, detach=True, zero_grad=True, swap=False, average=False, step=True):
    fake = G(z).detach() if detach else G(z)
    real_label, fake_label = (0.0, 1.0) if swap else (1.0, 0.0)
    r, f = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(r, torch.full_like(r, real_label))
            + F.binary_cross_entropy_with_logits(f, torch.full_like(f, fake_label)))
    if average:
        loss = loss / 2
    if zero_grad:
        opt.zero_grad()
    loss.backward()
    if step:
        opt.step()
    return loss.item()


def coverage(samples, centers, radius):
    cov = gan.mode_coverage(samples, centers, radius)
    return cov.per_mode, cov.off_mode


def coverage_first_within_radius(samples, centers, radius):
    """A typical mistake: count a sample for the first centre within the radius, not the nearest."""
    d = np.linalg.norm(samples[:, None] - centers[None], axis=2)
    within = d <= radius
    per_mode = np.zeros(len(centers))
    for row in within:
        if row.any():
            per_mode[np.argmax(row)] += 1
    per_mode /= len(samples)
    return per_mode, 1 - per_mode.sum()


def coverage_double_counting(samples, centers, radius):
    d = np.linalg.norm(samples[:, None] - centers[None], axis=2)
    per_mode = (d <= radius).mean(axis=0)
    return per_mode, float(np.mean((d > radius).all(axis=1)))


def coverage_of_near(samples, centers, radius):
    per_mode, off = coverage(samples, centers, radius)
    return per_mode / (1 - off), off


def coverage_no_radius(samples, centers, radius):
    d = np.linalg.norm(samples[:, None] - centers[None], axis=2)
    return np.bincount(d.argmin(1), minlength=len(centers)) / len(samples), 0.0


def coverage_counts(samples, centers, radius):
    per_mode, off = coverage(samples, centers, radius)
    return per_mode * len(samples), off * len(samples)


def d_star(x, centers, std, data_weights, gen_weights, *, swap=False, variance_as_std=False, nearest=False,
           uniform=False):
    d2 = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    spread = std if variance_as_std else std**2
    bumps = np.exp(-d2 / (2 * spread))
    if nearest:
        bumps = bumps * (d2 == d2.min(axis=1, keepdims=True))
    if uniform:
        data_weights = gen_weights = np.ones(len(centers))
    p_data, p_g = bumps @ data_weights, bumps @ gen_weights
    return (p_g if swap else p_data) / (p_data + p_g)


def wrong_d_star(**mistake):
    return lambda *args: d_star(*args, **mistake)


REFERENCE = {
    "3.4.1": ns_loss,
    "3.4.2": d_step,
    "3.4.3": coverage,
    "3.4.4": d_star,
}

WRONG = [
    ("3.4.1", lambda a: -F.softplus(a).mean(), "minimax"),
    ("3.4.1", lambda a: -F.softplus(-a).mean(), "sign is flipped"),
    ("3.4.1", lambda a: F.softplus(-a).sum(), "mean"),
    ("3.4.1", lambda a: -torch.log(torch.sigmoid(a)).mean(), "softplus"),
    ("3.4.1", lambda a: F.softplus(a).mean(), "label"),
    ("3.4.1", lambda a: torch.tensor(F.softplus(-a).mean().item()), "gradient"),
    ("3.4.1", lambda a: F.softplus(-a), "single number"),
    ("3.4.1", lambda a: F.softplus(-a).mean().item(), "torch tensor"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z, detach=False), "detach"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z, zero_grad=False), "zero_grad"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z, swap=True), "swapped"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z, step=False), "did not change"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, torch.randn_like(z)), "differ"),
    ("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z) * 3, "return the loss"),
    ("3.4.3", coverage_first_within_radius, "nearest centre"),
    ("3.4.3", coverage_double_counting, "more than one mode"),
    ("3.4.3", coverage_of_near, "all"),
    ("3.4.3", coverage_no_radius, "within the radius"),
    ("3.4.3", coverage_counts, "not counts"),
    ("3.4.3", lambda s, c, r: coverage(s, c, r)[0], "tuple"),
    ("3.4.4", wrong_d_star(swap=True), "p_g / (p_data + p_g)"),
    ("3.4.4", wrong_d_star(variance_as_std=True), "square the standard deviation"),
    ("3.4.4", wrong_d_star(nearest=True), "nearest centre"),
    ("3.4.4", wrong_d_star(uniform=True), "only where p_g = p_data"),
    ("3.4.4", lambda x, c, s, wd, wg: d_star(x, c, s, wd, wg)[:-1], "one D* per point"),
    ("3.4.4", lambda x, c, s, wd, wg: d_star(x, c, s, wd, wg) ** 2, "D* should be"),
    ("3.4.4", lambda x, c, s, wd, wg: "not a number", "array of numbers"),
    ("3.4.4", (0.2, 1.0), "write a function"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_discriminator_step_accepts_the_averaged_loss():
    result = evaluate("3.4.2", lambda D, G, o, r, z: d_step(D, G, o, r, z, average=True))
    assert result.status == PASSED, result.message


def test_checkers_leave_the_global_torch_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    evaluate("3.4.2", d_step)
    evaluate("3.4.1", ns_loss)
    assert torch.equal(torch.rand(3), expected)
