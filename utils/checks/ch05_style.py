"""Checkers for section 5.4 (style transfer without pretrained weights)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, not_close, tolerance


def _as_array(value, what: str) -> np.ndarray:
    """A torch tensor or array-like as a float64 NumPy array (for comparisons)."""
    if value is None or isinstance(value, (str, bytes, dict)):
        raise Wrong(f"{what} should be a torch tensor, got {type(value).__name__}")
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be a torch tensor of numbers, got {type(value).__name__}")


def _scalar(value, what: str) -> float:
    arr = _as_array(value, what)
    if arr.size != 1:
        raise Wrong(f"{what} should be a single number (a 0-d tensor), got shape {arr.shape}")
    return float(arr.reshape(()))


# --- 5.4.1 Gram matrix -----------------------------------------------------------

@exercise("5.4.1", "Gram matrix of feature maps")
def _check_gram(gram) -> str:
    import torch

    generator = torch.Generator().manual_seed(541)
    for C, H, W in ((4, 5, 3), (6, 2, 7), (3, 8, 8), (1, 1, 1)):
        F = torch.rand(C, H, W, generator=generator, dtype=torch.float64)
        out = _as_array(gram(F.clone()), f"gram(features of shape {(C, H, W)})")
        flat = F.reshape(C, H * W).numpy()
        expected = flat @ flat.T / (H * W)
        if out.shape == (H * W, H * W) and (H * W != C):
            raise Wrong(f"for features of shape {(C, H, W)} you returned a {out.shape} matrix, one entry per "
                        "pair of *positions*: the Gram matrix compares channels, G = F Fᵀ with F of shape "
                        f"(C, H·W), so it is ({C}, {C})")
        if out.shape != (C, C):
            raise Wrong(f"gram(features of shape {(C, H, W)}) should have shape ({C}, {C}) (channels x channels), "
                        f"got {out.shape}")
        if np.allclose(out, expected, rtol=1e-6, atol=1e-9):
            continue
        if H * W > 1 and np.allclose(out, expected * H * W, rtol=1e-6):
            raise Wrong("the entries are H·W times too large: divide by the number of positions H·W, so the "
                        "Gram matrix is an average and does not grow with the image size")
        if C > 1 and np.allclose(out, expected / C, rtol=1e-6):
            raise Wrong("you divided by C·H·W; in this section the Gram matrix is divided by H·W only "
                        "(the average over positions of the product of two channels)")
        wrong_reshape = F.numpy().reshape(H * W, C).T
        if np.allclose(out, wrong_reshape @ wrong_reshape.T / (H * W), rtol=1e-6):
            raise Wrong("the reshape mixes channels and positions: reshape(H·W, C) reads the memory in the wrong "
                        "order; use features.reshape(C, H * W), which keeps each channel's map in one row")
        raise Wrong(f"for features of shape {(C, H, W)} the Gram matrix differs from F Fᵀ / (H·W) by up to "
                    f"{np.max(np.abs(out - expected)):.3g} (the check allows {tolerance(1e-6, 1e-9)})")
    return "equals F Fᵀ / (H·W) for four shapes, including non-square maps and a single channel"


# --- 5.4.2 style loss --------------------------------------------------------------

def _reference_style_loss(features, style_features) -> float:
    total = 0.0
    for f, s in zip(features, style_features):
        f, s = f.reshape(f.shape[-3], -1), s.reshape(s.shape[-3], -1)
        g_f, g_s = f @ f.T / f.shape[1], s @ s.T / s.shape[1]
        total += float(((g_f - g_s) ** 2).sum() / (g_s**2).sum())
    return total / len(features)


@exercise("5.4.2", "style loss over several scales")
def _check_style_loss(style_loss_fn) -> str:
    import torch

    generator = torch.Generator().manual_seed(542)

    def feats(shapes, scale=1.0):
        return [scale * torch.rand(1, c, h, w, generator=generator, dtype=torch.float64) for c, h, w in shapes]

    shapes = [(4, 8, 8), (6, 4, 4), (8, 2, 2)]
    for trial in range(3):
        fx, fs = feats(shapes), feats(shapes, scale=1.5)
        out = _scalar(style_loss_fn([f.clone() for f in fx], [f.clone() for f in fs]), "style_loss(...)")
        expected = _reference_style_loss(fx, fs)
        if np.isclose(out, expected, rtol=1e-6):
            continue
        per_scale = [_reference_style_loss([a], [b]) for a, b in zip(fx, fs)]
        if np.isclose(out, sum(per_scale), rtol=1e-6):
            raise Wrong("you summed over the scales; take the mean, so the loss does not grow with the number "
                        "of scales")
        absolute = []
        for a, b in zip(fx, fs):
            a2, b2 = a.reshape(a.shape[1], -1), b.reshape(b.shape[1], -1)
            absolute.append(float(((a2 @ a2.T / a2.shape[1] - b2 @ b2.T / b2.shape[1]) ** 2).sum()))
        if np.isclose(out, np.mean(absolute), rtol=1e-6) or np.isclose(out, np.sum(absolute), rtol=1e-6):
            raise Wrong("the loss is not relative: divide each scale's ‖G(x) − G(s)‖² by ‖G(s)‖², so every "
                        "scale counts the same whatever the size of its activations")
        if np.isclose(out, np.mean([np.sqrt(p) for p in per_scale]), rtol=1e-6):
            raise Wrong("you used the norm ‖G(x) − G(s)‖ / ‖G(s)‖; the loss uses squared norms")
        feature_mse = np.mean([float(((a - b) ** 2).sum() / (b**2).sum()) for a, b in zip(fx, fs)])
        if np.isclose(out, feature_mse, rtol=1e-6):
            raise Wrong("you compared the feature maps themselves (that is the content loss); the style loss "
                        "compares their Gram matrices")
        raise not_close("style_loss", out, expected, rtol=1e-6, atol=1e-8,
                        named="the mean over scales of ‖G(x) − G(s)‖²_F / ‖G(s)‖²_F")
    fx = feats(shapes)
    same = _scalar(style_loss_fn(fx, [f.clone() for f in fx]), "style_loss(x, x)")
    if abs(same) > 1e-10:
        raise Wrong(f"style_loss(x, x) should be 0 for identical features, you returned {same:.3g} "
                    f"(the check allows {tolerance(atol=1e-10)})")
    moved = [torch.roll(f, shifts=1, dims=-1) for f in fx]  # same statistics, other positions
    rolled = _scalar(style_loss_fn(moved, fx), "style_loss(moved, x)")
    if abs(rolled) > 1e-10:
        raise Wrong("features that are only moved (rolled) to other positions have the same Gram matrices, so "
                    f"the style loss must be 0; yours is {rolled:.3g} (the check allows {tolerance(atol=1e-10)}): "
                    "did you compare the features instead of the Grams?")
    return "matches the mean over scales of the relative squared Gram distance; 0 for identical and for moved features"


# --- 5.4.3 total variation -----------------------------------------------------------

@exercise("5.4.3", "total variation loss")
def _check_tv(tv_loss) -> str:
    import torch

    generator = torch.Generator().manual_seed(543)
    for H, W in ((6, 9), (5, 4), (2, 2)):
        x = torch.rand(3, H, W, generator=generator, dtype=torch.float64)
        out = _scalar(tv_loss(x.clone()), f"tv_loss(image of shape {(3, H, W)})")
        dy, dx = x[:, 1:, :] - x[:, :-1, :], x[:, :, 1:] - x[:, :, :-1]
        expected = float((dy**2).mean() + (dx**2).mean())
        if np.isclose(out, expected, rtol=1e-6):
            continue
        if np.isclose(out, float(dy.abs().mean() + dx.abs().mean()), rtol=1e-6):
            raise Wrong("you used absolute differences; this exercise squares them (the smooth, 'L2' total variation)")
        if np.isclose(out, float((dy**2).mean()), rtol=1e-6) or np.isclose(out, float((dx**2).mean()), rtol=1e-6):
            raise Wrong("only one direction is counted: add the vertical differences x[:, 1:, :] − x[:, :-1, :] "
                        "and the horizontal ones x[:, :, 1:] − x[:, :, :-1]")
        if np.isclose(out, float((dy**2).sum() + (dx**2).sum()), rtol=1e-6):
            raise Wrong("you summed the squared differences; take the mean of each direction, so the loss does "
                        "not depend on the image size")
        dc = x[1:] - x[:-1]
        if any(np.isclose(out, float((dc**2).mean() + (d**2).mean()), rtol=1e-6) for d in (dy, dx)):
            raise Wrong("one of your differences runs along the colour channels (axis 0); the image is (3, H, W), "
                        "so the spatial axes are 1 and 2")
        raise not_close(f"tv_loss for an image of shape {(3, H, W)}", out, expected, rtol=1e-6, atol=1e-8)
    flat = torch.full((3, 5, 7), 0.3, dtype=torch.float64)
    flat_tv = _scalar(tv_loss(flat), "tv_loss(constant image)")
    if abs(flat_tv) > 1e-12:
        raise Wrong(f"a constant image has no variation: tv_loss should be 0 for it, you returned {flat_tv:.3g} "
                    f"(the check allows {tolerance(atol=1e-12)})")
    return "mean squared vertical + horizontal differences, for three image sizes; 0 for a constant image"


# --- 5.4.4 size of the style representation ----------------------------------------

def _feature_lists():
    """Hidden inputs: lists of (1, C, H, W) feature maps with different channels, scales and sizes."""
    import torch

    from utils.style import RandomFeatureNet

    g = torch.Generator().manual_seed(544)
    shapes = [[(3, 8, 8)], [(5, 6, 6), (7, 3, 3)], [(2, 10, 4), (2, 5, 2), (9, 3, 1)],
              [(16, 4, 4), (1, 2, 2), (6, 1, 1)]]
    cases = [[torch.rand(1, *shape, generator=g) for shape in scales] for scales in shapes]
    cases.append(RandomFeatureNet(seed=3, channels=8, scales=3)(torch.rand(3, 32, 32, generator=g)))
    return cases


@exercise("5.4.4", "how many numbers describe a style")
def _check_style_size(count_style_numbers) -> str:
    for features in _feature_lists():
        channels = [f.shape[1] for f in features]
        described = f"feature maps of shapes {[tuple(f.shape) for f in features]}"
        try:
            n = count_style_numbers([f.clone() for f in features])
        except (TypeError, ValueError, IndexError, AttributeError) as err:
            raise Wrong(f"count_style_numbers failed on {described}: {err!r}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise Wrong(f"return a count, an integer (int(...)); got {type(n).__name__} for {described}")
        expected = sum(c * (c + 1) // 2 for c in channels)
        if n == expected:
            continue
        if n == sum(c * c for c in channels):
            raise Wrong(f"{n} for {described} counts every entry of the Gram matrices, but G is symmetric: "
                        "G[i, j] = G[j, i], so only the diagonal and one triangle are distinct")
        if n == sum(c * (c - 1) // 2 for c in channels):
            raise Wrong(f"{n} for {described}: you left out the diagonal; G[i, i] (the average energy of "
                        "channel i) is a number too")
        if len(features) > 1 and n == channels[0] * (channels[0] + 1) // 2:
            raise Wrong(f"{n} for {described} is the size of the first scale's Gram matrix; every scale has "
                        "its own, add them up")
        if n == sum(int(f[0].numel()) for f in features):
            raise Wrong(f"{n} for {described} counts the feature maps' values, which grow with the image; "
                        "the style is the Gram matrices, C x C per scale whatever the image size")
        if n == len(features):
            raise Wrong(f"{n} for {described}: each map has shape (1, C, H, W); the channels C are "
                        "shape[1], not shape[0] (the batch)")
        raise Wrong(f"for {described} you return {n}; expected {expected}: count the distinct entries of "
                    "each scale's symmetric C x C Gram matrix and add over the scales")
    return "five hidden lists of feature maps, from one scale to four, with different channels and sizes"
