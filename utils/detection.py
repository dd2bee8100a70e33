"""Object detection and tracking from scratch: IoU, NMS, mAP, digit scenes, a tracker.

Section 5.2 builds each of these inline to teach it, then checks that its
version and this one agree. Boxes are always ``(x1, y1, x2, y2)`` in continuous
pixel coordinates: pixel ``(row i, column j)`` covers ``[j, j+1) x [i, i+1)``, so a
box's width is ``x2 - x1`` (no "+1" as in the old PASCAL VOC code).

    from utils import detection
    scenes = detection.make_digit_scenes(200, rng, split="test")
    detection.box_iou(scenes.boxes[0], scenes.boxes[0])       # pairwise IoU matrix
    keep = detection.nms(boxes, scores, iou_threshold=0.5)    # indices kept, best first
    detection.mean_average_precision(pred_boxes, pred_scores, pred_labels,
                                     scenes.boxes, scenes.labels)  # VOC mAP@0.5

No torchvision: its wheels do not match the course's pinned CPU torch, and
writing these few operations is the point of the section.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = [
    "as_boxes", "box_area", "box_iou", "nms", "batched_nms", "match_detections",
    "precision_recall", "average_precision", "mean_average_precision", "DigitScenes", "make_digit_scenes",
    "DigitClip", "make_digit_clip", "Tracker", "mot_metrics", "count_id_switches", "mota", "idf1",
]


# --- boxes ------------------------------------------------------------------------

def as_boxes(boxes, name: str = "boxes") -> np.ndarray:
    """Validate boxes and return them as a float64 array of shape (N, 4).

    Raises ``ValueError`` naming the problem: a wrong shape, non-finite numbers,
    or a box with ``x2 < x1`` or ``y2 < y1`` (corners swapped, or (x, y, w, h)
    passed by mistake). An empty list gives an array of shape (0, 4).
    """
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers (an array of shape (N, 4)), got {type(boxes).__name__}") from err
    if arr.size == 0:
        return arr.reshape(0, 4)
    if arr.ndim != 2 or arr.shape[1] != 4:
        hint = " (one box? write [box] or box[None])" if arr.shape == (4,) else ""
        raise ValueError(f"{name} must have shape (N, 4) as (x1, y1, x2, y2), got shape {arr.shape}{hint}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain NaN or infinite coordinates")
    bad = np.flatnonzero((arr[:, 2] < arr[:, 0]) | (arr[:, 3] < arr[:, 1]))
    if len(bad):
        raise ValueError(f"{name}[{bad[0]}] = {arr[bad[0]].tolist()} has x2 < x1 or y2 < y1: boxes are "
                         "(x1, y1, x2, y2) with the top-left corner first (not (x, y, w, h))")
    return arr


def box_area(boxes) -> np.ndarray:
    """Areas ``(x2 - x1) * (y2 - y1)`` of boxes of shape (N, 4)."""
    b = as_boxes(boxes)
    return (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])


def box_iou(a, b) -> np.ndarray:
    """Pairwise intersection over union: ``iou[i, j]`` of box ``a[i]`` and box ``b[j]``.

    ``a`` has shape (N, 4), ``b`` (M, 4); the result is (N, M) with values in
    [0, 1]. Two boxes of zero area that do not overlap have IoU 0 (not NaN).
    """
    a, b = as_boxes(a, "a"), as_boxes(b, "b")
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(bottom_right - top_left, 0.0, None)  # no overlap -> width or height 0
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _as_scores(scores, n: int, name: str = "scores") -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64).reshape(-1) if np.size(scores) else np.zeros(0)
    if len(s) != n:
        raise ValueError(f"{name} has {len(s)} entries but there are {n} boxes")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contain NaN or infinite values")
    return s


def _check_threshold(t, name="iou_threshold"):
    if not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {t}")
    return float(t)


def nms(boxes, scores, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; returns the indices kept, highest score first.

    Take the highest-scoring box, drop every remaining box whose IoU with it is
    *greater than* ``iou_threshold``, repeat with the next survivor. Ties in
    score keep the earlier box first (stable sort), as torchvision does.
    """
    boxes = as_boxes(boxes)
    scores = _as_scores(scores, len(boxes))
    iou_threshold = _check_threshold(iou_threshold)
    order = np.argsort(-scores, kind="stable")
    iou = box_iou(boxes, boxes)
    suppressed = np.zeros(len(boxes), dtype=bool)
    keep = []
    for i in order:
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return np.array(keep, dtype=np.int64)


def batched_nms(boxes, scores, labels, iou_threshold: float) -> np.ndarray:
    """NMS within each class only: a "3" never suppresses an overlapping "7".

    One call to :func:`nms` does it: the boxes of class number k are shifted by
    k times (the span of all coordinates + 1), so boxes of different classes
    never overlap. Returns the indices kept, best first.
    """
    boxes = as_boxes(boxes)
    scores = _as_scores(scores, len(boxes))
    labels = np.asarray(labels).reshape(-1) if np.size(labels) else np.zeros(0, dtype=np.int64)
    if len(labels) != len(boxes):
        raise ValueError(f"labels has {len(labels)} entries but there are {len(boxes)} boxes")
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    _, group = np.unique(labels, return_inverse=True)  # any labels (strings too) -> 0, 1, 2, ...
    offset = (group * (boxes.max() - boxes.min() + 1.0))[:, None]
    return nms(boxes + offset, scores, iou_threshold)


# --- average precision --------------------------------------------------------------

def match_detections(pred_boxes, pred_scores, gt_boxes, iou_threshold: float = 0.5) -> np.ndarray:
    """PASCAL VOC matching in one image: which detections are true positives.

    Detections are visited from the highest score down; each takes the ground
    truth box it overlaps most. It is a true positive if that IoU is at least
    ``iou_threshold`` and that box is not taken yet; otherwise (a miss, or a
    duplicate of a found object) it is a false positive. Returns a boolean
    array in the order of ``pred_boxes``.
    """
    pred_boxes, gt_boxes = as_boxes(pred_boxes, "pred_boxes"), as_boxes(gt_boxes, "gt_boxes")
    pred_scores = _as_scores(pred_scores, len(pred_boxes), "pred_scores")
    return _match(box_iou(pred_boxes, gt_boxes), pred_scores, _check_threshold(iou_threshold))


def _match(iou: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """VOC matching given the (detections x objects) IoU table; see :func:`match_detections`."""
    is_tp = np.zeros(iou.shape[0], dtype=bool)
    if iou.shape[0] == 0 or iou.shape[1] == 0:
        return is_tp
    best = iou.argmax(axis=1)
    taken = np.zeros(iou.shape[1], dtype=bool)
    for i in np.argsort(-scores, kind="stable"):
        j = best[i]
        if iou[i, j] >= iou_threshold and not taken[j]:
            is_tp[i] = taken[j] = True
    return is_tp


def precision_recall(scores, is_tp, num_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection, visited from the highest score down."""
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    is_tp = np.asarray(is_tp, dtype=bool).reshape(-1)
    if len(scores) != len(is_tp):
        raise ValueError(f"scores has {len(scores)} entries but is_tp has {len(is_tp)}")
    if isinstance(num_gt, bool) or int(num_gt) != num_gt or num_gt < 0:
        raise ValueError(f"num_gt must be a non-negative integer, got {num_gt!r}")
    if is_tp.sum() > num_gt:
        raise ValueError(f"{int(is_tp.sum())} true positives but only {num_gt} ground-truth objects")
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(is_tp[order])
    fp = np.cumsum(~is_tp[order])
    recall = tp / num_gt if num_gt > 0 else np.zeros(len(tp))
    precision = tp / np.maximum(tp + fp, 1)
    return precision, recall


def average_precision(scores, is_tp, num_gt: int) -> float:
    """Average precision with all-point interpolation (PASCAL VOC 2010 and later).

    Sort detections by score; after each, compute precision and recall. Replace
    precision at each recall by the best precision at that recall *or higher*
    (the monotone "envelope"), then sum the area under that step curve exactly,
    one rectangle per recall step. Not the 11-point rule of VOC 2007, and not
    COCO's 101 points. With ``num_gt == 0`` the AP is undefined: ``nan``.
    """
    precision, recall = precision_recall(scores, is_tp, num_gt)
    if num_gt == 0:
        return float("nan")
    mrec = np.concatenate([[0.0], recall, [1.0]])
    mpre = np.concatenate([[0.0], precision, [0.0]])
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # envelope: best precision at recall >= r
    steps = np.flatnonzero(mrec[1:] != mrec[:-1])
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _per_image(values, n_images: int, name: str) -> list:
    values = list(values)
    if len(values) != n_images:
        raise ValueError(f"{name} has {len(values)} images but the ground truth has {n_images}")
    return values


def mean_average_precision(pred_boxes, pred_scores, pred_labels, gt_boxes, gt_labels,
                           iou_threshold: float = 0.5, per_class: bool = False):
    """PASCAL VOC mAP: the mean over classes of :func:`average_precision`.

    Every argument is a list with one entry per image (arrays of shape (k, 4)
    for boxes, (k,) for scores and labels). Detections are matched to ground
    truth of the same class with :func:`match_detections`, pooled over all
    images, and ranked by score; AP uses all-point interpolation. Classes
    without any ground-truth object are left out of the mean (as in VOC);
    a class with objects but no detections has AP 0. ``per_class=True``
    returns ``(mAP, {class: AP})``.
    """
    n = len(gt_boxes)
    if n == 0:
        raise ValueError("mean_average_precision needs at least one image of ground truth")
    pred_boxes = _per_image(pred_boxes, n, "pred_boxes")
    pred_scores = _per_image(pred_scores, n, "pred_scores")
    pred_labels = _per_image(pred_labels, n, "pred_labels")
    gt_labels = _per_image(gt_labels, n, "gt_labels")
    gt_boxes = [as_boxes(b, "gt_boxes") for b in gt_boxes]
    pred_boxes = [as_boxes(b, "pred_boxes") for b in pred_boxes]
    gt_labels = [np.asarray(l).reshape(-1) for l in gt_labels]
    pred_labels = [np.asarray(l).reshape(-1) for l in pred_labels]
    pred_scores = [_as_scores(s, len(b), "pred_scores") for s, b in zip(pred_scores, pred_boxes)]
    for i in range(n):
        if len(gt_labels[i]) != len(gt_boxes[i]):
            raise ValueError(f"image {i}: {len(gt_boxes[i])} ground-truth boxes but {len(gt_labels[i])} labels")
        if len(pred_labels[i]) != len(pred_boxes[i]):
            raise ValueError(f"image {i}: {len(pred_boxes[i])} predicted boxes but {len(pred_labels[i])} labels")
    classes = np.unique(np.concatenate(gt_labels)) if any(len(l) for l in gt_labels) else []
    if len(classes) == 0:
        raise ValueError("the ground truth holds no objects: mAP is undefined")
    iou_threshold = _check_threshold(iou_threshold)
    scores = {c: [] for c in classes.tolist()}
    hits = {c: [] for c in classes.tolist()}
    num_gt = {c: 0 for c in classes.tolist()}
    for i in range(n):
        iou = box_iou(pred_boxes[i], gt_boxes[i])  # one table per image, sliced per class below
        for c in np.unique(gt_labels[i]).tolist():
            num_gt[c] += int(np.sum(gt_labels[i] == c))
        for c in np.unique(pred_labels[i]).tolist():
            if c not in scores:  # a class without any ground truth is not evaluated (VOC)
                continue
            p, g = pred_labels[i] == c, gt_labels[i] == c
            scores[c].append(pred_scores[i][p])
            hits[c].append(_match(iou[np.ix_(p, g)], pred_scores[i][p], iou_threshold))
    aps = {}
    for c in scores:
        s = np.concatenate(scores[c]) if scores[c] else np.zeros(0)
        h = np.concatenate(hits[c]) if hits[c] else np.zeros(0, dtype=bool)
        aps[c] = average_precision(s, h, num_gt[c])
    m = float(np.mean(list(aps.values())))
    return (m, aps) if per_class else m


# --- synthetic scenes of MNIST digits ------------------------------------------------

@lru_cache(maxsize=1)
def _mnist_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST-5k images (float32) and labels, and the course's fixed train/test split."""
    from utils import data

    mnist = data.load("mnist5k")
    train, test = data.train_test_indices(mnist.y, test_size=0.2, seed=0)
    return mnist.images.astype(np.float32), mnist.y, train, test


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize with anti-aliasing of one square image to ``size`` x ``size``."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None, None]
    out = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0, 0]
    return out.clamp(0.0, 1.0).numpy()  # interpolation can overshoot [0, 1] by a rounding error


def _ink_box(patch: np.ndarray, threshold: float) -> np.ndarray:
    rows = np.flatnonzero((patch > threshold).any(axis=1))
    cols = np.flatnonzero((patch > threshold).any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)


@dataclass
class DigitScenes:
    """Synthetic detection scenes: grey images with digit boxes and labels.

    ``images`` has shape (n, canvas, canvas), values in [0, 1]; ``boxes[i]`` is
    an (k_i, 4) array of (x1, y1, x2, y2) around the ink of each digit,
    ``labels[i]`` its digits 0-9, ``sources[i]`` their row in ``mnist5k``.
    """

    images: np.ndarray
    boxes: list = field(default_factory=list)
    labels: list = field(default_factory=list)
    sources: list = field(default_factory=list)
    split: str = "train"

    def __len__(self) -> int:
        return len(self.images)


def _check_range(value, name: str, low: int) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a pair (min, max) of integers, got {value!r}") from err
    if not low <= a <= b:
        raise ValueError(f"{name} must be (min, max) with {low} <= min <= max, got {value!r}")
    return a, b


VAL_DIGITS = 500  # training digits set aside for validation scenes


def _pool(split: str):
    """The MNIST-5k rows a split draws from: ``"train"`` and ``"val"`` partition the course's
    training digits (the last ``VAL_DIGITS`` of them are validation), ``"test"`` is held out."""
    images, labels, train, test = _mnist_split()
    pools = {"train": train[:-VAL_DIGITS], "val": train[-VAL_DIGITS:], "test": test}
    if split not in pools:
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    return images, labels, pools[split]


def make_digit_scenes(n: int, rng: np.random.Generator, canvas: int = 64, digits_per_scene=(1, 3),
                      digit_size=(18, 26), max_iou: float = 0.1, split: str = "train",
                      ink_threshold: float = 0.25) -> DigitScenes:
    """``n`` synthetic scenes of MNIST digits pasted on a black ``canvas`` x ``canvas`` image.

    Each scene holds between ``digits_per_scene[0]`` and ``[1]`` digits, each a
    28x28 MNIST image resized to a random side in ``digit_size`` (pixels) and
    placed at random where its box overlaps no earlier box by more than
    ``max_iou``. Overlapping ink is combined with a maximum. The box is the
    exact extent of the ink (pixels above ``ink_threshold``). ``split="test"``
    draws only from the held-out digits of ``data.train_test_indices`` (seed 0),
    so a detector trained on ``"train"`` scenes is tested on digits it never saw;
    ``split="val"`` draws from training digits that ``"train"`` never uses, for
    validation scenes (monitoring, thresholds) that leave the test set alone.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    lo_k, hi_k = _check_range(digits_per_scene, "digits_per_scene", 0)
    lo_s, hi_s = _check_range(digit_size, "digit_size", 4)
    if hi_s > canvas:
        raise ValueError(f"digit_size {digit_size} does not fit on a {canvas}x{canvas} canvas")
    max_iou = _check_threshold(max_iou, "max_iou")
    images, labels, pool = _pool(split)
    out = DigitScenes(images=np.zeros((n, canvas, canvas), dtype=np.float32), split=split)
    for i in range(n):
        boxes, labs, srcs = [], [], []
        for _ in range(rng.integers(lo_k, hi_k + 1)):
            src = int(rng.choice(pool))
            patch = _resize(images[src], int(rng.integers(lo_s, hi_s + 1)))
            ink = _ink_box(patch, ink_threshold)
            for _attempt in range(30):
                x0, y0 = rng.integers(0, canvas - len(patch) + 1, size=2)
                box = ink + np.array([x0, y0, x0, y0])
                if not boxes or box_iou(box[None], np.array(boxes)).max() <= max_iou:
                    break
            else:
                continue  # no room left for this digit
            region = out.images[i, y0:y0 + len(patch), x0:x0 + len(patch)]
            np.maximum(region, patch, out=region)
            boxes.append(box)
            labs.append(int(labels[src]))
            srcs.append(src)
        out.boxes.append(np.array(boxes, dtype=np.float64).reshape(-1, 4))
        out.labels.append(np.array(labs, dtype=np.int64))
        out.sources.append(np.array(srcs, dtype=np.int64))
    return out


@dataclass
class DigitClip:
    """A short video of digits moving at constant velocity.

    ``frames`` has shape (T, canvas, canvas). For frame t, ``boxes[t]`` is an
    (k, 4) array, ``ids[t]`` the identity (0, 1, ...) of each box and
    ``labels[t]`` its digit. Every digit is visible in every frame here.
    """

    frames: np.ndarray
    boxes: list = field(default_factory=list)
    ids: list = field(default_factory=list)
    labels: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)


def make_digit_clip(rng: np.random.Generator, num_frames: int = 16, num_digits: int = 3, canvas: int = 64,
                    speed=(2.0, 4.0), digit_size=(20, 24), split: str = "test",
                    ink_threshold: float = 0.25) -> DigitClip:
    """A clip of ``num_digits`` held-out digits moving in straight lines across the canvas.

    Each digit gets a random start, direction and ``speed`` (pixels per frame),
    drawn again until it stays fully inside the canvas for all ``num_frames``.
    Paths may cross: when they do, one digit briefly covers another.
    """
    if isinstance(num_frames, bool) or not isinstance(num_frames, (int, np.integer)) or num_frames < 1:
        raise ValueError(f"num_frames must be a positive integer, got {num_frames!r}")
    if isinstance(num_digits, bool) or not isinstance(num_digits, (int, np.integer)) or num_digits < 1:
        raise ValueError(f"num_digits must be a positive integer, got {num_digits!r}")
    lo_s, hi_s = _check_range(digit_size, "digit_size", 4)
    if not 0 <= speed[0] <= speed[1]:
        raise ValueError(f"speed must be (min, max) with 0 <= min <= max pixels per frame, got {speed!r}")
    images, labels, pool = _pool(split)
    t = np.arange(num_frames)[:, None]
    tracks = []
    for _ in range(num_digits):
        src = int(rng.choice(pool))
        patch = _resize(images[src], int(rng.integers(lo_s, hi_s + 1)))
        room = canvas - len(patch)
        for _attempt in range(1000):
            angle, v = rng.uniform(0, 2 * np.pi), rng.uniform(*speed)
            velocity = v * np.array([np.cos(angle), np.sin(angle)])
            start = rng.uniform(0, room, size=2)
            path = np.round(start + t * velocity).astype(int)  # top-left corner per frame
            if path.min() >= 0 and path.max() <= room:
                break
        else:
            raise ValueError(f"cannot fit a path of {num_frames} frames at speed {speed} "
                             f"on a {canvas}-pixel canvas")
        tracks.append((src, patch, _ink_box(patch, ink_threshold), path))
    clip = DigitClip(frames=np.zeros((num_frames, canvas, canvas), dtype=np.float32))
    for f in range(num_frames):
        boxes = []
        for src, patch, ink, path in tracks:
            x0, y0 = path[f]
            region = clip.frames[f, y0:y0 + len(patch), x0:x0 + len(patch)]
            np.maximum(region, patch, out=region)
            boxes.append(ink + np.array([x0, y0, x0, y0]))
        clip.boxes.append(np.array(boxes))
        clip.ids.append(np.arange(num_digits))
        clip.labels.append(np.array([labels[src] for src, *_ in tracks], dtype=np.int64))
    return clip


# --- tracking -----------------------------------------------------------------------

def _assign(cost: np.ndarray, allowed: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one matching (Hungarian algorithm) among allowed pairs."""
    from scipy.optimize import linear_sum_assignment

    if cost.size == 0 or not allowed.any():
        return []
    rows, cols = linear_sum_assignment(np.where(allowed, cost, 1e6))
    return [(int(r), int(c)) for r, c in zip(rows, cols) if allowed[r, c]]


class Tracker:
    """Tracking by detection: detections are linked to tracks moved by a motion model.

    Every frame:

    1. *predict*: move each track to where it should be now. Constant velocity
       shifts its last measured box by its velocity times the frames since that
       measurement; ``motion="none"`` leaves it where it was last seen.
    2. *match*: pair predictions with detections by the Hungarian algorithm on
       1 - IoU, among pairs with IoU >= ``iou_threshold``; then pair the
       leftovers by centre distance, among pairs closer than ``max_distance``
       pixels (IoU is 0 for a thin digit that moved more than its width, and
       says nothing about how far apart two boxes are).
    3. *update*: a matched track takes the detection's box and updates its
       velocity (a running average, weight ``velocity_weight`` on the new
       measurement); every unmatched detection starts a new track; a track
       unmatched for more than ``max_age`` frames is dropped.

    ``update(boxes)`` returns one track id per detection.
    """

    def __init__(self, iou_threshold: float = 0.3, max_distance: float = 8.0, max_age: int = 3,
                 motion: str = "constant_velocity", velocity_weight: float = 0.5):
        if motion not in ("constant_velocity", "none"):
            raise ValueError(f"motion must be 'constant_velocity' or 'none', got {motion!r}")
        if isinstance(max_age, bool) or not isinstance(max_age, (int, np.integer)) or max_age < 0:
            raise ValueError(f"max_age must be a non-negative integer (frames), got {max_age!r}")
        if not max_distance >= 0:
            raise ValueError(f"max_distance must be a non-negative number of pixels, got {max_distance!r}")
        self.iou_threshold = _check_threshold(iou_threshold)
        self.velocity_weight = _check_threshold(velocity_weight, "velocity_weight")
        self.max_distance, self.max_age, self.motion = float(max_distance), int(max_age), motion
        self.tracks: list[dict] = []  # id, last (measured box), velocity (of the centre), misses, hits
        self.next_id = 0

    def predict(self) -> np.ndarray:
        """Where each track should be in the coming frame: boxes of shape (k, 4).

        The box keeps the size it was last measured with, so a prediction is
        always a valid box.
        """
        if not self.tracks:
            return np.zeros((0, 4))
        last = np.array([t["last"] for t in self.tracks])
        if self.motion == "none":
            return last
        shift = np.array([t["velocity"] * (t["misses"] + 1) for t in self.tracks])
        return last + np.concatenate([shift, shift], axis=1)

    def update(self, boxes) -> np.ndarray:
        """Feed one frame's detections (k, 4); return the track id of each detection."""
        boxes = as_boxes(boxes, "detections")
        predicted = self.predict()
        iou = box_iou(predicted, boxes)
        pairs = _assign(1.0 - iou, iou >= self.iou_threshold)
        rest_t = [r for r in range(len(self.tracks)) if r not in {p[0] for p in pairs}]
        rest_d = [c for c in range(len(boxes)) if c not in {p[1] for p in pairs}]
        centre_p = (predicted[rest_t, :2] + predicted[rest_t, 2:]) / 2
        centre_d = (boxes[rest_d, :2] + boxes[rest_d, 2:]) / 2
        dist = np.linalg.norm(centre_p[:, None] - centre_d[None], axis=-1)
        pairs += [(rest_t[r], rest_d[c]) for r, c in _assign(dist, dist <= self.max_distance)]
        ids = np.full(len(boxes), -1, dtype=np.int64)
        for r, c in pairs:
            track = self.tracks[r]
            centre_shift = (boxes[c, :2] + boxes[c, 2:] - track["last"][:2] - track["last"][2:]) / 2
            measured = centre_shift / (track["misses"] + 1)  # pixels per frame
            w = self.velocity_weight if track["hits"] > 1 else 1.0  # first measurement: take it whole
            track["velocity"] = (1 - w) * track["velocity"] + w * measured
            track.update(last=boxes[c].copy(), misses=0, hits=track["hits"] + 1)
            ids[c] = track["id"]
        matched = {r for r, _ in pairs}
        for r, track in enumerate(self.tracks):
            if r not in matched:
                track["misses"] += 1
        self.tracks = [t for t in self.tracks if t["misses"] <= self.max_age]
        for c in np.flatnonzero(ids < 0):
            self.tracks.append(dict(id=self.next_id, last=boxes[c].copy(), velocity=np.zeros(2), misses=0, hits=1))
            ids[c] = self.next_id
            self.next_id += 1
        return ids


def mot_metrics(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold: float = 0.5) -> dict:
    """CLEAR MOT counts over a clip (Bernardin & Stiefelhagen 2008).

    Each argument is a list with one entry per frame. In each frame, a ground
    truth object keeps its previous track if their IoU is still
    >= ``iou_threshold``; the rest are matched by the Hungarian algorithm on
    1 - IoU. An *identity switch* is counted when an object is matched to a
    different track than the last time it was matched. Returns a dict with
    ``num_gt``, ``misses``, ``false_positives``, ``id_switches`` and
    ``mota = 1 - (misses + false positives + switches) / num_gt``.
    """
    n = len(gt_ids)
    for name, seq in (("gt_boxes", gt_boxes), ("track_ids", track_ids), ("track_boxes", track_boxes)):
        if len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} frames but gt_ids has {n}")
    iou_threshold = _check_threshold(iou_threshold)
    last = {}  # ground-truth id -> track id it was last matched to
    counts = dict(num_gt=0, misses=0, false_positives=0, id_switches=0, matches=0)
    for f in range(n):
        g_ids, h_ids = np.asarray(gt_ids[f]).reshape(-1), np.asarray(track_ids[f]).reshape(-1)
        g_box, h_box = as_boxes(gt_boxes[f], "gt_boxes"), as_boxes(track_boxes[f], "track_boxes")
        if len(g_ids) != len(g_box) or len(h_ids) != len(h_box):
            raise ValueError(f"frame {f}: the number of ids and of boxes differ")
        iou = box_iou(g_box, h_box)
        pairs = []
        for gi, g in enumerate(g_ids):  # keep last frame's correspondences while they hold
            if g in last and last[g] in h_ids:
                hj = int(np.flatnonzero(h_ids == last[g])[0])
                if iou[gi, hj] >= iou_threshold:
                    pairs.append((gi, hj))
        free_g = [i for i in range(len(g_ids)) if i not in {p[0] for p in pairs}]
        free_h = [j for j in range(len(h_ids)) if j not in {p[1] for p in pairs}]
        sub = iou[np.ix_(free_g, free_h)]
        pairs += [(free_g[r], free_h[c]) for r, c in _assign(1.0 - sub, sub >= iou_threshold)]
        for gi, hj in pairs:
            g, h = g_ids[gi], h_ids[hj]
            if g in last and last[g] != h:
                counts["id_switches"] += 1
            last[g] = h
        counts["num_gt"] += len(g_ids)
        counts["matches"] += len(pairs)
        counts["misses"] += len(g_ids) - len(pairs)
        counts["false_positives"] += len(h_ids) - len(pairs)
    errors = counts["misses"] + counts["false_positives"] + counts["id_switches"]
    counts["mota"] = 1.0 - errors / counts["num_gt"] if counts["num_gt"] else float("nan")
    return counts


def idf1(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold: float = 0.5) -> dict:
    """Identity F1 (Ristani et al. 2016): how long each object keeps *one* track id.

    Every true identity is paired with at most one track id, once for the whole clip,
    by the Hungarian algorithm maximising IDTP: the number of frames in which the pair's
    boxes overlap with IoU >= ``iou_threshold``. Then ``IDF1 = 2 IDTP / (true boxes +
    tracked boxes)``. Returns a dict with ``idtp``, ``num_gt``, ``num_pred`` and ``idf1``.
    """
    n = len(gt_ids)
    for name, seq in (("gt_boxes", gt_boxes), ("track_ids", track_ids), ("track_boxes", track_boxes)):
        if len(seq) != n:
            raise ValueError(f"{name} has {len(seq)} frames but gt_ids has {n}")
    iou_threshold = _check_threshold(iou_threshold)
    flat_g = [np.asarray(g).reshape(-1) for g in gt_ids]
    flat_h = [np.asarray(h).reshape(-1) for h in track_ids]
    g_all = sorted({int(g) for ids in flat_g for g in ids})
    h_all = sorted({int(h) for ids in flat_h for h in ids})
    gi, hi = {g: i for i, g in enumerate(g_all)}, {h: j for j, h in enumerate(h_all)}
    overlap = np.zeros((len(g_all), len(h_all)))
    num_gt = num_pred = 0
    for f in range(n):
        g_box, h_box = as_boxes(gt_boxes[f], "gt_boxes"), as_boxes(track_boxes[f], "track_boxes")
        if len(flat_g[f]) != len(g_box) or len(flat_h[f]) != len(h_box):
            raise ValueError(f"frame {f}: the number of ids and of boxes differ")
        num_gt, num_pred = num_gt + len(g_box), num_pred + len(h_box)
        hit = box_iou(g_box, h_box) >= iou_threshold
        for a, b in zip(*np.nonzero(hit)):
            overlap[gi[int(flat_g[f][a])], hi[int(flat_h[f][b])]] += 1
    pairs = _assign(-overlap, overlap > 0)
    idtp = int(sum(overlap[r, c] for r, c in pairs))
    total = num_gt + num_pred
    return dict(idtp=idtp, num_gt=num_gt, num_pred=num_pred, idf1=2 * idtp / total if total else float("nan"))


def count_id_switches(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold: float = 0.5) -> int:
    """Number of identity switches over a clip (see :func:`mot_metrics`)."""
    return mot_metrics(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold)["id_switches"]


def mota(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold: float = 0.5) -> float:
    """Multiple object tracking accuracy, 1 - (misses + false positives + ID switches) / objects."""
    return mot_metrics(gt_ids, gt_boxes, track_ids, track_boxes, iou_threshold)["mota"]
