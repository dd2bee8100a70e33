"""Each checker of section 5.3 accepts the reference answer and rejects plausible mistakes."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from checker_contract import contract_tests

from utils.checks import FAILED, PASSED, evaluate


# --- reference answers ----------------------------------------------------------------

def psnr_of_noise(sigma, max_value=1.0):
    return 20 * math.log10(max_value / sigma)


def discriminator_loss(D, G, real, labels, z):
    fake = G(z, labels).detach()
    d_real, d_fake = D(real, labels), D(fake, labels)
    return (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake)))


def nearest_distance(samples, reference):
    S = torch.as_tensor(np.asarray(samples, dtype=np.float64)).flatten(1)
    R = torch.as_tensor(np.asarray(reference, dtype=np.float64)).flatten(1)
    return torch.cdist(S, R).min(dim=1).values.numpy()


def slerp(z0, z1, t):
    omega = torch.arccos(torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0))
    if torch.sin(omega).abs() < 1e-6:
        return (1 - t) * z0 + t * z1
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


REFERENCE = {"5.3.1": psnr_of_noise, "5.3.2": discriminator_loss, "5.3.3": nearest_distance, "5.3.4": slerp}


def test_alternative_correct_answers_pass():
    # 5.3.2 with the fakes made under no_grad and BCELoss on probabilities
    def no_grad_version(D, G, real, labels, z):
        with torch.no_grad():
            fake = G(z, labels)
        bce = torch.nn.BCELoss()
        p_real, p_fake = torch.sigmoid(D(real, labels)), torch.sigmoid(D(fake, labels))
        return bce(p_real, torch.ones_like(p_real)) + bce(p_fake, torch.zeros_like(p_fake))

    assert evaluate("5.3.2", no_grad_version).passed
    # 5.3.3 in NumPy, by broadcasting

    def numpy_version(samples, reference):
        s, r = np.asarray(samples).reshape(len(samples), -1), np.asarray(reference).reshape(len(reference), -1)
        return np.sqrt(((s[:, None] - r[None]) ** 2).sum(-1)).min(axis=1)

    assert evaluate("5.3.3", numpy_version).passed


# --- wrong answers, each with the phrase its message must contain ----------------------

WRONG = [
    ("5.3.1", lambda sigma, max_value=1.0: 10 * math.log10(max_value / sigma), "half the right value"),
    ("5.3.1", lambda sigma, max_value=1.0: 10 * math.log10(max_value**2 / sigma), "sigma**2"),
    ("5.3.1", lambda sigma, max_value=1.0: 20 * math.log10(1 / sigma), "MAX"),
    ("5.3.1", lambda sigma, max_value=1.0: 20 * math.log(max_value / sigma), "base-10"),
    ("5.3.1", lambda sigma, max_value=1.0: -20 * math.log10(max_value / sigma), "sign"),
    ("5.3.1", lambda sigma, max_value=1.0: "20 dB", "should be a number"),
    ("5.3.2", lambda D, G, real, labels, z: discriminator_loss(D, G, real, labels, z) / 2, "averaged"),
    ("5.3.2", lambda D, G, real, labels, z: (
        F.binary_cross_entropy_with_logits(D(real, labels), torch.zeros(len(real), dtype=real.dtype))
        + F.binary_cross_entropy_with_logits(D(G(z, labels).detach(), labels),
                                             torch.ones(len(real), dtype=real.dtype))), "swapped"),
    ("5.3.2", lambda D, G, real, labels, z: (
        F.binary_cross_entropy_with_logits(D(real, labels), torch.ones(len(real), dtype=real.dtype))
        + F.binary_cross_entropy_with_logits(D(G(z, labels), labels),
                                             torch.zeros(len(real), dtype=real.dtype))), "fake.detach()"),
    ("5.3.2", lambda D, G, real, labels, z: F.binary_cross_entropy_with_logits(
        D(real, labels), torch.ones(len(real), dtype=real.dtype)), "only the real term"),
    ("5.3.2", lambda D, G, real, labels, z: (
        F.binary_cross_entropy_with_logits(D(real, labels), torch.ones(len(real), dtype=real.dtype))
        + F.binary_cross_entropy_with_logits(D(G(z, labels).detach(), (labels + 1) % 10),
                                             torch.zeros(len(real), dtype=real.dtype))), "same labels"),
    ("5.3.2", lambda D, G, real, labels, z: discriminator_loss(D, G, real, labels, z).item(), "scalar torch tensor"),
    ("5.3.2", lambda D, G, real, labels, z: discriminator_loss(D, G, real, labels, z).detach(), "no gradient"),
    ("5.3.3", lambda s, r: nearest_distance(s, r) ** 2, "squared"),
    ("5.3.3", lambda s, r: torch.cdist(torch.as_tensor(s).flatten(1), torch.as_tensor(r).flatten(1)).min(0).values,
     "one per reference image"),
    ("5.3.3", lambda s, r: torch.cdist(torch.as_tensor(s).flatten(1), torch.as_tensor(r).flatten(1)).mean(1),
     "mean distance"),
    ("5.3.3", lambda s, r: torch.cdist(torch.as_tensor(s).flatten(1), torch.as_tensor(r).flatten(1)).argmin(1),
     "index"),
    ("5.3.4", lambda z0, z1, t: (1 - t) * z0 + t * z1, "straight line"),
    ("5.3.4", lambda z0, z1, t: slerp(z0, z1, 1 - t), "wrong way"),
    ("5.3.4", lambda z0, z1, t: slerp(z0, z1, t).tolist(), "tensor of shape"),
    ("5.3.4", lambda z0, z1, t: slerp(z0 / z0.norm(), z1 / z1.norm(), t), "differs from the reference"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_slerp_without_the_parallel_fallback_is_rejected():
    def no_fallback(z0, z1, t):
        omega = torch.arccos(torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1.0, 1.0))
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    result = evaluate("5.3.4", no_fallback)
    assert result.status == FAILED and "parallel" in result.message, result.message


def test_a_crashing_answer_is_reported_not_raised():
    def crashes(D, G, real, labels, z):
        return D(G(z), labels)  # forgot the labels: the generator needs them

    result = evaluate("5.3.2", crashes)
    assert result.status == FAILED and "raised" in result.message
