"""Checkers for section 9.11 (explainability, tested)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, numbers, tolerance


def _array(value, what: str, shape=None) -> np.ndarray:
    import torch

    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be an array of numbers, got {type(value).__name__}")
    if shape is not None and arr.shape != tuple(shape):
        raise Wrong(f"{what} should have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise Wrong(f"{what} contains NaN or infinite values (did you divide by a zero count?)")
    return arr


def _small_net(seed: int):
    """A small random MnistCNN in float64, evaluation mode, with non-trivial batch-norm statistics."""
    import torch

    from utils.vision import MnistCNN

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = MnistCNN(channels=(4, 8), hidden=16, dropout=0.0).double()
        with torch.no_grad():
            for m in net.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net


# ------------------------------------------------------------------ 9.11.1 quadrature
def _reference_quadrature(method, m):
    from utils.explain import path_weights

    a, w = path_weights(method, m)
    return a.numpy(), w.numpy()


@exercise("9.11.1", "points and weights of a quadrature rule")
def _check_quadrature(quadrature) -> str:
    cases = [(method, m) for method in ("left", "middle", "trapezoid") for m in (2, 4, 7, 32)]
    for method, m in cases:
        what = f"quadrature({method!r}, {m})"
        got = quadrature(method, m)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Wrong(f"{what} should return a pair (alphas, weights), got {type(got).__name__}")
        alphas, weights = _array(got[0], f"{what}'s alphas"), _array(got[1], f"{what}'s weights")
        ea, ew = _reference_quadrature(method, m)
        if alphas.ndim != 1 or weights.ndim != 1 or alphas.shape != weights.shape:
            raise Wrong(f"{what}: alphas and weights should be 1-D arrays of the same length, got shapes "
                        f"{alphas.shape} and {weights.shape}")
        if method == "trapezoid" and len(alphas) == m:
            raise Wrong(f"{what} has {m} points: the trapezoid rule with m = {m} intervals has m + 1 = {m + 1} "
                        f"points 0, 1/m, ..., 1 (m points spaced 1/(m-1) is captum's riemann_trapezoid, "
                        f"whose weights do not add up to 1)")
        if len(alphas) != len(ea):
            raise Wrong(f"{what} has {len(alphas)} points, expected {len(ea)}")
        order = np.argsort(alphas, kind="stable")
        alphas, weights = alphas[order], weights[order]
        if not np.allclose(weights.sum(), 1.0, rtol=0, atol=1e-12):
            yours, one = numbers(weights.sum(), 1.0)
            hint = " (halve the weights of the two end points)" if method == "trapezoid" else ""
            raise Wrong(f"{what}: the weights add up to {yours}, not {one}: a rule for the integral over "
                        f"[0, 1] must integrate f = 1 exactly{hint}")
        if np.allclose(alphas, ea, rtol=0, atol=1e-12) and np.allclose(weights, ew, rtol=0, atol=1e-12):
            continue
        if method == "middle" and np.allclose(alphas, np.arange(m) / m, atol=1e-12):
            raise Wrong(f"{what}: those are the left points k/m; the midpoints are (k + 1/2)/m")
        if method == "left" and np.allclose(alphas, np.arange(1, m + 1) / m, atol=1e-12):
            raise Wrong(f"{what}: those are the right points (k + 1)/m; the left ones are k/m, from 0")
        if not np.allclose(alphas, ea, rtol=0, atol=1e-12):
            raise Wrong(f"{what}: the points should be {np.round(ea, 4).tolist()}, got {np.round(alphas, 4).tolist()} "
                        f"(the check allows {tolerance(atol=1e-12)})")
        raise Wrong(f"{what}: the weights should be {np.round(ew, 5).tolist()}, got {np.round(weights, 5).tolist()} "
                    f"(the check allows {tolerance(atol=1e-12)})")
    return f"{len(cases)} rules and step counts, points and weights within 1e-12"


# ------------------------------------------------------------------ 9.11.2 Spearman
def _spearman_cases():
    g = np.random.default_rng(911)
    cases = [(np.array([1., 2, 3, 4, 5]), np.array([5., 6, 7, 8, 7])),
             (np.array([0., 0, 0, 1, 2, 2]), np.array([3., 1, 2, 2, 0, 5]))]
    for n in (10, 50, 200):
        a = g.integers(0, 6, n).astype(float)  # many ties, like the zeros of a map on a black background
        cases.append((a, a + g.normal(0, 2, n)))
    cases.append((g.normal(size=30), g.normal(size=30) ** 3))
    return cases


@exercise("9.11.2", "Spearman rank correlation with ties")
def _check_spearman(spearman) -> str:
    from scipy.stats import pearsonr, rankdata, spearmanr

    cases = _spearman_cases()
    for a, b in cases:
        what = f"spearman(a, b) for {len(a)} values"
        got = spearman(a.copy(), b.copy())
        try:
            got = float(np.asarray(got, dtype=np.float64))
        except (TypeError, ValueError):
            raise Wrong(f"{what} should be one number, got {type(got).__name__}")
        expected = spearmanr(a, b).statistic
        if np.isclose(got, expected, rtol=0, atol=1e-10):
            continue
        if np.isclose(got, pearsonr(a, b).statistic, atol=1e-10):
            raise Wrong(f"{what} = {got:.6f} is the Pearson correlation of the values; correlate their ranks")
        ordinal = pearsonr(rankdata(a, "ordinal"), rankdata(b, "ordinal")).statistic
        if np.isclose(got, ordinal, atol=1e-10):
            raise Wrong(f"{what} = {got:.6f}: tied values got different ranks (argsort of argsort); give "
                        f"ties their average rank")
        raise not_close(what, got, expected, atol=1e-10, named="scipy.stats.spearmanr")
    return f"{len(cases)} pairs of arrays, with and without ties, equal to scipy within 1e-10"


# ------------------------------------------------------------------ 9.11.3 deletion curve
def _reference_deletion(net, x, target, attribution, steps):
    import torch

    d = x.numel()
    order = attribution.flatten().argsort(descending=True)
    rows = []
    for k in range(steps + 1):
        z = x.flatten().clone()
        z[order[:k * d // steps]] = 0
        rows.append(z.view(1, *x.shape))
    with torch.no_grad():
        return torch.softmax(net(torch.cat(rows)), 1)[:, target].numpy()


@exercise("9.11.3", "a deletion curve")
def _check_deletion(deletion_curve) -> str:
    import torch

    net = _small_net(913)
    g = torch.Generator().manual_seed(913)
    for target, steps in ((3, 28), (7, 10), (0, 4)):
        x = torch.rand(1, 28, 28, generator=g, dtype=torch.float64)
        attribution = torch.randn(1, 28, 28, generator=g, dtype=torch.float64)
        what = f"deletion_curve(net, x, {target}, attribution, steps={steps})"
        got = _array(deletion_curve(net, x.clone(), target, attribution.clone(), steps), what)
        expected = _reference_deletion(net, x, target, attribution, steps)
        if got.shape == expected.shape and np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        if got.shape == (steps,):
            raise Wrong(f"{what} has {steps} values: include step 0 (nothing deleted), steps + 1 = {steps + 1}")
        if got.shape != expected.shape:
            raise Wrong(f"{what} should have shape {expected.shape}, got {got.shape}")
        if np.allclose(got, _reference_deletion(net, x, target, -attribution, steps), rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what}: you deleted the least attributed pixels first; delete the largest first")
        if np.allclose(got, _reference_deletion(net, x, target, attribution.abs(), steps), rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what}: you ordered by |attribution|; order by the signed attribution, largest first")
        if got.min() < 0 or got.max() > 1:
            raise Wrong(f"{what} has values outside [0, 1] (from {got.min():.3f} to {got.max():.3f}): "
                        f"record the softmax probability of the class, not its logit")
        if abs(got[0] - expected[0]) > 1e-6:
            raise Wrong(f"{what}: the first value (nothing deleted) should be the probability of class {target} "
                        f"for x, {expected[0]:.6f}, got {got[0]:.6f}")
        k = int(np.argmax(np.abs(got - expected) > 1e-6))
        raise Wrong(f"{what} differs from the expected curve first at step {k}: {got[k]:.6f} vs {expected[k]:.6f} "
                    f"(at step k, k * 784 // steps = {k * 784 // steps} pixels are 0; the check allows "
                    f"{tolerance(1e-6, 1e-9)})")
    return "three images, targets and step counts, within a relative 1e-6"


# ------------------------------------------------------------------ 9.11.4 occlusion
@exercise("9.11.4", "an occlusion map")
def _check_occlusion(occlusion_map) -> str:
    import torch

    from utils.explain import occlusion

    net = _small_net(914)
    g = torch.Generator().manual_seed(914)
    cases = ((2, 4, 2), (5, 6, 3), (8, 5, 4), (1, 7, 7))
    for target, size, stride in cases:
        x = torch.rand(1, 28, 28, generator=g, dtype=torch.float64)
        what = f"occlusion_map(net, x, {target}, size={size}, stride={stride})"
        out = occlusion_map(net, x.clone(), target, size, stride)
        if not isinstance(out, torch.Tensor):
            raise Wrong(f"{what} should return a torch tensor of shape (1, 28, 28), got {type(out).__name__}")
        got = _array(out, what, (1, 28, 28))
        expected = occlusion(net, x.unsqueeze(0), target, size=size, stride=stride)[0].numpy()
        if np.allclose(got, expected, rtol=1e-6, atol=1e-9):
            continue
        if np.allclose(got, -expected, rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what} has the opposite sign: the attribution is the DROP of the logit, "
                        f"s(x) - s(x with the patch at 0)")
        count = np.zeros((28, 28))
        for i in range(0, 28 - size + 1, stride):
            for j in range(0, 28 - size + 1, stride):
                count[i:i + size, j:j + size] += 1
        if np.allclose(got, expected * count, rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what}: you added up the drops of the patches covering each pixel; take their mean "
                        f"(divide by the number of patches that cover it)")
        uncovered = expected == 0
        if np.allclose(got[~uncovered], expected[~uncovered], rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what}: pixels that no patch covers should be 0")
        prob = occlusion(lambda z: torch.softmax(net(z), 1), x.unsqueeze(0), target, size=size, stride=stride)
        if np.allclose(got, prob[0].numpy(), rtol=1e-6, atol=1e-9):
            raise Wrong(f"{what}: you used the drop of the softmax probability; use the drop of the logit "
                        f"(the network's output before the softmax)")
        err = np.abs(got - expected).max()
        raise Wrong(f"{what} differs from the expected map by up to {err:.3g} (the check allows "
                    f"{tolerance(1e-6, 1e-9)}); largest expected value {np.abs(expected).max():.4f}")
    return f"{len(cases)} images and patch settings, within a relative 1e-6 (equal to utils.explain.occlusion)"
