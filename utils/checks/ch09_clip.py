"""Checkers for section 9.5 (a small CLIP: recall@k, symmetric InfoNCE, slant, prompt ensembling)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from utils.checks import Wrong, exercise, not_close, number, numbers


def _recall(sim, k):
    own = sim.diagonal().unsqueeze(1)
    return ((sim > own).sum(1) < k).double().mean().item()


def _recall_cases():
    g = torch.Generator().manual_seed(951)
    cases = []
    for n, k, boost in [(8, 1, 1.0), (8, 3, 0.5), (12, 2, 0.8), (10, 5, 0.3), (9, 4, 0.0)]:
        sim = torch.rand(n, n, generator=g, dtype=torch.float64) + boost * torch.eye(n, dtype=torch.float64)
        sim[0] += 0.7 * (torch.arange(n) == n - 1)  # row and column rankings differ
        cases.append((sim, k))
    return cases


@exercise("9.5.1", "recall@k of a similarity matrix")
def _check_recall_at_k(recall_at_k) -> str:
    for sim, k in _recall_cases():
        n = len(sim)
        what = f"recall_at_k(<{n}x{n} similarities>, k={k})"
        got = recall_at_k(sim.clone(), k)
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        got = number(got, what)
        expected = _recall(sim, k)
        if abs(got - expected) <= 1e-6:  # fractions of n rows differ by at least 1/n
            continue
        if abs(got - expected * n) <= 1e-9 and n * expected != expected:
            raise Wrong(f"{what} = {got:g}: that is a count of rows; return the fraction (divide by {n})")
        for wrong, reason in ((_recall(sim.T, k), "ranked each column instead of each row: row i is query i"),
                              (_recall(sim, k + 1), "counted the top k + 1 (is your rank 1-based and compared "
                                                    "with <=?)"),
                              (_recall(sim, k - 1) if k > 1 else -1.0, "counted only the top k - 1"),
                              (_recall(sim, 1), "ignored k: only the single most similar item counted")):
            if abs(got - wrong) <= 1e-6:
                raise Wrong(f"{what}: you {reason}")
        raise not_close(what, got, expected, atol=1e-6)
    return "5 random similarity matrices, k from 1 to 5, within 1e-6 (float32 means are fine)"


def _reference_loss(img, txt, log_scale):
    from utils.clip import clip_loss

    return clip_loss(img, txt, log_scale)[0]


@exercise("9.5.2", "the symmetric InfoNCE loss")
def _check_info_nce(symmetric_info_nce) -> str:
    g = torch.Generator().manual_seed(952)
    for n, d, t in [(5, 3, np.log(1 / 0.07)), (8, 4, 0.0), (4, 6, 2.0)]:
        img = 3 * torch.randn(n, d, generator=g, dtype=torch.float64)
        txt = 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64)
        img[1] += txt[1]  # a few pairs that agree, so the loss is not symmetric by accident
        log_scale = torch.tensor(t, dtype=torch.float64, requires_grad=True)
        what = f"symmetric_info_nce(n={n}, d={d}, log_scale={t:.3f})"
        got = symmetric_info_nce(img.clone(), txt.clone(), log_scale)
        if not isinstance(got, torch.Tensor):
            raise Wrong(f"{what} should return a scalar torch tensor (so that it can be trained), "
                        f"got {type(got).__name__}")
        if got.numel() != 1:
            raise Wrong(f"{what} has shape {tuple(got.shape)}; the loss is one number: the mean over the batch "
                        "and over the two directions")
        expected = _reference_loss(img, txt, log_scale)
        value = got.detach().double().item()
        if abs(value - expected.item()) > 1e-10:
            logits = log_scale.exp() * F.normalize(img, dim=1) @ F.normalize(txt, dim=1).T
            target = torch.arange(n)
            raw = log_scale.exp() * img @ txt.T
            i2t, t2i = F.cross_entropy(logits, target), F.cross_entropy(logits.T, target)
            candidates = [
                (i2t, "computed only the image->text direction (rows); add text->image (columns) and average"),
                (t2i, "computed only the text->image direction (columns); add image->text (rows) and average"),
                (i2t + t2i, "added the two directions; the loss is their mean"),
                ((F.cross_entropy(raw, target) + F.cross_entropy(raw.T, target)) / 2,
                 "did not normalise the embeddings; the similarity is the cosine"),
                ((F.cross_entropy(logits / log_scale.exp() ** 2, target)
                  + F.cross_entropy(logits.T / log_scale.exp() ** 2, target)) / 2,
                 "divided by exp(log_scale); exp(log_scale) is 1 / temperature, so multiply"),
                ((F.cross_entropy(logits / log_scale.exp() * log_scale, target)
                  + F.cross_entropy(logits.T / log_scale.exp() * log_scale, target)) / 2,
                 "scaled by log_scale itself; the scale is exp(log_scale)"),
                ((F.cross_entropy(logits, target, reduction="sum")
                  + F.cross_entropy(logits.T, target, reduction="sum")) / 2,
                 "summed over the batch; take the mean over the n pairs"),
            ]
            for wrong, reason in candidates:
                if abs(value - wrong.item()) <= 1e-9:
                    raise Wrong(f"{what} = {value:.10g}: you {reason}")
            raise not_close(what, value, expected.item(), atol=1e-10)
        if not got.requires_grad:
            raise Wrong(f"{what} has the right value but no gradient: keep it a tensor (no .item(), no numpy), "
                        "so that the temperature and the encoders can learn from it")
        grad, = torch.autograd.grad(got, log_scale)
        ref_grad, = torch.autograd.grad(expected, log_scale)
        if abs(grad.item() - ref_grad.item()) > 1e-8:
            got_text, exp_text = numbers(grad.item(), ref_grad.item())
            raise Wrong(f"{what}: the gradient with respect to log_scale is {got_text}, it should be {exp_text} "
                        "(the check allows an absolute difference of 1e-08)")
    return "3 random batches in float64: value within 1e-10 and the gradient with respect to log_scale"


def _slant(image):
    x = np.asarray(image, dtype=np.float64)
    rows, cols = np.mgrid[0:x.shape[0], 0:x.shape[1]]
    m = x.sum()
    my, mx = (x * rows).sum() / m, (x * cols).sum() / m
    mu11 = (x * (cols - mx) * (rows - my)).sum() / m
    mu02 = (x * (rows - my) ** 2).sum() / m
    return -mu11 / mu02


def _slant_images():
    rng = np.random.default_rng(953)
    images = []
    rows, cols = np.mgrid[0:28, 0:28]
    for shear, thick in [(0.35, 1.5), (-0.2, 2.0), (0.0, 1.2), (0.6, 2.5)]:
        # a vertical bar leaning by `shear` pixels per row going up, plus a blob off centre
        centre = 14 + shear * (14 - rows)
        img = np.exp(-((cols - centre) / thick) ** 2) * ((rows > 4) & (rows < 24))
        img += 0.6 * np.exp(-((cols - 20) ** 2 + (rows - 8) ** 2) / 6.0)
        images.append(np.clip(img, 0, 1))
    images.append(rng.random((28, 28)) ** 6)
    return images


@exercise("9.5.3", "slant from image moments")
def _check_slant(slant) -> str:
    for i, img in enumerate(_slant_images()):
        what = f"slant(test image {i + 1})"
        got = number(slant(img.copy()), what)
        expected = _slant(img)
        if abs(got - expected) <= 1e-9 * max(1.0, abs(expected)):
            continue
        x = img
        rows, cols = np.mgrid[0:28, 0:28]
        m = x.sum()
        my, mx = (x * rows).sum() / m, (x * cols).sum() / m
        mu11 = (x * (cols - mx) * (rows - my)).sum() / m
        mu20 = (x * (cols - mx) ** 2).sum() / m
        raw11, raw02 = (x * cols * rows).sum() / m, (x * rows ** 2).sum() / m
        on = (x > 0.5).astype(float)
        candidates = [
            (-expected, "have the sign flipped: with y the row index (growing downwards), a digit whose top leans "
                        "right has mu11 < 0, so the slant is -mu11 / mu02"),
            (-mu11 / mu20, "divided by mu20; divide by mu02, the spread of the rows (the shear is x per row)"),
            (-raw11 / raw02, "used moments about the corner (0, 0); measure x and y from the ink's centre"),
            (-raw11 / mu20 if mu20 else np.nan, "used moments about the corner; measure from the ink's centre"),
            (_slant(on) if on.sum() else np.nan, "binarised the image; weight the moments by the intensities"),
        ]
        for wrong, reason in candidates:
            if np.isfinite(wrong) and abs(got - wrong) <= 1e-9 * max(1.0, abs(wrong)):
                raise Wrong(f"{what} = {got:.6g}: you {reason}")
        raise not_close(what, got, expected, rtol=1e-9, atol=1e-9)
    return "5 images (bars leaning left, right and not at all, and noise), within 1e-9"


@exercise("9.5.4", "prompt ensembling")
def _check_ensemble(ensemble_classes) -> str:
    g = torch.Generator().manual_seed(954)
    for c, p, d in [(3, 4, 5), (10, 2, 8), (4, 1, 3)]:
        emb = torch.randn(c, p, d, generator=g, dtype=torch.float64)
        emb = emb * torch.linspace(0.2, 5.0, p, dtype=torch.float64).view(1, p, 1)  # prompts of unequal length
        what = f"ensemble_classes(<{c} classes x {p} prompts x {d}>)"
        got = ensemble_classes(emb.clone())
        got = torch.as_tensor(got, dtype=torch.float64)
        expected = F.normalize(F.normalize(emb, dim=2).mean(1), dim=1)
        if tuple(got.shape) != (c, d):
            raise Wrong(f"{what} has shape {tuple(got.shape)}, expected ({c}, {d}): average over the prompts "
                        "(dimension 1), one embedding per class")
        err = (got - expected).abs().max().item()
        if err <= 1e-10:
            continue
        norms = got.norm(dim=1)
        if p > 1 and torch.allclose(got, F.normalize(emb.mean(1), dim=1), atol=1e-10):
            raise Wrong(f"{what}: you averaged the raw embeddings; normalise each prompt embedding first, or the "
                        "longest prompt vectors dominate the mean")
        if torch.allclose(got, F.normalize(emb, dim=2).mean(1), atol=1e-10) and p > 1:
            raise Wrong(f"{what}: the class embeddings have norms {numbers(*norms[:2].tolist())}, not 1: "
                        "normalise the mean again (cosine similarity needs unit vectors)")
        raise Wrong(f"{what} differs from the reference by up to {err:.3e} (the check allows an absolute "
                    "difference of 1e-10)")
    return "3 random cases in float64 with prompts of unequal norms, within 1e-10"
