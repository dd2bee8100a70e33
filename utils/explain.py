"""Attribution maps and the tests that tell a faithful one from a pretty one (section 9.11).

    from utils import explain
    grad, target = explain.saliency(net, X)                       # d score / d input
    ig = explain.integrated_gradients(net, X, target, steps=32)   # Sundararajan et al. 2017
    occ = explain.occlusion(net, X, target, size=4, stride=2)     # Zeiler and Fergus 2014
    rho = explain.rank_correlation(abs_map_a, abs_map_b)          # per image (Spearman)
    probs, fractions = explain.deletion_curves(net, X, target, ig)  # Petsiuk et al. 2018

Every function takes a batch ``X`` of shape ``(N, ...)`` on the model's device, a model in
evaluation mode, and ``target``: an int (the same class for every image) or one class per
image. Scores are the logits (before the softmax), as in section 5.1.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F

#: Quadrature rules for the path integral of integrated gradients (see :func:`path_weights`).
METHODS = ("left", "right", "middle", "trapezoid", "captum_trapezoid", "gausslegendre")


def _check_batch(X, what: str = "X") -> None:
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor of shape (N, ...), got {type(X).__name__}")
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"{what} must be a non-empty batch of shape (N, ...), got shape {tuple(X.shape)}")
    if not X.is_floating_point():
        raise TypeError(f"{what} must hold floating-point values, got dtype {X.dtype}")


def _targets(target, n: int, device) -> torch.Tensor:
    """``target`` as a LongTensor of shape (n,) on ``device``."""
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        return torch.full((n,), int(target), dtype=torch.long, device=device)
    t = torch.as_tensor(target, device=device)
    if t.ndim == 0:
        t = t.expand(n)
    if t.shape != (n,) or t.is_floating_point() or t.dtype == torch.bool:
        raise ValueError(f"target must be an int or {n} integer class indices, got {tuple(t.shape)} of {t.dtype}")
    return t.long()


def _score(net, Z, t):
    return net(Z).gather(1, t.view(-1, 1)).squeeze(1)


def saliency(net, X, target=None):
    """Gradient of the target's logit with respect to each input (Simonyan et al. 2014).

    Returns ``(grad, target)``: ``grad`` has the shape of ``X``; ``target`` defaults to the
    predicted class. The images of a batch do not interact in evaluation mode, so one
    backward pass gives every image its own gradient.
    """
    _check_batch(X)
    Z = X.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        scores = net(Z)
        t = scores.argmax(dim=1) if target is None else _targets(target, len(X), X.device)
        grad, = torch.autograd.grad(scores.gather(1, t.view(-1, 1)).sum(), Z)
    return grad.detach(), t


def path_weights(method: str, steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``alphas`` in [0, 1] and weights of a quadrature rule for the integral over [0, 1].

    ``"left"``, ``"right"``, ``"middle"``: ``steps`` points k/m, (k+1)/m, (k+1/2)/m, each of
    weight 1/m. ``"trapezoid"``: the textbook rule, ``steps + 1`` points k/m with weights 1/m,
    halved at both ends (they sum to 1). ``"captum_trapezoid"``: what captum 0.9 calls
    ``riemann_trapezoid``: ``steps`` points ``linspace(0, 1, m)`` (spacing 1/(m-1)) with
    weights 1/m halved at both ends, which sum to 1 - 1/m, not 1. ``"gausslegendre"``:
    Gauss-Legendre nodes and weights mapped to [0, 1] (captum's default). Float64, on the CPU.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"steps must be an int >= 2, got {steps!r}")
    m = int(steps)
    k = torch.arange(m, dtype=torch.float64)
    w = torch.full((m,), 1.0 / m, dtype=torch.float64)
    if method == "left":
        return k / m, w
    if method == "right":
        return (k + 1) / m, w
    if method == "middle":
        return (k + 0.5) / m, w
    if method == "trapezoid":
        w = torch.full((m + 1,), 1.0 / m, dtype=torch.float64)
        w[0] = w[-1] = 0.5 / m
        return torch.arange(m + 1, dtype=torch.float64) / m, w
    if method == "captum_trapezoid":
        w[0] = w[-1] = 0.5 / m
        return torch.linspace(0, 1, m, dtype=torch.float64), w
    nodes, weights = np.polynomial.legendre.leggauss(m)
    return torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)


def integrated_gradients(net, X, target, baseline=None, steps: int = 32, method: str = "middle",
                         max_batch: int = 1024):
    """Integrated gradients (Sundararajan, Taly and Yan, ICML 2017), written as a quadrature sum:

    ``IG(x) = (x - x') * sum_k w_k * grad s_c(x' + alpha_k (x - x'))``

    with the points and weights of :func:`path_weights`. ``baseline`` ``x'`` defaults to
    zeros (a black image); it may be one input (broadcast) or one per image. The path
    points of all images go through the network in batches of at most ``max_batch``.
    """
    _check_batch(X)
    X = X.detach()
    t = _targets(target, len(X), X.device)
    B = torch.zeros_like(X) if baseline is None else torch.as_tensor(baseline, dtype=X.dtype,
                                                                     device=X.device).expand_as(X)
    alphas, weights = path_weights(method, steps)
    alphas, weights = alphas.to(X.device, X.dtype), weights.to(X.device, X.dtype)
    n, ones = len(X), (1,) * X.ndim
    per_chunk = max(1, int(max_batch) // n)
    total = torch.zeros_like(X)
    with torch.enable_grad():
        for start in range(0, len(alphas), per_chunk):
            a, w = alphas[start:start + per_chunk], weights[start:start + per_chunk]
            Z = (B.unsqueeze(0) + a.view(-1, *ones) * (X - B).unsqueeze(0)).reshape(-1, *X.shape[1:])
            Z.requires_grad_(True)
            grad, = torch.autograd.grad(_score(net, Z, t.repeat(len(a))).sum(), Z)
            total += (w.view(-1, *ones) * grad.view(len(a), *X.shape)).sum(0)
    return (X - B) * total


def completeness_gap(net, X, target, attributions, baseline=None) -> torch.Tensor:
    """Per image: sum of the attributions minus (s_c(x) - s_c(baseline)); zero for exact IG."""
    _check_batch(X)
    t = _targets(target, len(X), X.device)
    B = torch.zeros_like(X) if baseline is None else torch.as_tensor(baseline, dtype=X.dtype,
                                                                     device=X.device).expand_as(X)
    with torch.no_grad():
        gap = _score(net, X, t) - _score(net, B, t)
    return attributions.flatten(1).sum(1) - gap


def occlusion(net, X, target, size: int = 4, stride: int = 2, baseline: float = 0.0, max_batch: int = 1024):
    """Occlusion (Zeiler and Fergus 2014): slide a ``size`` x ``size`` patch of ``baseline``
    over each image (channels together) with ``stride``; a pixel's attribution is the mean
    drop of the target's logit over the patches that cover it (0 if none does), the
    convention of captum's ``Occlusion``. Images of shape (N, C, H, W).
    """
    _check_batch(X)
    if X.ndim != 4:
        raise ValueError(f"occlusion expects images of shape (N, C, H, W), got {tuple(X.shape)}")
    N, C, H, W = X.shape
    if not (1 <= size <= min(H, W)) or stride < 1:
        raise ValueError(f"need 1 <= size <= {min(H, W)} and stride >= 1, got size={size}, stride={stride}")
    t = _targets(target, N, X.device)
    X = X.detach()
    corners = [(i, j) for i in range(0, H - size + 1, stride) for j in range(0, W - size + 1, stride)]
    masks = torch.zeros(len(corners), 1, H, W, dtype=X.dtype, device=X.device)
    for p, (i, j) in enumerate(corners):
        masks[p, :, i:i + size, j:j + size] = 1
    total = torch.zeros_like(X)
    with torch.no_grad():
        base = _score(net, X, t)
        per_chunk = max(1, int(max_batch) // N)
        for start in range(0, len(corners), per_chunk):
            M = masks[start:start + per_chunk]  # (P, 1, H, W)
            Z = (X.unsqueeze(0) * (1 - M.unsqueeze(1)) + baseline * M.unsqueeze(1)).reshape(-1, C, H, W)
            drop = base.unsqueeze(0) - _score(net, Z, t.repeat(len(M))).view(len(M), N)
            total += (drop.view(len(M), N, 1, 1, 1) * M.unsqueeze(1)).sum(0)
    count = masks.sum(0)
    return torch.where(count > 0, total / count.clamp_min(1), torch.zeros_like(total))


def edge_map(X):
    """A model-free 'explanation': the Sobel gradient magnitude of the image itself."""
    _check_batch(X)
    if X.ndim != 4:
        raise ValueError(f"edge_map expects images of shape (N, C, H, W), got {tuple(X.shape)}")
    kx = torch.tensor([[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]], dtype=X.dtype, device=X.device)
    k = torch.stack([kx, kx.T]).unsqueeze(1)  # (2, 1, 3, 3)
    g = F.conv2d(X.sum(1, keepdim=True), k, padding=1)
    return g.pow(2).sum(1, keepdim=True).sqrt().expand_as(X).contiguous()


def rank_correlation(A, B, mask=None) -> np.ndarray:
    """Spearman rank correlation of each map in ``A`` with the same map in ``B``.

    Maps are flattened per image; ties get their average rank. With ``mask`` (booleans of
    the same shape), only the pixels where it is true count, separately for each image.
    Returns an array of N values (0 where a map is constant).
    """
    from scipy.stats import rankdata

    def as_array(M, what):
        M = M.detach().cpu().numpy() if isinstance(M, torch.Tensor) else np.asarray(M)
        return M.reshape(len(M), -1) if M.ndim >= 1 and len(M) else M

    a, b = as_array(A, "A").astype(np.float64), as_array(B, "B").astype(np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] == 0 or a.shape[1] < 2:
        raise ValueError(f"need two batches of maps of the same shape (N, ...), got shapes "
                         f"{np.shape(A)} and {np.shape(B)}")
    keep = np.ones(a.shape, dtype=bool) if mask is None else as_array(mask, "mask").astype(bool)
    if keep.shape != a.shape:
        raise ValueError(f"mask must have the maps' shape {np.shape(A)}, got {np.shape(mask)}")
    out = np.zeros(len(a))
    for i in range(len(a)):
        ra, rb = rankdata(a[i, keep[i]]), rankdata(b[i, keep[i]])
        ra, rb = ra - ra.mean(), rb - rb.mean()
        denom = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
        out[i] = (ra * rb).sum() / denom if denom > 0 else 0.0
    return out


def randomized_copies(net, layer_names, seed: int = 0):
    """The cascading model-randomisation test of Adebayo et al. (NeurIPS 2018).

    Returns a list of ``(name, model)``: the i-th model is a copy of ``net`` whose layers
    ``layer_names[:i+1]`` (list them from the output down) have fresh random weights, drawn
    with each layer's own default initialisation from a generator seeded with ``seed``.
    The caller's random state is left untouched.
    """
    modules = dict(net.named_modules())
    missing = [n for n in layer_names if n not in modules or not hasattr(modules[n], "reset_parameters")]
    if missing:
        raise ValueError(f"no layer with parameters named {missing}; layers: "
                         f"{[n for n, m in modules.items() if hasattr(m, 'reset_parameters')]}")
    out, current = [], net
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in layer_names:
            current = copy.deepcopy(current)
            layer = dict(current.named_modules())[name]
            params = list(layer.parameters())
            flags = [p.requires_grad for p in params]
            device = params[0].device if params else torch.device("cpu")
            with torch.no_grad():
                fresh = copy.deepcopy(layer).to("cpu")  # draw on the CPU: same weights on every device
                fresh.reset_parameters()
                for p, q, f in zip(params, fresh.parameters(), flags):
                    p.copy_(q.to(device))
                    p.requires_grad_(f)
            current.eval()
            out.append((name, current))
    return out


def gaussian_blur(X, sigma: float):
    """Blur each channel of images (N, C, H, W) with a Gaussian of ``sigma`` pixels (zero padding)."""
    _check_batch(X)
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
    r = int(math.ceil(3 * sigma))
    x = torch.arange(-r, r + 1, dtype=X.dtype, device=X.device)
    k = torch.exp(-x ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    C = X.shape[1]
    Y = F.conv2d(X, k.view(1, 1, 1, -1).expand(C, 1, 1, -1), padding=(0, r), groups=C)
    return F.conv2d(Y, k.view(1, 1, -1, 1).expand(C, 1, -1, 1), padding=(r, 0), groups=C)


def ranking(attributions, generator=None) -> torch.Tensor:
    """Per image, the flat pixel indices from most to least attributed; ties in random order
    (drawn from ``generator``), so that a flat map does not delete pixels top to bottom."""
    flat = attributions.detach().flatten(1)
    n, d = flat.shape
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    perm = torch.stack([torch.randperm(d, generator=generator) for _ in range(n)]).to(flat.device)
    order = flat.gather(1, perm).argsort(dim=1, descending=True, stable=True)
    return perm.gather(1, order)


def deletion_curves(net, X, target, attributions, steps: int = 28, insertion: bool = False, start=None,
                    generator=None, max_batch: int = 1024):
    """Deletion and insertion curves (Petsiuk, Das and Saenko, BMVC 2018).

    At step k = 0..steps the k * D // steps most attributed pixels (D pixels per image) are
    set to 0 (deletion), or copied from ``X`` into ``start`` (insertion; ``start`` is, e.g.,
    a blurred copy of ``X``). Returns ``(probs, fractions)``: the target's softmax
    probability, shape (N, steps + 1), and the fraction of pixels changed at each step.
    """
    _check_batch(X)
    if attributions.shape != X.shape:
        raise ValueError(f"attributions must have the shape of X {tuple(X.shape)}, got {tuple(attributions.shape)}")
    t = _targets(target, len(X), X.device)
    N, D = len(X), X[0].numel()
    order = ranking(attributions, generator)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(D, device=X.device).expand(N, D))
    counts = [k * D // steps for k in range(steps + 1)]
    flatX = X.detach().flatten(1)
    other = torch.zeros_like(flatX) if not insertion else torch.as_tensor(start, dtype=X.dtype,
                                                                         device=X.device).expand_as(X).flatten(1)
    probs = []
    per_chunk = max(1, int(max_batch) // N)
    with torch.no_grad():
        for s in range(0, len(counts), per_chunk):
            c = torch.tensor(counts[s:s + per_chunk], device=X.device).view(-1, 1, 1)
            changed = rank.unsqueeze(0) < c  # (K, N, D)
            Z = torch.where(changed, other.unsqueeze(0), flatX.unsqueeze(0)) if not insertion else \
                torch.where(changed, flatX.unsqueeze(0), other.unsqueeze(0))
            p = F.softmax(net(Z.reshape(-1, *X.shape[1:])), dim=1).gather(1, t.repeat(len(c)).view(-1, 1))
            probs.append(p.view(len(c), N).T)
    return torch.cat(probs, 1).cpu(), np.array(counts) / D


def area_under(probs, fractions) -> np.ndarray:
    """Area under each curve (trapezoid rule over the fraction of pixels), one value per image."""
    p = np.asarray(probs.detach().cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
    return np.trapezoid(p, np.asarray(fractions, dtype=np.float64), axis=-1)
