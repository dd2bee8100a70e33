"""Vision helpers shared by chapter 5: the MNIST-5k split, a small CNN, augmentation,
and one cached digit classifier (the "judge" that later sections use).

    from utils.vision import mnist_split, MnistCNN, augment, mnist_classifier
    X_train, y_train, X_test, y_test = mnist_split()   # (N, 1, 28, 28) float32 in [0, 1]
    judge = mnist_classifier()                          # trained once, then loaded from disk

The classifier lives in ``<repo>/.cache/models/`` (git-ignored). Its file name carries
a short hash of the training recipe and the torch version, so a changed recipe trains
a new model instead of silently loading an old one. Set the environment variable
``DLCOURSE_CACHE_DIR`` (or pass ``cache_dir=``) to keep the cache somewhere else.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CACHE_ENV = "DLCOURSE_CACHE_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent

# The recipe of the cached classifier. Compact on purpose: it must train in about
# 16 s of CPU time on one thread and still reach >= 0.97 held-out accuracy on
# MNIST-5k (0.977 with these settings).
JUDGE_CONFIG = {
    "model": {"channels": [12, 24], "hidden": 64, "dropout": 0.25},
    "epochs": 8,
    "batch_size": 64,
    "lr": 3e-3,
    "weight_decay": 1e-4,
    "seed": 0,
    "split": {"test_size": 0.2, "seed": 0},
    "min_accuracy": 0.97,
}


def mnist_split(test_size: float = 0.2, seed: int = 0):
    """The course's MNIST-5k split: ``(X_train, y_train, X_test, y_test)`` as torch tensors.

    Images are float32 of shape ``(N, 1, 28, 28)`` with pixels in [0, 1]; labels are
    int64. The data set is sorted by class, so the split is shuffled and stratified
    (:func:`utils.data.train_test_indices`): with the defaults 4,000 training and
    1,000 test images, 100 test images per digit.
    """
    from utils import data

    images, labels = mnist_images()
    train, test = data.train_test_indices(labels, test_size=test_size, seed=seed)
    # fancy indexing copies, so a caller that edits the tensors leaves the cache intact
    return (torch.from_numpy(images[train]).unsqueeze(1), torch.from_numpy(labels[train]),
            torch.from_numpy(images[test]).unsqueeze(1), torch.from_numpy(labels[test]))


@functools.lru_cache(maxsize=1)
def mnist_images() -> tuple[np.ndarray, np.ndarray]:
    """All of MNIST-5k, still SORTED by class: float32 images (5000, 28, 28) in [0, 1]
    and int64 labels (5000,). Parsed once per process (the CSV takes seconds); the
    arrays are read-only, so no caller can change them for the next one."""
    from utils import data

    ds = data.load("mnist5k")
    images, labels = ds.images.astype(np.float32), ds.y.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


class MnistCNN(nn.Module):
    """A small CNN for 1x28x28 digits: two conv blocks with batch norm, then dropout.

    ``conv(3x3) -> BatchNorm -> ReLU -> MaxPool(2)`` twice (28 -> 14 -> 7 pixels),
    then ``Dropout -> Linear -> ReLU -> Dropout -> Linear`` to 10 logits.
    """

    def __init__(self, channels=(16, 32), hidden: int = 64, dropout: float = 0.25, num_classes: int = 10):
        super().__init__()
        channels = tuple(channels)
        if len(channels) != 2 or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c > 0
                                         for c in channels):
            raise ValueError(f"channels must be two positive ints, e.g. (16, 32), got {channels}")
        if isinstance(hidden, bool) or not isinstance(hidden, (int, np.integer)) or hidden < 1:
            raise ValueError(f"hidden must be a positive int, got {hidden!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        c1, c2 = (int(c) for c in channels)
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 7 * 7, int(hidden)), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(int(hidden), int(num_classes)),
        )

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"MnistCNN expects images of shape (batch, 1, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def _torch_generator(rng_or_generator):
    """A torch.Generator from a torch.Generator, a numpy Generator or an int seed."""

    if isinstance(rng_or_generator, torch.Generator):
        return rng_or_generator
    if isinstance(rng_or_generator, np.random.Generator):
        return torch.Generator().manual_seed(int(rng_or_generator.integers(0, 2**63 - 1)))
    if isinstance(rng_or_generator, (int, np.integer)) and not isinstance(rng_or_generator, bool):
        return torch.Generator().manual_seed(int(rng_or_generator))
    raise TypeError("augment needs a torch.Generator, a numpy Generator or an int seed, "
                    f"got {type(rng_or_generator).__name__}")


def augment(X, rng_or_generator, max_shift: int = 2, max_degrees: float = 10.0):
    """Random shifts and rotations of a batch of images, one random pair per image.

    ``X``: float tensor ``(N, C, H, W)``. Each image is rotated about its centre by an
    angle uniform in ``[-max_degrees, max_degrees]`` and shifted by whole pixels drawn
    uniformly from ``{-max_shift, ..., max_shift}`` (x and y independently). Pixels that
    come in from outside are 0 (black). Written with ``affine_grid`` + ``grid_sample``
    (bilinear), so it runs on any device and the same seed gives the same batch.
    With ``max_degrees=0`` a shift moves pixels exactly (no blur).
    """
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"augment expects a torch tensor of shape (N, C, H, W), got {type(X).__name__}")
    if X.ndim != 4 or X.shape[0] == 0:
        raise ValueError(f"augment expects a non-empty batch of shape (N, C, H, W), got {tuple(X.shape)}")
    if not X.is_floating_point():
        raise TypeError(f"augment expects floating-point images, got dtype {X.dtype}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative int (pixels), got {max_shift!r}")
    if isinstance(max_degrees, bool) or not isinstance(max_degrees, (int, float)) \
            or not 0 <= max_degrees <= 180:
        raise ValueError(f"max_degrees must be a number in [0, 180], got {max_degrees!r}")
    gen = _torch_generator(rng_or_generator)
    n, _, h, w = X.shape
    angle = (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * math.radians(max_degrees)
    shift = torch.randint(-int(max_shift), int(max_shift) + 1, (n, 2), generator=gen).to(torch.float64)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # affine_grid maps each OUTPUT pixel (normalised coords in [-1, 1]) to where it is read
    # in the INPUT. To move content by (dx, dy) pixels, read from (x - dx, y - dy); one
    # pixel is 2 / W in normalised x and 2 / H in normalised y.
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
    theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
    theta[:, 0, 2] = -2 * shift[:, 0] / w
    theta[:, 1, 2] = -2 * shift[:, 1] / h
    theta = theta.to(dtype=X.dtype, device=X.device)
    grid = F.affine_grid(theta, list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def config_hash(config: dict | None = None) -> str:
    """Eight hex digits of the recipe plus the torch version: the cache file's key."""

    config = JUDGE_CONFIG if config is None else config
    text = json.dumps({"config": config, "torch": torch.__version__.split("+")[0]}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def cache_path(cache_dir=None) -> Path:
    """Where :func:`mnist_classifier` keeps its weights (the folder is created on save)."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or (REPO_ROOT / ".cache" / "models")
    if not isinstance(cache_dir, (str, os.PathLike)):
        raise TypeError(f"cache_dir must be a path, got {type(cache_dir).__name__}")
    return Path(cache_dir) / f"mnist_cnn_{config_hash()}.pt"


def _train_judge(config: dict):
    """Train the classifier of ``config`` on the CPU; return (net, held-out accuracy).

    Call it inside ``torch.random.fork_rng``: it seeds torch's global generator.
    """
    from torch.utils.data import DataLoader, TensorDataset

    from utils.train import accuracy, fit

    X_train, y_train, X_test, y_test = mnist_split(**config["split"])
    torch.manual_seed(config["seed"])  # weights and dropout masks
    net = MnistCNN(**config["model"])
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=config["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(config["seed"]))
    optimizer = torch.optim.Adam(net.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    # fit() steps the scheduler once per epoch: a cosine decay from lr to almost 0.
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config["epochs"])
    fit(net, loader, torch.nn.functional.cross_entropy, optimizer, config["epochs"],
        device=torch.device("cpu"), scheduler=scheduler, progress=False)
    net.eval()
    with torch.no_grad():
        acc = accuracy(net(X_test), y_test)
    return net, acc


def mnist_classifier(device=None, cache_dir=None, verbose: bool = True):
    """The course's digit classifier (:class:`MnistCNN`, eval mode) with an on-disk cache.

    Loaded from :func:`cache_path` when the file is there; otherwise trained (seeded,
    about 16 s of CPU time on one thread, recipe :data:`JUDGE_CONFIG`), checked to reach
    ``min_accuracy`` on the held-out split of :func:`mnist_split`, and saved atomically
    (temporary file in the same folder, then ``os.replace``), so two notebooks that
    train at once never leave a half-written file behind.

    The random state of the caller is left untouched (training runs inside
    ``torch.random.fork_rng``), so a notebook gives the same numbers whether the
    cache was there or not. The parameters are frozen (``requires_grad=False``);
    gradients with respect to the *input* (saliency, a generator's loss) still flow.
    """
    from utils.core import get_device

    if device is None:
        device = get_device()
    elif isinstance(device, str):
        device = torch.device(device)
    elif not isinstance(device, torch.device):
        raise TypeError(f"device must be None, a string like 'cpu' or a torch.device, got {type(device).__name__}")
    path = cache_path(cache_dir)
    if path.exists():
        with torch.random.fork_rng(devices=[]):
            net = MnistCNN(**JUDGE_CONFIG["model"])
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        except Exception as err:  # a corrupt or foreign file: say where it is
            raise RuntimeError(f"could not load the cached classifier {path} ({err}); "
                               "delete the file to retrain it") from err
        if verbose:
            print(f"mnist_classifier: loaded {path.name} from {path.parent}")
    else:
        with torch.random.fork_rng(devices=[]):
            net, acc = _train_judge(JUDGE_CONFIG)
        if acc < JUDGE_CONFIG["min_accuracy"]:
            raise RuntimeError(f"the classifier reached only {acc:.3f} held-out accuracy "
                               f"(< {JUDGE_CONFIG['min_accuracy']}); not caching it")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            torch.save(net.state_dict(), tmp)
            os.chmod(tmp, 0o644)  # mkstemp makes 0600 files; a cache is for everyone to read
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        if verbose:
            print(f"mnist_classifier: trained ({acc:.3f} held-out accuracy), saved to {path}")
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    return net.to(device)
