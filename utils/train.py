"""The course's one training loop (PyTorch), with a progress bar and a history.

    history = fit(net, train_loader, loss_fn, optimizer, num_epochs=5,
                  val_loader=val_loader, metric=accuracy)
    plot_history(history)

Every application chapter trains with :func:`fit`; the from-scratch chapters
write their own loops on purpose, to show what this one hides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import matplotlib.pyplot as plt

from utils.core import get_device


@dataclass
class History:
    """Per-epoch record of a training run (lists have one entry per epoch)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    metric_name: str = "metric"
    seconds: list[float] = field(default_factory=list)

    @property
    def num_epochs(self) -> int:
        return len(self.train_loss)


def accuracy(y_hat, y) -> float:
    """Share of rows where the arg-max of the logits ``y_hat`` equals the label ``y``."""
    if y_hat.ndim != 2:
        raise ValueError(f"accuracy expects logits of shape (batch, classes), got {tuple(y_hat.shape)}")
    if y.shape[0] != y_hat.shape[0]:
        raise ValueError(f"accuracy: {y_hat.shape[0]} predictions but {y.shape[0]} labels")
    return (y_hat.argmax(dim=1) == y).float().mean().item()


def _check_loader(loader, name: str) -> None:
    try:
        n = len(loader)
    except TypeError:
        return  # an iterable without len() (a generator): accepted as is
    if n == 0:
        raise ValueError(f"{name} is empty: check the dataset and the batch size")


def evaluate(net, loader, loss_fn, metric: Callable | None = None, device=None) -> tuple[float, float | None]:
    """Mean loss (and metric) of ``net`` over ``loader``, without gradients, in eval mode."""
    import torch

    _check_loader(loader, "loader")
    device = device or next(net.parameters()).device
    was_training = net.training
    net.eval()
    total_loss, total_metric, count = 0.0, 0.0, 0
    with torch.no_grad():
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            n = len(y)
            total_loss += loss_fn(y_hat, y).item() * n
            if metric is not None:
                total_metric += metric(y_hat, y) * n
            count += n
    net.train(was_training)
    if count == 0:
        raise ValueError("loader yielded no examples")
    return total_loss / count, (total_metric / count if metric is not None else None)


def fit(
    net,
    train_loader,
    loss_fn: Callable,
    optimizer,
    num_epochs: int,
    *,
    val_loader=None,
    metric: Callable | None = None,
    device=None,
    scheduler=None,
    progress: bool = True,
) -> History:
    """Train ``net`` for ``num_epochs`` epochs and return its :class:`History`.

    Each epoch: one pass over ``train_loader`` in train mode (a progress bar
    shows the running loss), then an evaluation on ``val_loader`` if given.
    ``metric(y_hat, y)`` (for example :func:`accuracy`) is recorded too.
    The model is moved to ``device`` (default: :func:`utils.core.get_device`).
    """
    import time

    import torch
    from tqdm.auto import tqdm

    if not isinstance(net, torch.nn.Module):
        raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, int):
        raise TypeError(f"num_epochs must be an int, got {type(num_epochs).__name__}")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    _check_loader(train_loader, "train_loader")
    if val_loader is not None:
        _check_loader(val_loader, "val_loader")

    device = device or get_device()
    net.to(device)
    history = History(metric_name=getattr(metric, "__name__", "metric") if metric else "metric")
    bar = tqdm(range(num_epochs), desc="epochs", disable=not progress)
    for _ in bar:
        start = time.perf_counter()
        net.train()
        total_loss, total_metric, count = 0.0, 0.0, 0
        for X, y in train_loader:
            X, y = X.to(device), y.to(device)
            y_hat = net(X)
            loss = loss_fn(y_hat, y)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss.item()} in epoch {history.num_epochs + 1}: "
                    "lower the learning rate or check the data for NaN"
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = len(y)
            total_loss += loss.item() * n
            if metric is not None:
                total_metric += metric(y_hat.detach(), y) * n
            count += n
        if scheduler is not None:
            scheduler.step()
        history.train_loss.append(total_loss / count)
        if metric is not None:
            history.train_metric.append(total_metric / count)
        postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
        if val_loader is not None:
            val_loss, val_metric = evaluate(net, val_loader, loss_fn, metric, device)
            history.val_loss.append(val_loss)
            postfix["val_loss"] = f"{val_loss:.4f}"
            if val_metric is not None:
                history.val_metric.append(val_metric)
                postfix[f"val_{history.metric_name}"] = f"{val_metric:.4f}"
        history.seconds.append(time.perf_counter() - start)
        bar.set_postfix(postfix)
    return history


def plot_history(history: History, title: str | None = None):
    """Plot loss (left) and metric (right, if recorded) per epoch; return the figure."""
    if not isinstance(history, History):
        raise TypeError(f"plot_history expects the History returned by fit(), got {type(history).__name__}")
    if history.num_epochs == 0:
        raise ValueError("the history is empty: train for at least one epoch first")
    has_metric = bool(history.train_metric or history.val_metric)
    fig, axes = plt.subplots(1, 2 if has_metric else 1, figsize=(10 if has_metric else 5.5, 3.6), squeeze=False)
    epochs = range(1, history.num_epochs + 1)
    ax = axes[0, 0]
    ax.plot(epochs, history.train_loss, marker="o", label="train")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, marker="o", label="validation")
    ax.set(xlabel="epoch", ylabel="loss", title="Loss per epoch")
    ax.legend()
    if has_metric:
        ax = axes[0, 1]
        if history.train_metric:
            ax.plot(epochs, history.train_metric, marker="o", label="train")
        if history.val_metric:
            ax.plot(epochs, history.val_metric, marker="o", label="validation")
        ax.set(xlabel="epoch", ylabel=history.metric_name, title=f"{history.metric_name.capitalize()} per epoch")
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
