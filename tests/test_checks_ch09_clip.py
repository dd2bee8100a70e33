"""Each checker of section 9.5 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from checker_contract import contract_tests

from utils.checks import NOT_ATTEMPTED, evaluate


def recall_at_k(sim, k):
    own = sim.diagonal().unsqueeze(1)
    return ((sim > own).sum(1) < k).float().mean().item()


def symmetric_info_nce(image_emb, text_emb, log_scale):
    logits = log_scale.exp() * F.normalize(image_emb, dim=1) @ F.normalize(text_emb, dim=1).T
    target = torch.arange(len(logits))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def _moments(image, centred=True):
    x = np.asarray(image, dtype=np.float64)
    rows, cols = np.mgrid[0:x.shape[0], 0:x.shape[1]]
    m = x.sum()
    my, mx = ((x * rows).sum() / m, (x * cols).sum() / m) if centred else (0.0, 0.0)
    dx, dy = cols - mx, rows - my
    return (x * dx * dy).sum() / m, (x * dy * dy).sum() / m, (x * dx * dx).sum() / m


def slant(image):
    mu11, mu02, _ = _moments(image)
    return -mu11 / mu02


def ensemble_classes(prompt_emb):
    return F.normalize(F.normalize(prompt_emb, dim=2).mean(1), dim=1)


REFERENCE = {"9.5.1": recall_at_k, "9.5.2": symmetric_info_nce, "9.5.3": slant, "9.5.4": ensemble_classes}


def _ce_both(logits, reduction="mean"):
    target = torch.arange(len(logits))
    return F.cross_entropy(logits, target, reduction=reduction), F.cross_entropy(logits.T, target, reduction=reduction)


def _cos(a, b):
    return F.normalize(a, dim=1) @ F.normalize(b, dim=1).T


WRONG = [
    ("9.5.1", lambda sim, k: recall_at_k(sim.T, k), "column"),
    ("9.5.1", lambda sim, k: recall_at_k(sim, k + 1), "k + 1"),
    ("9.5.1", lambda sim, k: recall_at_k(sim, k - 1) if k > 1 else recall_at_k(sim, k), "k - 1"),
    ("9.5.1", lambda sim, k: recall_at_k(sim, 1), "ignored k"),
    ("9.5.1", lambda sim, k: recall_at_k(sim, k) * len(sim), "count"),
    ("9.5.1", lambda sim, k: 0.5, "should be"),
    ("9.5.1", lambda sim, k: "all", "should be a number"),
    ("9.5.2", lambda i, t, s: _ce_both(s.exp() * _cos(i, t))[0], "only the image->text"),
    ("9.5.2", lambda i, t, s: _ce_both(s.exp() * _cos(i, t))[1], "only the text->image"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(s.exp() * _cos(i, t))), "added the two"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(s.exp() * i @ t.T)) / 2, "normalise"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(_cos(i, t) / s.exp())) / 2, "divided by exp"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(s * _cos(i, t))) / 2, "log_scale itself"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(s.exp() * _cos(i, t), "sum")) / 2, "summed over the batch"),
    ("9.5.2", lambda i, t, s: symmetric_info_nce(i, t, s).item(), "scalar torch tensor"),
    ("9.5.2", lambda i, t, s: symmetric_info_nce(i, t, s.detach()), "no gradient"),
    ("9.5.2", lambda i, t, s: sum(_ce_both(s.exp() * _cos(i, t), "none")) / 2, "shape"),
    ("9.5.2", lambda i, t, s: symmetric_info_nce(i, t, s) + 0.01, "should be"),
    ("9.5.2", lambda i, t, s: symmetric_info_nce(i, t, s.detach()) + (s - s.detach()), "gradient with respect"),
    ("9.5.3", lambda img: -slant(img), "sign"),
    ("9.5.3", lambda img: -_moments(img)[0] / _moments(img)[2], "mu20"),
    ("9.5.3", lambda img: -_moments(img, centred=False)[0] / _moments(img, centred=False)[1], "centre"),
    ("9.5.3", lambda img: slant(np.asarray(img) > 0.5), "binarised"),
    ("9.5.3", lambda img: slant(img) + 1e-3, "should be"),
    ("9.5.3", lambda img: None, "should be a number"),
    ("9.5.4", lambda e: F.normalize(e.mean(1), dim=1), "normalise each prompt"),
    ("9.5.4", lambda e: F.normalize(e, dim=2).mean(1), "normalise the mean again"),
    ("9.5.4", lambda e: F.normalize(F.normalize(e, dim=2).mean(0), dim=1), "shape"),
    ("9.5.4", lambda e: F.normalize(e[:, 0], dim=1), "differs"),
]

(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_an_ellipsis_is_not_attempted(id):
    assert evaluate(id, ...).status == NOT_ATTEMPTED


def test_library_versions_pass_too():
    from utils import clip

    assert evaluate("9.5.1", clip.recall_at_k).passed
    assert evaluate("9.5.2", lambda i, t, s: clip.clip_loss(i, t, s)[0]).passed
    assert evaluate("9.5.3", lambda img: clip.measure_properties(img)["slant"][0]).passed
