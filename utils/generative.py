"""Measuring generated and restored images (chapter 5.3).

- :func:`psnr`: peak signal-to-noise ratio of a restoration against the original, in dB.
- :func:`random_masks`: random holes for inpainting (a square box, or scattered pixels).
- :func:`class_accuracy_and_coverage`: does a classifier recognise each sample as the
  class it was meant to be, and how many classes does a generator really draw?
- :func:`diversity`: mean pairwise distance within a set of images, in pixel space or in
  a feature space such as a classifier's penultimate layer (:func:`penultimate_features`).
- :func:`frechet_distance`: the Fréchet distance between two sets of feature vectors, each
  summarised by a Gaussian (mean and covariance): FID's formula, in any feature space.

    X_hat = restore(damaged)
    psnr(X_hat, X)                                      # one number for the whole set, dB
    masks = random_masks(100, 28, rng, kind="box", coverage=0.13, margin=4)
    report = class_accuracy_and_coverage(judge, samples, labels)
    report.accuracy, report.per_class, report.coverage
    diversity(samples[labels == 3])                     # pixel space
    diversity(samples[labels == 3], features=lambda x: penultimate_features(judge, x))

Functions accept NumPy arrays or torch tensors (tensors are detached and moved to the
CPU); distances and PSNR are computed in float64.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np

MASK_KINDS = ("box", "pixels")


def _as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 NumPy array; torch tensors are detached and copied to the CPU."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    if value is None or isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name} must be an array of numbers (NumPy or torch), got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers (NumPy or torch), got {type(value).__name__}") from err
    return arr


def _check_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} ({value!r})")
    return float(value)


# --- PSNR --------------------------------------------------------------------------

def psnr(a, b, max_value: float = 1.0) -> float:
    """Peak signal-to-noise ratio between ``a`` and ``b`` in decibels (dB).

    ``PSNR = 10 log10(max_value**2 / MSE)``, where MSE is the mean squared difference
    over *all* elements of the two arrays (so for a batch of images it is the PSNR of
    the whole set, not a mean of per-image values; a per-image PSNR is infinite for an
    image the damage did not touch). ``max_value`` is the largest possible pixel
    value: 1.0 for images in [0, 1], 255 for 8-bit images. Identical inputs give
    ``inf``. Higher is better; each +10 dB divides the MSE by 10.
    """
    x = _as_float_array(a, "a")
    y = _as_float_array(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"psnr compares two arrays of the same shape, got {x.shape} and {y.shape}")
    if x.size == 0:
        raise ValueError("psnr got empty arrays: nothing to compare")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ValueError("psnr got NaN or infinite values: check the restoration for a diverged network")
    max_value = _check_number(max_value, "max_value")
    if not (math.isfinite(max_value) and max_value > 0):
        raise ValueError(f"max_value is the largest possible pixel value and must be positive, got {max_value}")
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(max_value**2 / mse)


# --- masks for inpainting -------------------------------------------------------

def random_masks(n: int, size: int, rng: np.random.Generator, kind: str = "box",
                 coverage: float = 0.15, margin: int = 0) -> np.ndarray:
    """Random inpainting masks: a boolean array ``(n, size, size)``, **True = missing**.

    ``kind="box"``: one square hole per image, of side ``round(size * sqrt(coverage))``
    (at least 1 pixel), placed uniformly at random with at least ``margin`` pixels
    between the hole and the image border (MNIST digits sit in the central 20x20
    pixels, so ``margin=4`` makes most holes cut through the digit).
    ``kind="pixels"``: every pixel is missing independently with probability ``coverage``.
    ``rng`` (a ``numpy.random.Generator``) makes the masks reproducible.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (the number of masks) must be a positive integer, got {n!r}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size (the image side in pixels) must be a positive integer, got {size!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (e.g. rng = seed_everything(0)), "
                        f"got {type(rng).__name__}")
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    coverage = _check_number(coverage, "coverage")
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage is the share of missing pixels and must lie in (0, 1], got {coverage}")
    if isinstance(margin, bool) or not isinstance(margin, (int, np.integer)) or margin < 0:
        raise ValueError(f"margin must be a non-negative integer (pixels), got {margin!r}")
    n, size, margin = int(n), int(size), int(margin)
    if kind == "pixels":
        return rng.random((n, size, size)) < coverage
    side = max(1, round(size * math.sqrt(coverage)))
    room = size - 2 * margin - side  # the last allowed top-left corner, counted from the margin
    if room < 0:
        raise ValueError(f"a box of side {side} (coverage {coverage}) does not fit in a {size}x{size} "
                         f"image with margin {margin}: lower the coverage or the margin")
    top = margin + rng.integers(0, room + 1, size=n)
    left = margin + rng.integers(0, room + 1, size=n)
    rows = np.arange(size)
    inside_r = (rows[None, :] >= top[:, None]) & (rows[None, :] < top[:, None] + side)  # (n, size)
    inside_c = (rows[None, :] >= left[:, None]) & (rows[None, :] < left[:, None] + side)
    return inside_r[:, :, None] & inside_c[:, None, :]


# --- judging samples with a classifier ------------------------------------------

class ClassReport(NamedTuple):
    """Result of :func:`class_accuracy_and_coverage`.

    ``accuracy``: share of samples recognised as their intended class.
    ``per_class[k]``: that share among the samples meant to be class ``k`` (NaN when
    there were none). ``coverage``: number of classes whose samples are recognised at
    least ``min_accuracy`` of the time (a generator that "covers" a class can draw it
    recognisably). ``predicted_counts[k]``: how many samples the classifier put in class
    ``k``, whatever they were meant to be (the histogram an unconditional GAN is judged by).
    """

    accuracy: float
    per_class: np.ndarray
    coverage: int
    predicted_counts: np.ndarray


def _predict(classifier, samples, batch_size: int = 500) -> np.ndarray:
    """Arg-max class of ``classifier`` on ``samples``, in eval mode without gradients."""
    import torch

    if not callable(classifier):
        raise TypeError(f"classifier must be a torch module (images -> logits), got {type(classifier).__name__}")
    X = samples if isinstance(samples, torch.Tensor) else torch.as_tensor(_as_float_array(samples, "samples"))
    if X.ndim != 4:
        raise ValueError(f"samples must be a batch of images (N, C, H, W), got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError("samples is empty: nothing to classify")
    was_training = getattr(classifier, "training", False)
    if hasattr(classifier, "eval"):
        classifier.eval()
    try:
        params = list(classifier.parameters()) if hasattr(classifier, "parameters") else []
        device, dtype = (params[0].device, params[0].dtype) if params else (X.device, torch.float32)
        out = []
        with torch.no_grad():
            for start in range(0, X.shape[0], batch_size):
                logits = classifier(X[start:start + batch_size].to(device=device, dtype=dtype))
                if logits.ndim != 2:
                    raise ValueError(f"classifier must return logits of shape (batch, classes), "
                                     f"got {tuple(logits.shape)}")
                out.append(logits.argmax(dim=1).cpu())
    finally:
        if was_training:
            classifier.train()
    return torch.cat(out).numpy()


def class_accuracy_and_coverage(classifier, samples, intended_labels, num_classes: int = 10,
                                min_accuracy: float = 0.5) -> ClassReport:
    """How often ``classifier`` recognises each sample as the class it was meant to be.

    ``samples``: images ``(N, C, H, W)`` (tensor or array) in the classifier's input
    format; ``intended_labels``: ``(N,)`` ints, the class each sample was generated for.
    The classifier is run in eval mode without gradients (and put back in training mode
    if it was in it). Returns a :class:`ClassReport`. Only the predicted class counts,
    never the confidence: a classifier can be 99.9% sure about pure noise.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    min_accuracy = _check_number(min_accuracy, "min_accuracy")
    if not 0 < min_accuracy <= 1:
        raise ValueError(f"min_accuracy must lie in (0, 1], got {min_accuracy}")
    labels = _as_float_array(intended_labels, "intended_labels")
    if labels.ndim != 1:
        raise ValueError(f"intended_labels must be one label per sample, shape (N,), got {labels.shape}")
    integral = np.all(labels == np.round(labels))
    if not (integral and labels.min(initial=0) >= 0 and labels.max(initial=0) < num_classes):
        raise ValueError(f"intended_labels must be integers in [0, {num_classes}), got values from "
                         f"{labels.min(initial=0):g} to {labels.max(initial=0):g}")
    labels = labels.astype(np.int64)
    n = samples.shape[0] if hasattr(samples, "shape") else len(samples)
    if n != len(labels):
        raise ValueError(f"{n} samples but {len(labels)} intended labels: one label per sample")
    predicted = _predict(classifier, samples)
    if predicted.max(initial=0) >= num_classes:
        raise ValueError(f"the classifier predicts class {predicted.max()}, but num_classes is {num_classes}")
    hit = predicted == labels
    per_class = np.array([hit[labels == k].mean() if np.any(labels == k) else np.nan
                          for k in range(num_classes)])
    coverage = int(np.sum(np.nan_to_num(per_class, nan=0.0) >= min_accuracy))
    counts = np.bincount(predicted, minlength=num_classes)
    return ClassReport(float(hit.mean()), per_class, coverage, counts)


# --- diversity -----------------------------------------------------------------------

def penultimate_features(net, images, batch_size: int = 500):
    """The activations of ``net`` just before its last linear layer (a float tensor (N, F)).

    For the course's :class:`utils.vision.MnistCNN` (and any module with a ``features``
    block and a ``classifier`` ``nn.Sequential`` whose last layer maps to the logits):
    ``classifier[:-1](features(x))``. Computed in eval mode without gradients. Distances
    between these vectors measure how differently the classifier "sees" two images:
    a better yardstick for variety than raw pixels, where a one-pixel shift looks big.
    """
    import torch

    if not (hasattr(net, "features") and isinstance(getattr(net, "classifier", None), torch.nn.Sequential)):
        raise TypeError("penultimate_features needs a network with a `features` block and a `classifier` "
                        f"nn.Sequential (like utils.vision.MnistCNN), got {type(net).__name__}")
    X = images if isinstance(images, torch.Tensor) else torch.as_tensor(_as_float_array(images, "images"))
    if X.ndim != 4 or X.shape[0] == 0:
        raise ValueError(f"images must be a non-empty batch (N, C, H, W), got shape {tuple(X.shape)}")
    was_training = net.training
    net.eval()
    param = next(net.parameters())
    try:
        with torch.no_grad():
            out = [net.classifier[:-1](net.features(X[i:i + batch_size].to(param.device, param.dtype))).cpu()
                   for i in range(0, X.shape[0], batch_size)]
    finally:
        net.train(was_training)
    return torch.cat(out)


def diversity(images, features: Callable | None = None) -> float:
    """Mean Euclidean distance between all pairs of images (or of their features).

    ``diversity = 2 / (n (n - 1)) * sum_{i < j} || f(x_i) - f(x_j) ||_2`` over the
    ``n >= 2`` images, where ``f`` is ``features`` (a function from the batch to an
    ``(n, d)`` array or tensor, e.g. ``lambda x: penultimate_features(judge, x)``) or,
    when ``features`` is None, the flattened pixels. It is 0 when all images are
    identical (a generator that draws one prototype) and grows with their spread.
    Compare it with the same number for real images of the same class: the ratio
    says how much of the real variety a generator keeps.
    """
    if features is not None:
        if not callable(features):
            raise TypeError(f"features must be a function (images -> feature vectors) or None, "
                            f"got {type(features).__name__}")
        n_in = images.shape[0] if hasattr(images, "shape") else len(images)
        F = _as_float_array(features(images), "features(images)")
        if F.ndim != 2 or F.shape[0] != n_in:
            raise ValueError(f"features(images) must return one row per image, shape ({n_in}, d); "
                             f"got {F.shape}")
    else:
        X = _as_float_array(images, "images")
        if X.ndim < 2:
            raise ValueError(f"images must be a batch with one image per row (n, ...), got shape {X.shape}")
        F = X.reshape(X.shape[0], -1)
    n = F.shape[0]
    if n < 2:
        raise ValueError(f"diversity needs at least 2 images to compare, got {n}")
    if not np.isfinite(F).all():
        raise ValueError("images (or their features) contain NaN or infinity")
    # ||a - b||^2 = a.a + b.b - 2 a.b for all pairs at once; exact zeros for equal rows
    sq = (F**2).sum(axis=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (F @ F.T)
    upper = np.triu_indices(n, k=1)
    d2 = np.maximum(d2[upper], 0.0)
    scale = max(float(sq.max()), 1e-300)
    d2[d2 <= 1e-12 * scale] = 0.0  # round-off of the identity above, not a real distance
    return float(np.sqrt(d2).mean())


# --- Fréchet distance -----------------------------------------------------------------

def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors (n, d).

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` with the sample means ``mu``
    and covariances ``S`` (``np.cov``, divisor n - 1) of the rows, and the matrix square
    root from ``scipy.linalg.sqrtm`` (its tiny imaginary round-off dropped). This is the
    formula of the Fréchet Inception Distance (FID, Heusel et al. 2017); FID proper uses
    Inception-v3 features, here any features can be used, e.g. :func:`penultimate_features`.
    0 for identical sets; for two sets that differ by a shift ``m`` of every row, ``|m|^2``.
    """
    from scipy import linalg

    A, B = _as_float_array(a, "a"), _as_float_array(b, "b")
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[1]:
        raise ValueError(f"a and b must be (n, d) arrays with the same d, got shapes {A.shape} and {B.shape}")
    if min(len(A), len(B)) < 2:
        raise ValueError("each set needs at least 2 rows to estimate a covariance")
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("the features contain NaN or infinity")
    mu_a, mu_b = A.mean(axis=0), B.mean(axis=0)
    S_a, S_b = np.atleast_2d(np.cov(A, rowvar=False)), np.atleast_2d(np.cov(B, rowvar=False))
    import warnings

    with warnings.catch_warnings():  # singular covariances (e.g. ReLU units that never fire) are fine here
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = np.real(linalg.sqrtm(S_a @ S_b))
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(S_a) + np.trace(S_b) - 2.0 * np.trace(root))
    return max(value, 0.0)
