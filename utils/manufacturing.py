"""Manufacturing helpers for section 8.4: sensor anomaly scores and event-level metrics,
texture patches with drawn defects and a Gaussian (Mahalanobis) model of normal texture,
and a constrained search over process settings."""
from __future__ import annotations

from typing import Callable

import numpy as np


def _labels(labels, what: str = "labels") -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError(f"{what} must be a non-empty 1-D array of 0/1, got shape {y.shape}")
    if not np.isin(y, (0, 1, True, False)).all():
        raise ValueError(f"{what} must hold only 0 and 1")
    return y.astype(bool)


# --- sensor anomalies ------------------------------------------------------------------------

def events(labels) -> list[tuple[int, int]]:
    """The runs of 1s in ``labels`` as half-open ``(start, stop)`` index pairs."""
    y = _labels(labels).astype(int)
    edges = np.diff(np.r_[0, y, 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def event_metrics(labels, alarms) -> dict:
    """Event-level scores of a detector.

    An *event* is a run of labelled readings; it is detected when at least one alarm falls
    inside it (counted once however many alarms it gets). A *false alarm* is a run of
    consecutive alarms that touches no event. Precision = detected events / (detected events
    + false alarms), recall = detected events / events, F1 their harmonic mean (0 when both are 0);
    ``false_per_1000`` is false alarms per 1,000 readings; ``delay`` the readings from each
    detected event's start to its first alarm.
    """
    y, a = _labels(labels), _labels(alarms, "alarms")
    if len(y) != len(a):
        raise ValueError(f"labels and alarms must have the same length, got {len(y)} and {len(a)}")
    truth = events(y)
    detected = [(s, e) for s, e in truth if a[s:e].any()]
    false = sum(1 for s, e in events(a) if not y[s:e].any())
    tp = len(detected)
    precision = tp / (tp + false) if tp + false else 0.0
    recall = tp / len(truth) if truth else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "events": len(truth), "detected": tp,
            "false_alarms": false, "false_per_1000": 1000 * false / len(y),
            "delay": [int(np.argmax(a[s:e])) for s, e in detected]}


def rolling_zscore(x, window: int, eps: float = 0.01) -> np.ndarray:
    """z_t = (x_t - mean of the ``window`` readings before t) / max(their std, ``eps``).

    Only past readings enter (a detector cannot see the future); the first ``window``
    values are NaN. ``eps`` (the sensor's resolution) keeps a flat stretch from dividing by 0.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {x.shape}")
    if not 1 < window < len(x):
        raise ValueError(f"window must be between 2 and len(x) - 1 = {len(x) - 1}, got {window}")
    c1 = np.r_[0.0, np.cumsum(x)]
    c2 = np.r_[0.0, np.cumsum(x * x)]
    t = np.arange(window, len(x))
    mean = (c1[t] - c1[t - window]) / window
    var = (c2[t] - c2[t - window]) / window - mean ** 2
    sd = np.sqrt(np.maximum(var * window / (window - 1), 0.0))
    z = np.full(len(x), np.nan)
    z[window:] = (x[window:] - mean) / np.maximum(sd, eps)
    return z


def lag_matrix(x, lags: int) -> np.ndarray:
    """Rows [x_{t-1}, ..., x_{t-lags}] for t = lags .. len(x)-1 (columns: the last reading first)."""
    x = np.asarray(x, dtype=float)
    return np.stack([x[lags - j:len(x) - j] for j in range(1, lags + 1)], axis=1)


def alarm_threshold(normal_scores, per_1000: float) -> float:
    """The smallest threshold from the scores such that at most ``per_1000`` in 1,000 of
    ``normal_scores`` lie strictly above it (alarms are ``score > threshold``). NaNs are ignored."""
    s = np.asarray(normal_scores, dtype=float)
    s = np.sort(s[~np.isnan(s)])
    if len(s) == 0:
        raise ValueError("normal_scores holds no number")
    allowed = int(np.floor(per_1000 * len(s) / 1000 + 1e-9))
    if allowed >= len(s):
        return float(-np.inf)
    return float(s[len(s) - 1 - allowed])


# --- visual inspection -----------------------------------------------------------------------

def patches(image, size: int, stride: int | None = None) -> np.ndarray:
    """Square ``size`` x ``size`` patches of a 2-D image on a grid with step ``stride``."""
    image = np.asarray(image, dtype=float)
    stride = stride or size
    if image.ndim != 2 or min(image.shape) < size:
        raise ValueError(f"need a 2-D image at least {size} pixels a side, got shape {image.shape}")
    return np.stack([image[i:i + size, j:j + size] for i in range(0, image.shape[0] - size + 1, stride)
                     for j in range(0, image.shape[1] - size + 1, stride)])


def draw_defect(patch, kind: str, rng: np.random.Generator, contrast: float = 1.0):
    """A copy of ``patch`` with a synthetic defect, and the defect's mask.

    ``scratch``: a thin straight line 40-70 % of the patch long at a random angle;
    ``spot``: a round blob of radius 2-4 pixels. The defect changes the intensity by
    ``contrast`` times the patch's standard deviation, brighter or darker at random.
    """
    p = np.asarray(patch, dtype=float)
    n = p.shape[0]
    yy, xx = np.mgrid[:n, :n]
    sign = rng.choice([-1.0, 1.0])
    if kind == "scratch":
        length, angle = rng.uniform(0.4, 0.7) * n, rng.uniform(0, np.pi)
        cy, cx = rng.uniform(0.3, 0.7, size=2) * n
        dy, dx = np.sin(angle), np.cos(angle)
        along = (yy - cy) * dy + (xx - cx) * dx
        across = np.abs(-(yy - cy) * dx + (xx - cx) * dy)
        weight = np.clip(2.0 - across, 0, 1) * (np.abs(along) <= length / 2)
    elif kind == "spot":
        r = rng.uniform(2, 4)
        cy, cx = rng.uniform(0.25, 0.75, size=2) * n
        weight = np.clip(r + 0.5 - np.hypot(yy - cy, xx - cx), 0, 1)
    else:
        raise ValueError(f"kind must be 'scratch' or 'spot', got {kind!r}")
    return p + sign * contrast * p.std() * weight, weight > 0


def texture_features(patch, scales=(1.0, 2.0), neighbourhood: int = 3) -> np.ndarray:
    """Per-pixel features (H, W, F): the raw ``neighbourhood`` x ``neighbourhood`` pixels around
    each pixel (0: none), smoothed intensity, gradient magnitude and Laplacian at each scale, and
    the local standard deviation at the largest scale. No pretrained network."""
    from numpy.lib.stride_tricks import sliding_window_view
    from scipy import ndimage

    p = np.asarray(patch, dtype=float)
    maps = []
    if neighbourhood:
        k = neighbourhood
        window = sliding_window_view(np.pad(p, k // 2, mode="reflect"), (k, k))
        maps += list(np.moveaxis(window.reshape(*p.shape, k * k), -1, 0))
    for s in scales:
        maps += [ndimage.gaussian_filter(p, s, mode="reflect"),
                 ndimage.gaussian_gradient_magnitude(p, s, mode="reflect"),
                 ndimage.gaussian_laplace(p, s, mode="reflect")]
    s = max(scales)
    m = ndimage.gaussian_filter(p, s, mode="reflect")
    maps.append(np.sqrt(np.maximum(ndimage.gaussian_filter(p * p, s, mode="reflect") - m * m, 0)))
    return np.stack(maps, axis=-1)


def mahalanobis(F, mean, cov) -> np.ndarray:
    """Mahalanobis distance sqrt((f - mean)^T cov^-1 (f - mean)) of each row of ``F``."""
    F = np.atleast_2d(np.asarray(F, dtype=float))
    d = F - np.asarray(mean, dtype=float)
    return np.sqrt(np.maximum(np.einsum("ij,ij->i", d, np.linalg.solve(cov, d.T).T), 0.0))


class GaussianTexture:
    """A one-class model of defect-free texture: one Gaussian over per-pixel features of the
    training patches; the anomaly map of a patch is each pixel's Mahalanobis distance,
    smoothed over ``smooth`` pixels, and the patch's score is the map's maximum."""

    def __init__(self, smooth: float = 1.0, neighbourhood: int = 3, ridge: float = 0.01):
        self.smooth, self.neighbourhood, self.ridge = smooth, neighbourhood, ridge

    def features(self, patch) -> np.ndarray:
        return texture_features(patch, neighbourhood=self.neighbourhood)

    def fit(self, normal_patches):
        F = np.concatenate([(f := self.features(p)).reshape(-1, f.shape[-1]) for p in normal_patches])
        self.mean_ = F.mean(axis=0)
        cov = np.cov(F, rowvar=False)
        self.cov_ = cov + self.ridge * np.trace(cov) / len(cov) * np.eye(len(cov))
        return self

    def heat_map(self, patch) -> np.ndarray:
        from scipy import ndimage

        F = self.features(patch)
        d = mahalanobis(F.reshape(-1, F.shape[-1]), self.mean_, self.cov_).reshape(F.shape[:2])
        return ndimage.gaussian_filter(d, self.smooth, mode="reflect") if self.smooth > 0 else d

    def score(self, patches) -> np.ndarray:
        return np.array([self.heat_map(p).max() for p in patches])


def high_pass_energy(patch, sigma: float) -> np.ndarray:
    """The filter baseline's map: squared high-pass (patch minus its Gaussian blur at
    ``sigma``), averaged over a window of the same scale."""
    from scipy import ndimage

    p = np.asarray(patch, dtype=float)
    hp = p - ndimage.gaussian_filter(p, sigma, mode="reflect")
    return ndimage.gaussian_filter(hp * hp, sigma, mode="reflect")


# --- process settings ------------------------------------------------------------------------

def recommend_settings(predict: Callable, X, free: list[int], levels: np.ndarray):
    """For each row of ``X`` keep every column fixed except those in ``free``, try every
    combination of their candidate ``levels`` (array: one row of candidate values per free
    column), and return (best settings per row, predicted value there). Candidate values are
    meant to lie inside the observed range, so the model is never asked to extrapolate."""
    X = np.asarray(X, dtype=float)
    levels = np.asarray(levels, dtype=float)
    if levels.shape[0] != len(free):
        raise ValueError(f"levels needs one row per free column ({len(free)}), got shape {levels.shape}")
    grid = np.stack(np.meshgrid(*levels, indexing="ij"), axis=-1).reshape(-1, len(free))
    best_x, best_y = np.empty_like(X), np.empty(len(X))
    for i, row in enumerate(X):
        cand = np.repeat(row[None], len(grid), axis=0)
        cand[:, free] = grid
        pred = np.asarray(predict(cand), dtype=float)
        k = int(np.argmax(pred))
        best_x[i], best_y[i] = cand[k], pred[k]
    return best_x, best_y


class Winsorizer:
    """Clip each column to its training ``q`` and ``1 - q`` quantiles (a scikit-learn transformer):
    process logs hold a few wild values (a failed sensor writes 0) that would dominate a linear model."""

    def __init__(self, q: float = 0.02):
        self.q = q

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=float)
        self.low_, self.high_ = np.quantile(X, self.q, axis=0), np.quantile(X, 1 - self.q, axis=0)
        return self

    def transform(self, X):
        return np.clip(np.asarray(X, dtype=float), self.low_, self.high_)

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)

    def get_params(self, deep=True):
        return {"q": self.q}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self
