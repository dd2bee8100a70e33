"""Adversarial examples in the L-infinity ball: FGSM, PGD, a random-noise baseline,
accuracy under attack, and adversarial training (section 9.10).

    from utils.adversarial import fgsm, pgd, random_sign_noise, attack_accuracy, adversarial_fit
    X_adv = fgsm(net, X, y, eps=0.1)                       # one signed-gradient step
    X_adv = pgd(net, X, y, eps=0.1, alpha=0.01, steps=20)  # projected gradient ascent
    acc = attack_accuracy(net, X, y, lambda m, X, y: pgd(m, X, y, 0.1, alpha=0.01, steps=20))
    acc = attack_accuracy(net, X, y, [fgsm_attack, pgd_attack])  # per-image worst case of both

Images are float tensors with pixels in ``[0, 1]``; every attack returns images that
stay in that range and within ``eps`` of the originals in every pixel (the threat
model). Attacks need gradients with respect to the *input* only: they work on a
model whose parameters are frozen, and never touch the parameters' ``.grad``.
Call them with the model in eval mode (``attack_accuracy`` and ``robust_mask`` do it for you), so that
batch norm and dropout behave as at test time.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

PIXEL_RANGE = (0.0, 1.0)


def _check_images(X, y=None) -> None:
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise TypeError(f"X must be a floating-point torch tensor of images, got {type(X).__name__}"
                        + (f" of dtype {X.dtype}" if isinstance(X, torch.Tensor) else ""))
    if X.ndim < 2 or X.shape[0] == 0:
        raise ValueError(f"X must be a non-empty batch (N, ...), got shape {tuple(X.shape)}")
    if y is not None:
        if not isinstance(y, torch.Tensor) or y.ndim != 1 or len(y) != len(X):
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"y must be a 1-D tensor with one label per image ({len(X)}), got {shape}")


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)) or not 0 <= eps <= 1:
        raise ValueError(f"eps must be a number in [0, 1] (pixels are in [0, 1]), got {eps!r}")
    return float(eps)


def _device_of(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def input_gradient(model, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """``(loss, grad)``: the cross-entropy of each image, shape ``(N,)``, and its gradient
    with respect to the image, shape of ``X``. The loss is summed before differentiating,
    so each image's gradient is that of its own loss (the batch size does not scale it).
    The model's parameters get no gradient."""
    _check_images(X, y)
    device = _device_of(model)
    X = X.detach().to(device).requires_grad_(True)
    loss = F.cross_entropy(model(X), y.to(device), reduction="none")
    (grad,) = torch.autograd.grad(loss.sum(), X)
    return loss.detach(), grad.detach()


def project_linf(X_adv, X, eps: float, clip=PIXEL_RANGE) -> torch.Tensor:
    """The nearest image to ``X_adv`` that is within ``eps`` of ``X`` in every pixel and in
    the pixel range: clamp the difference to ``[-eps, eps]``, then the pixels to ``clip``.
    (Both sets are boxes, so clamping coordinate by coordinate is the exact projection.)"""
    eps = _check_eps(eps)
    if X_adv.shape != X.shape:
        raise ValueError(f"X_adv {tuple(X_adv.shape)} and X {tuple(X.shape)} must have the same shape")
    delta = (X_adv - X).clamp(-eps, eps)
    return (X + delta).clamp(*clip)


def fgsm(model, X, y, eps: float, clip=PIXEL_RANGE) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al., 2015): ``clip(X + eps * sign(grad))``,
    the step that increases the linearised loss most under an L-infinity budget ``eps``."""
    eps = _check_eps(eps)
    _, grad = input_gradient(model, X, y)
    X = X.to(grad.device)
    return (X + eps * grad.sign()).clamp(*clip).detach()


def pgd(model, X, y, eps: float, *, alpha: float, steps: int, random_start: bool = True,
        generator: torch.Generator | None = None, clip=PIXEL_RANGE) -> torch.Tensor:
    """Projected gradient descent on the loss (Madry et al., 2018): from a random point of
    the ball (or from ``X``), ``steps`` signed-gradient steps of size ``alpha``, each
    followed by :func:`project_linf`. ``generator`` (a CPU ``torch.Generator``) makes the
    random start repeatable on any device."""
    eps = _check_eps(eps)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not isinstance(alpha, (int, float)) or not alpha > 0:
        raise ValueError(f"alpha (the step size) must be a positive number, got {alpha!r}")
    _check_images(X, y)
    X = X.detach().to(_device_of(model))
    X_adv = X.clone()
    if random_start and eps > 0:
        noise = (torch.rand(X.shape, generator=generator, dtype=X.dtype) * 2 - 1) * eps
        X_adv = project_linf(X + noise.to(X.device), X, eps, clip)
    for _ in range(int(steps)):
        _, grad = input_gradient(model, X_adv, y)
        X_adv = project_linf(X_adv + alpha * grad.sign(), X, eps, clip)
    return X_adv.detach()


def random_sign_noise(X, eps: float, generator: torch.Generator | None = None, clip=PIXEL_RANGE) -> torch.Tensor:
    """The baseline perturbation of the same size: ``clip(X + eps * s)`` with random signs
    ``s`` in {-1, +1}. Same L-infinity norm as FGSM, no knowledge of the model."""
    eps = _check_eps(eps)
    _check_images(X)
    signs = torch.randint(0, 2, X.shape, generator=generator).to(X.dtype) * 2 - 1
    return (X + eps * signs.to(X.device)).clamp(*clip)


def predict(model, X, batch_size: int = 500) -> torch.Tensor:
    """Softmax probabilities ``(N, classes)`` of ``model`` in eval mode, on the CPU."""
    _check_images(X)
    was_training = model.training
    model.eval()
    device = _device_of(model)
    with torch.no_grad():
        out = torch.cat([F.softmax(model(X[i:i + batch_size].to(device)), dim=1).cpu()
                         for i in range(0, len(X), batch_size)])
    model.train(was_training)
    return out


def robust_mask(model, X, y, attacks=(), batch_size: int = 500) -> torch.Tensor:
    """Boolean ``(N,)`` on the CPU: which images ``model`` (in eval mode) classifies
    correctly clean *and* under every attack in ``attacks`` (each a function
    ``attack(model, X_batch, y_batch) -> X_adv``). Per-image worst case: an image counts
    as robust only if no attack fools the model on it. Each attack runs only on the images
    still standing, so a strong, slow attack after a fast one costs less."""
    _check_images(X, y)
    if callable(attacks):
        attacks = [attacks]
    was_training = model.training
    model.eval()
    device = _device_of(model)
    ok = []
    for i in range(0, len(X), batch_size):
        Xb, yb = X[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
        with torch.no_grad():
            alive = model(Xb).argmax(dim=1) == yb
        for attack in attacks:
            idx = alive.nonzero().flatten()
            if len(idx) == 0:
                break
            X_adv = attack(model, Xb[idx], yb[idx])
            with torch.no_grad():
                alive[idx] = model(X_adv).argmax(dim=1) == yb[idx]
        ok.append(alive.cpu())
    model.train(was_training)
    return torch.cat(ok)


def attack_accuracy(model, X, y, attacks=(), batch_size: int = 500) -> float:
    """Accuracy of ``model`` under the per-image worst case of ``attacks`` (one attack
    function or a list; none: the clean accuracy). See :func:`robust_mask`."""
    return robust_mask(model, X, y, attacks, batch_size).float().mean().item()


def adversarial_fit(net, X, y, *, epochs: int, batch_size: int = 64, lr: float = 3e-3,
                    weight_decay: float = 1e-4, eps: float = 0.0, alpha: float | None = None,
                    seed: int = 0, device=None) -> list[float]:
    """Train ``net`` with Adam and a cosine schedule (the recipe of the course's digit
    classifier) and return the mean training loss of each epoch.

    With ``eps > 0`` every batch is replaced by its FGSM-with-random-start version
    ("fast adversarial training", Wong et al., 2020): a uniform random point of the
    ``eps`` ball, then one signed-gradient step of size ``alpha`` (default ``1.25 * eps``),
    projected back. With ``eps = 0`` it is ordinary training, with the same batches in
    the same order, so the two runs differ only in what the model sees.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    eps = _check_eps(eps)
    _check_images(X, y)
    device = device or _device_of(net)
    net.to(device)
    alpha = 1.25 * eps if alpha is None else alpha
    order_gen = torch.Generator().manual_seed(seed)       # the batches: the same with or without attack
    attack_gen = torch.Generator().manual_seed(seed + 1)  # the random starts
    optimizer = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    steps_per_epoch = -(-len(X) // batch_size)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=order_gen)
        total = 0.0
        for i in range(0, len(X), batch_size):
            idx = order[i:i + batch_size]
            Xb, yb = X[idx].to(device), y[idx].to(device)
            if eps > 0:
                Xb = pgd(net, Xb, yb, eps, alpha=alpha, steps=1, random_start=True, generator=attack_gen)
            loss = F.cross_entropy(net(Xb), yb)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss.item()}: lower lr")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(idx)
        losses.append(total / len(X))
    return losses
