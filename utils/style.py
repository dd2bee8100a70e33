"""Neural style transfer without pretrained weights (section 5.4).

Gatys et al. (2016) optimise the *pixels* of an image so that its deep features
match a content image and its feature correlations (Gram matrices) match a
style image. They used a VGG network trained on ImageNet; nothing can be
downloaded here, so the features come from fixed *random* filters at several
scales, which capture texture well (Ustyuzhaninov et al., ICLR 2017, "What does
it take to generate natural textures?").

    from utils import style
    content = style.load_image("astronaut", 128)
    pattern = style.swirl_strokes(128)
    net = style.RandomFeatureNet(seed=0)
    image, history = style.style_transfer(content, pattern, net, style_weight=100.0, steps=100)

Images are float tensors of shape (3, H, W) with values in [0, 1].
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["gram_matrix", "RandomFeatureNet", "style_loss", "content_loss", "style_transfer",
           "load_image", "swirl_strokes", "as_image"]


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """Normalised Gram matrix G = F Fᵀ / (H W) of feature maps.

    ``features`` has shape (C, H, W) or (B, C, H, W); the result is (C, C) or
    (B, C, C). Entry (i, j) is the average over all positions of the product of
    channels i and j: how often the two filters respond *together*, wherever
    that happens. Dividing by H W makes it independent of the image size.
    """
    if not isinstance(features, torch.Tensor):
        raise TypeError(f"gram_matrix needs a torch.Tensor, got {type(features).__name__}")
    if features.ndim not in (3, 4):
        raise ValueError(f"gram_matrix needs feature maps of shape (C, H, W) or (B, C, H, W), "
                         f"got shape {tuple(features.shape)}")
    *lead, c, h, w = features.shape
    if h * w == 0 or c == 0:
        raise ValueError(f"gram_matrix got empty feature maps of shape {tuple(features.shape)}")
    flat = features.reshape(*lead, c, h * w)
    return flat @ flat.transpose(-1, -2) / (h * w)


class RandomFeatureNet(nn.Module):
    """Multi-scale random filters: a frozen feature extractor that needs no training.

    Scale ``s`` average-pools the image by ``2**s`` and applies one bank of
    ``channels`` random ``kernel_size`` x ``kernel_size`` filters followed by a
    ReLU. A 5x5 filter on an image pooled 8x sees a 40x40-pixel patch of the
    original, so the scales together describe the image from fine grain to
    large blobs. Filters are Gaussian with zero mean (so they respond to
    structure, not to overall brightness) and He scaling. The weights are
    drawn from ``seed`` alone: two different seeds give two independent
    networks, the same seed gives the same network on every machine.

    ``forward(x)`` takes (3, H, W) or (B, 3, H, W) images in [0, 1] and returns
    a list with one (B, channels, H / 2**s, W / 2**s) feature map per scale.
    """

    def __init__(self, seed: int = 0, channels: int = 64, kernel_size: int = 3, scales: int = 4):
        super().__init__()
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        for name, value, low in (("channels", channels, 1), ("kernel_size", kernel_size, 1), ("scales", scales, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (so the output keeps the image size), got {kernel_size}")
        self.seed, self.channels, self.kernel_size, self.scales = int(seed), int(channels), int(kernel_size), int(scales)
        generator = torch.Generator().manual_seed(int(seed))
        weights = []
        for _ in range(scales):
            w = torch.randn(channels, 3, kernel_size, kernel_size, generator=generator)
            w = w - w.mean(dim=(1, 2, 3), keepdim=True)  # zero-mean: blind to a uniform brightness change
            weights.append(w * (2.0 / (3 * kernel_size**2)) ** 0.5)
        self.weights = nn.ParameterList([nn.Parameter(w, requires_grad=False) for w in weights])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"RandomFeatureNet needs a torch.Tensor image, got {type(x).__name__}")
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"RandomFeatureNet needs RGB images of shape (3, H, W) or (B, 3, H, W), "
                             f"got shape {tuple(x.shape)}")
        smallest = min(x.shape[-2:]) // 2 ** (self.scales - 1)
        if smallest < 1:
            raise ValueError(f"an image of {tuple(x.shape[-2:])} pixels is too small for {self.scales} scales "
                             f"(each halves it); use at least {2 ** (self.scales - 1)} pixels a side")
        x = x - 0.5
        features = []
        for s, w in enumerate(self.weights):
            if s > 0:
                x = F.avg_pool2d(x, 2)
            features.append(F.relu(F.conv2d(x, w, padding=self.kernel_size // 2)))
        return features

    def extra_repr(self) -> str:
        return f"seed={self.seed}, channels={self.channels}, kernel_size={self.kernel_size}, scales={self.scales}"


def _check_feature_lists(a, b, what: str) -> None:
    if not isinstance(a, (list, tuple)) or not isinstance(b, (list, tuple)):
        raise TypeError(f"{what} needs two lists of feature maps (the output of the network), "
                        f"got {type(a).__name__} and {type(b).__name__}")
    if len(a) != len(b) or len(a) == 0:
        raise ValueError(f"{what} needs two non-empty lists with one feature map per scale, "
                         f"got {len(a)} and {len(b)}")


def style_loss(features: Sequence[torch.Tensor], style_features: Sequence[torch.Tensor]) -> torch.Tensor:
    """Relative squared distance between Gram matrices, averaged over scales.

    For each scale l: ‖G_l(x) − G_l(s)‖²_F / ‖G_l(s)‖²_F, so every scale counts
    the same and 0.01 means "the Gram matrices agree to 10%". 0 for identical inputs.
    """
    _check_feature_lists(features, style_features, "style_loss")
    total = 0.0
    for f, s in zip(features, style_features):
        if f.shape[-3] != s.shape[-3]:
            raise ValueError(f"style_loss: a scale has {f.shape[-3]} channels in one list and {s.shape[-3]} "
                             "in the other; both lists must come from the same network")
        g_s = gram_matrix(s)
        total = total + ((gram_matrix(f) - g_s) ** 2).sum() / (g_s**2).sum().clamp_min(1e-12)
    return total / len(features)


def content_loss(features: Sequence[torch.Tensor], content_features: Sequence[torch.Tensor],
                 layers: Sequence[int] = (2,)) -> torch.Tensor:
    """Relative squared distance between feature maps at the given scales.

    ‖F_l(x) − F_l(c)‖² / ‖F_l(c)‖², averaged over ``layers``: where things are,
    not only which textures occur. 0 for identical inputs.
    """
    _check_feature_lists(features, content_features, "content_loss")
    layers = list(layers)
    if not layers or any(not isinstance(l, (int, np.integer)) or not -len(features) <= l < len(features)
                         for l in layers):
        raise ValueError(f"content_loss: layers must be indices into the {len(features)} scales, got {layers}")
    total = 0.0
    for l in layers:
        f, c = features[l], content_features[l]
        if f.shape != c.shape:
            raise ValueError(f"content_loss: scale {l} has shape {tuple(f.shape)} for the image and "
                             f"{tuple(c.shape)} for the content; the two images must have the same size")
        total = total + ((f - c) ** 2).sum() / (c**2).sum().clamp_min(1e-12)
    return total / len(layers)


def _check_image(x, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (3, H, W), got {type(x).__name__}")
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f"{name} must be an RGB image of shape (3, H, W), got shape {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x.detach().float()


def style_transfer(content: torch.Tensor, style: torch.Tensor, net: nn.Module, style_weight: float = 100.0,
                   steps: int = 100, lr: float = 1.0, *, content_weight: float = 1.0,
                   content_layers: Sequence[int] = (2,), optimizer: str = "lbfgs",
                   regulariser: Callable[[torch.Tensor], torch.Tensor] | None = None):
    """Gatys-style transfer: optimise the pixels, starting from the content image.

    Minimises ``content_weight * content_loss + style_weight * style_loss
    (+ regulariser(image))`` over the pixels; the network stays frozen. The
    image is clamped to [0, 1] inside the loss, so out-of-range pixels cost what
    they will look like. ``steps`` counts loss evaluations (L-BFGS evaluates
    the loss several times per line search); ``lr`` is L-BFGS's initial step
    (1 is standard) or Adam's learning rate (about 0.02).

    Returns ``(image, history)``: the (3, H, W) result in [0, 1] and a dict of
    lists ``content``, ``style``, ``total``, one entry per evaluation.
    """
    content, style = _check_image(content, "content"), _check_image(style, "style")
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch.nn.Module returning a list of feature maps, got {type(net).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    for name, value in (("style_weight", style_weight), ("content_weight", content_weight), ("lr", lr)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if optimizer not in ("lbfgs", "adam"):
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    with torch.no_grad():
        content_features = [f.detach() for f in net(content)]
        style_features = [f.detach() for f in net(style)]
    pixels = content.clone()[None].requires_grad_(True)
    history = {"content": [], "style": [], "total": []}

    def loss_fn():
        image = pixels.clamp(0, 1)
        features = net(image)
        c_loss = content_loss(features, content_features, content_layers)
        s_loss = style_loss(features, style_features)
        total = content_weight * c_loss + style_weight * s_loss
        if regulariser is not None:
            total = total + regulariser(image[0])
        for key, value in (("content", c_loss), ("style", s_loss), ("total", total)):
            history[key].append(float(value.detach()))
        return total

    if optimizer == "lbfgs":
        opt = torch.optim.LBFGS([pixels], lr=lr, max_iter=steps, max_eval=steps, history_size=20,
                                tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            total = loss_fn()
            total.backward()
            return total

        opt.step(closure)
    else:
        opt = torch.optim.Adam([pixels], lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            loss_fn().backward()
            opt.step()
    return pixels.detach()[0].clamp(0, 1), history


def load_image(name: str, size: int = 128) -> torch.Tensor:
    """A scikit-image photograph or texture as a (3, size, size) float tensor in [0, 1].

    The image comes from ``utils.data.load("skimage", names=[name])``; grey
    images are repeated into three channels; the central square is cut out and
    resized with area averaging (``torch.nn.functional.interpolate``).
    """
    from utils import data

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer of at least 8 pixels, got {size!r}")
    raw = np.asarray(data.load("skimage", names=[name]).images[0])
    x = torch.tensor(raw, dtype=torch.float32) / (255.0 if raw.dtype == np.uint8 else 1.0)
    if x.ndim == 2:
        x = x[..., None].expand(-1, -1, 3)
    x = x[..., :3].permute(2, 0, 1)
    h, w = x.shape[1:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    x = x[:, top:top + side, left:left + side]
    x = F.interpolate(x[None], size=(size, size), mode="area" if side >= size else "bilinear",
                      align_corners=None if side >= size else False)[0]
    return x.clamp(0, 1).contiguous()


def swirl_strokes(size: int = 128, num_strokes: int | None = None, seed: int = 0,
                  palette: Sequence[Sequence[float]] | None = None) -> torch.Tensor:
    """A procedural 'painting': short coloured brush strokes swirling round the centre.

    Each stroke is a thick line segment whose direction follows circles about
    the image centre (plus noise), painted in a colour from ``palette`` (night
    blues and yellows by default). Deterministic for a given ``seed``.
    Returns a (3, size, size) tensor in [0, 1].
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 8:
        raise ValueError(f"size must be an integer of at least 8 pixels, got {size!r}")
    rng = np.random.default_rng(seed)
    palette = np.asarray(palette if palette is not None else
                         [[0.07, 0.16, 0.42], [0.16, 0.35, 0.70], [0.45, 0.65, 0.90],
                          [0.95, 0.80, 0.20], [0.98, 0.95, 0.70], [0.05, 0.05, 0.15]], dtype=float)
    if palette.ndim != 2 or palette.shape[1] != 3:
        raise ValueError(f"palette must be a list of RGB triples, got shape {palette.shape}")
    canvas = 2 * size  # paint at twice the size, then average 2x2 blocks: smooth stroke edges
    num_strokes = int(num_strokes if num_strokes is not None else 900 * (canvas / 256) ** 2)
    scale = canvas / 256  # stroke sizes are designed for a 256-pixel canvas
    img = np.ones((canvas, canvas, 3)) * palette[0]
    yy, xx = np.mgrid[0:canvas, 0:canvas].astype(float)
    for _ in range(num_strokes):
        cy, cx = rng.uniform(0, canvas, 2)
        angle = np.arctan2(cy - canvas / 2, cx - canvas / 2) + np.pi / 2 + rng.normal(0, 0.3)
        half = rng.uniform(4, 10) * scale
        width = rng.uniform(1.5, 3.0) * scale
        d = np.array([np.cos(angle), np.sin(angle)])
        r = int(half + width) + 2  # only the pixels near the stroke need testing
        rows = slice(max(int(cy) - r, 0), min(int(cy) + r + 1, canvas))
        cols = slice(max(int(cx) - r, 0), min(int(cx) + r + 1, canvas))
        px, py = xx[rows, cols] - cx, yy[rows, cols] - cy
        t = np.clip(px * d[0] + py * d[1], -half, half)  # the nearest point on the segment
        inside = np.hypot(px - t * d[0], py - t * d[1]) < width
        img[rows, cols][inside] = palette[rng.integers(len(palette))] * rng.uniform(0.85, 1.1)
    img = np.clip(img, 0, 1).reshape(size, 2, size, 2, 3).mean(axis=(1, 3))
    return torch.tensor(img, dtype=torch.float32).permute(2, 0, 1).contiguous()


def as_image(x: torch.Tensor) -> np.ndarray:
    """(3, H, W) tensor -> (H, W, 3) NumPy array for ``plt.imshow``."""
    return x.detach().clamp(0, 1).permute(1, 2, 0).cpu().numpy()
