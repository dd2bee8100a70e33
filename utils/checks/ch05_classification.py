"""Checkers for section 5.1 (image classification)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _tensor(value, what: str, shape: tuple | None = None):
    import torch

    if not isinstance(value, torch.Tensor):
        raise Wrong(f"{what} should be a torch tensor, got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {tuple(value.shape)}")
    if not value.is_floating_point():
        raise Wrong(f"{what} should hold floating-point numbers, got dtype {value.dtype}")
    return value.detach()


def _reference_shift(X, dx: int, dy: int):
    """Move (N, C, H, W) images dx right and dy down, zeros coming in."""
    import torch

    h, w = X.shape[-2:]
    out = torch.zeros_like(X)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        X[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def _small_net(seed: int, dropout: float = 0.0):
    """A small random MnistCNN in float64 with non-trivial batch-norm statistics."""
    import torch

    from utils.vision import MnistCNN

    torch.manual_seed(seed)
    net = MnistCNN(channels=(4, 8), hidden=16, dropout=dropout).double()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
    return net.eval()


# --- 5.1 Image classification -------------------------------------------------------

@exercise("5.1.1", "precision and recall from a confusion matrix")
def _check_precision_recall(precision_recall) -> str:
    rng = np.random.default_rng(51)
    for k in (3, 10):
        C = rng.integers(0, 6, size=(k, k)) + np.diag(rng.integers(20, 60, size=k))
        C[0, 1] += 15  # make rows and columns clearly different
        out = precision_recall(C.copy())
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Wrong("precision_recall should return a tuple (precision, recall)")
        try:
            precision, recall = (np.asarray(v, dtype=np.float64) for v in out)
        except (TypeError, ValueError):
            raise Wrong("precision and recall should be arrays of numbers")
        if precision.shape != (k,) or recall.shape != (k,):
            raise Wrong(f"for a {k}x{k} matrix, precision and recall should have shape ({k},), "
                        f"got {precision.shape} and {recall.shape}")
        correct = np.diag(C).astype(float)
        p_ref, r_ref = correct / C.sum(axis=0), correct / C.sum(axis=1)
        if np.allclose(precision, r_ref) and np.allclose(recall, p_ref):
            raise Wrong("precision and recall are swapped: rows are the TRUE classes, so recall "
                        "divides by row sums (C.sum(axis=1)) and precision by column sums (axis=0)")
        if np.allclose(precision, correct) or np.allclose(recall, correct):
            raise Wrong("you returned counts (the diagonal); divide by the column sums (precision) "
                        "or the row sums (recall)")
        if np.allclose(precision, r_ref):
            raise Wrong("precision divides by the row sums: it should divide by the number of images "
                        "PREDICTED as each class, the column sums C.sum(axis=0)")
        if np.allclose(recall, p_ref):
            raise Wrong("recall divides by the column sums: it should divide by the number of images "
                        "of each TRUE class, the row sums C.sum(axis=1)")
        if not np.allclose(precision, p_ref):
            i = int(np.argmax(np.abs(precision - p_ref) - 1e-5 * np.abs(p_ref)))  # a class that fails
            raise not_close(f"precision of class {i}", precision[i], p_ref[i], rtol=1e-5, atol=1e-8,
                            named=f"C[{i}, {i}] / C[:, {i}].sum()")
        if not np.allclose(recall, r_ref):
            i = int(np.argmax(np.abs(recall - r_ref) - 1e-5 * np.abs(r_ref)))
            raise not_close(f"recall of class {i}", recall[i], r_ref[i], rtol=1e-5, atol=1e-8,
                            named=f"C[{i}, {i}] / C[{i}, :].sum()")
    return "precision (diagonal / column sums) and recall (diagonal / row sums) on two confusion matrices"


@exercise("5.1.2", "shift images by whole pixels")
def _check_shift_images(shift_images) -> str:
    import torch

    g = torch.Generator().manual_seed(52)
    X = torch.rand(3, 2, 7, 9, generator=g)
    original = X.clone()
    for dx, dy in [(2, 0), (0, 3), (-1, 0), (0, -2), (3, -1), (-2, 2), (0, 0)]:
        out = _tensor(shift_images(X, dx, dy), f"shift_images(X, {dx}, {dy})", X.shape)
        if not torch.equal(X, original):
            raise Wrong("shift_images changed its input X in place: return a new tensor")
        expected = _reference_shift(X, dx, dy)
        if torch.allclose(out, expected, atol=1e-6):
            continue
        if torch.allclose(out, torch.roll(X, shifts=(dy, dx), dims=(-2, -1)), atol=1e-6):
            raise Wrong("pixels that leave on one side come back on the other (that is torch.roll): "
                        "fill the new rows and columns with zeros instead")
        if torch.allclose(out, _reference_shift(X, -dx, -dy), atol=1e-6):
            raise Wrong(f"shift_images(X, {dx}, {dy}) moved the image the wrong way: positive dx "
                        "moves content to the RIGHT (larger column index), positive dy DOWN")
        if dx != dy and torch.allclose(out, _reference_shift(X, dy, dx), atol=1e-6):
            raise Wrong("dx and dy are swapped: dx moves along the last axis (columns, width), "
                        "dy along the second-to-last (rows, height)")
        raise Wrong(f"shift_images(X, {dx}, {dy}) does not match a shift by ({dx}, {dy}) pixels with zeros "
                    f"coming in (largest difference {(out - expected).abs().max():.3g}; the check allows "
                    f"{tolerance(1e-5, 1e-6)})")
    return "seven shifts (positive, negative, zero, both axes) on a 3x2x7x9 batch, zeros at the edges"


@exercise("5.1.3", "test-time augmentation")
def _check_tta(tta_probs) -> str:
    import torch

    net = _small_net(53, dropout=0.5)
    g = torch.Generator().manual_seed(53)
    X = torch.rand(6, 1, 28, 28, generator=g, dtype=torch.float64)
    shifts = [(0, 0), (1, 0), (-1, 0), (0, 2), (0, -1)]
    with torch.no_grad():
        logits = torch.stack([net(_reference_shift(X, dx, dy)) for dx, dy in shifts])
    expected = logits.softmax(dim=-1).mean(dim=0)
    net.train()  # a correct answer switches to evaluation mode itself
    raw = tta_probs(net, X.clone(), shifts)
    out = _tensor(raw, "tta_probs(net, X, shifts)", (6, 10))
    net.eval()
    if torch.allclose(out.double(), expected, atol=1e-6):
        if raw.requires_grad:
            raise Wrong("the result still tracks gradients: compute it under torch.no_grad()")
        return "averaged softmax probabilities over five shifts, in evaluation mode"
    sums = out.double().sum(dim=1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-5):
        if torch.allclose(out.double(), logits.mean(dim=0), atol=1e-6):
            raise Wrong("you averaged logits: apply softmax to each shifted prediction, then average")
        worst = float(sums[int((sums - 1).abs().argmax())])
        raise Wrong(f"each row should be a probability distribution summing to 1, got sums like "
                    f"{numbers(worst, 1.0)[0]} (the check allows {tolerance(1e-5, 1e-5)})")
    if torch.allclose(out.double(), logits.mean(dim=0).softmax(dim=-1), atol=1e-6):
        raise Wrong("you took the softmax of the averaged logits: average the PROBABILITIES "
                    "(softmax each shifted prediction first)")
    if torch.allclose(out.double(), logits[0].softmax(dim=-1), atol=1e-6):
        raise Wrong("the result equals the prediction for the unshifted images only: "
                    "predict every shifted copy and average")
    net.train()
    with torch.no_grad():
        again = tta_probs(net, X.clone(), shifts)
    if not torch.allclose(out.double(), again.detach().double(), atol=1e-9):
        raise Wrong("two calls give different answers: call net.eval() first (dropout and batch "
                    "norm act differently in training mode)")
    raise Wrong("the averaged probabilities do not match: shift each copy by whole pixels (dx right, "
                f"dy down, zeros coming in); largest difference {(out.double() - expected).abs().max():.3g} "
                f"(the check allows {tolerance(1e-5, 1e-6)})")


def _reference_ig(net, x, target: int, steps: int, alphas=None):
    import torch

    if alphas is None:
        alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    path = (alphas.view(-1, 1, 1, 1) * x.unsqueeze(0)).requires_grad_(True)
    net(path)[:, target].sum().backward()
    return x * path.grad.mean(dim=0)


@exercise("5.1.4", "integrated gradients")
def _check_integrated_gradients(integrated_gradients) -> str:
    import torch

    net = _small_net(54)
    g = torch.Generator().manual_seed(54)
    x = torch.rand(1, 28, 28, generator=g, dtype=torch.float64)
    for target, steps in ((3, 16), (7, 32)):
        out = _tensor(integrated_gradients(net, x.clone(), target, steps=steps),
                      f"integrated_gradients(net, x, {target}, steps={steps})", (1, 28, 28)).double()
        expected = _reference_ig(net, x, target, steps)
        if torch.allclose(out, expected, atol=1e-8, rtol=1e-5):
            continue
        if torch.allclose(out, expected / x.clamp_min(1e-12), atol=1e-8, rtol=1e-4):
            raise Wrong("you returned the averaged gradient: multiply it element-wise by x "
                        "(x minus the black baseline)")
        left = torch.arange(steps, dtype=x.dtype) / steps
        right = torch.arange(1, steps + 1, dtype=x.dtype) / steps
        for alphas, name in ((left, "k / m"), (right, "(k + 1) / m")):
            if torch.allclose(out, _reference_ig(net, x, target, steps, alphas), atol=1e-8, rtol=1e-5):
                raise Wrong(f"you used the points {name} along the path: use the midpoints (k + 1/2) / m")
        xg = x.clone().requires_grad_(True)
        net(xg.unsqueeze(0))[0, target].backward()
        if torch.allclose(out, x * xg.grad, atol=1e-8, rtol=1e-5) or torch.allclose(out, xg.grad, atol=1e-8):
            raise Wrong("you used the gradient at x only: average the gradients at the m points "
                        "(k + 1/2) / m · x along the path from black to x")
        with torch.no_grad():
            gap = (net(x.unsqueeze(0))[0, target] - net(torch.zeros_like(x).unsqueeze(0))[0, target]).item()
        yours, midpoint = numbers(out.sum().item(), expected.sum().item())
        raise Wrong(f"the attributions for class {target} with steps={steps} do not match (they differ by up "
                    f"to {(out - expected).abs().max():.3g}; the check allows {tolerance(1e-5, 1e-8)}): they "
                    f"sum to {yours}, while s_c(x) - s_c(0) = {gap:.4f} (the logit, not the probability) "
                    f"and the exact midpoint sum gives {midpoint}")
    with torch.no_grad():
        gap = (net(x.unsqueeze(0))[0, 7] - net(torch.zeros_like(x).unsqueeze(0))[0, 7]).item()
    return (f"matches the midpoint rule for two classes and step counts; the attributions sum to "
            f"{out.sum():.3f} vs s_c(x) - s_c(0) = {gap:.3f} (completeness)")
