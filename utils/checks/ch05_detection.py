"""Checkers for section 5.2 (object detection and tracking)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, numbers, tolerance


def _reference_iou(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference_nms(boxes, scores, threshold) -> list[int]:
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept: list[int] = []
    for i in order:
        if all(_reference_iou(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


def _as_index_list(value, what: str) -> list[int]:
    arr = np.asarray(value)
    if arr.dtype == bool:
        raise Wrong(f"{what} returned a boolean mask; return the *indices* of the kept boxes "
                    "(e.g. np.flatnonzero(mask)), highest score first")
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)
                         and not np.all(arr == np.round(arr))):
        raise Wrong(f"{what} should return a 1-D list or array of integer indices, got {arr!r}")
    return [int(i) for i in arr.reshape(-1)]


def _random_boxes(rng, n, size=30):
    corners = rng.integers(0, size, size=(n, 2, 2))
    return np.concatenate([corners.min(axis=1), corners.max(axis=1) + rng.integers(1, 8, size=(n, 2))],
                          axis=1).astype(float)


# --- 5.2 Object detection and tracking ------------------------------------------------------

@exercise("5.2.1", "IoU of two boxes")
def _check_iou(iou) -> str:
    cases = [
        ([0, 0, 4, 4], [2, 2, 6, 6], "two squares overlapping in a 2x2 corner"),
        ([0, 0, 4, 4], [0, 0, 8, 8], "a box inside a larger one"),
        ([0, 0, 4, 4], [0, 0, 4, 4], "identical boxes"),
        ([0, 0, 4, 4], [4, 0, 8, 4], "boxes that touch along an edge"),
        ([0, 0, 2, 2], [5, 5, 7, 7], "boxes far apart (diagonally)"),
        ([0, 0, 10, 2], [3, -4, 5, 8], "a cross: neither box contains a corner of the other"),
        ([0.5, 0.5, 2.5, 1.5], [1.0, 0.0, 3.0, 1.0], "boxes with fractional coordinates"),
    ]
    for a, b, name in cases:
        try:
            got = float(iou(np.array(a, float), np.array(b, float)))
        except (TypeError, ValueError) as err:
            raise Wrong(f"iou({a}, {b}) should return a number, but: {err}")
        expected = _reference_iou(a, b)
        if np.isclose(got, expected, atol=1e-9):
            continue
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        area_a, area_b = (a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1])
        if inter > 0 and np.isclose(got, inter / (area_a + area_b)):
            raise Wrong(f"iou({a}, {b}) = {got:.4g}: the union is area_a + area_b minus the "
                        "intersection (otherwise the overlap is counted twice)")
        if np.isclose(got, inter):
            raise Wrong(f"iou({a}, {b}) = {got:.4g} is the intersection area; divide it by the union")
        wp = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
        hp = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
        ap, bp = (a[2] - a[0] + 1) * (a[3] - a[1] + 1), (b[2] - b[0] + 1) * (b[3] - b[1] + 1)
        if np.isclose(got, wp * hp / (ap + bp - wp * hp)):
            raise Wrong(f"iou({a}, {b}) = {got:.4g}: you added 1 to widths and heights (the old PASCAL VOC "
                        "convention); in this course a box's width is simply x2 - x1")
        yours, right = numbers(got, expected)
        allows = f"the check allows {tolerance(1e-5, 1e-9)}"
        if name == "boxes far apart (diagonally)" or not 0 <= got <= 1:
            raise Wrong(f"iou({a}, {b}) = {yours} for {name}, expected {right} ({allows}): when boxes do not "
                        "overlap, the width and height of the intersection come out negative (and their "
                        "product positive); clip each to 0 first")
        raise Wrong(f"iou({a}, {b}) = {yours} for {name}; expected {right} ({allows})")
    return "seven pairs: overlap, containment, identity, touching, disjoint, a cross and fractional boxes"


@exercise("5.2.2", "non-maximum suppression")
def _check_nms(nms) -> str:
    hand = (np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [20, 25, 30, 35]], float),
            np.array([0.9, 0.8, 0.7, 0.95]))
    chain = (np.array([[0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]], float), np.array([0.9, 0.8, 0.7]))
    exact = (np.array([[0, 0, 3, 1], [1, 0, 4, 1]], float), np.array([0.9, 0.8]))
    cases = [(hand, 0.5, "the example of section 6"), (chain, 0.5, "a chain"),
             (exact, 0.5, "two boxes with IoU exactly 0.5")]
    rng = np.random.default_rng(52)
    for _ in range(30):
        n = int(rng.integers(2, 12))
        cases.append(((_random_boxes(rng, n), rng.random(n)), float(rng.choice([0.1, 0.3, 0.5, 0.7])),
                      "random boxes"))
    for (boxes, scores), threshold, name in cases:
        got = _as_index_list(nms(boxes.copy(), scores.copy(), threshold), "nms")
        expected = _reference_nms(boxes, scores, threshold)
        if got == expected:
            continue
        if sorted(got) == sorted(expected):
            raise Wrong(f"for {name} you keep the right boxes {sorted(got)} but in the wrong order: "
                        f"return them highest score first, {expected}")
        if name == "a chain" and got == [0]:
            raise Wrong("for a chain of boxes A, B, C (A suppresses B, B overlaps C, A does not) you drop C: "
                        "a box that was suppressed must not suppress others, compare only with kept boxes")
        if name == "two boxes with IoU exactly 0.5" and got == [0]:
            raise Wrong("two boxes with IoU exactly equal to the threshold must both stay: suppress only "
                        "when IoU is *greater* than the threshold")
        if name == "the example of section 6" and got and got[0] == 0:
            raise Wrong("start from the box with the highest score (0.95, index 3), not the first in the list")
        raise Wrong(f"for {name} (threshold {threshold}) you keep {got}; expected {expected}")
    empty = _as_index_list(nms(np.zeros((0, 4)), np.zeros(0), 0.5), "nms")
    if empty:
        raise Wrong(f"with no boxes nms should keep nothing, got {empty}")
    return "the hand example, a suppression chain, IoU exactly at the threshold, no boxes, and 30 random cases"


def _envelope_curve(flags, num_objects):
    flags = np.asarray(flags, dtype=bool)
    tp, fp = np.cumsum(flags), np.cumsum(~flags)
    recall, precision = tp / num_objects, tp / np.maximum(tp + fp, 1)
    return recall, precision, np.maximum.accumulate(precision[::-1])[::-1] if len(flags) else precision


def _ap_at_levels(flags, num_objects, levels, envelope=True):
    """Mean over recall levels of the (enveloped) precision at the first point with recall >= level."""
    recall, precision, env = _envelope_curve(flags, num_objects)
    curve = env if envelope else precision
    idx = np.searchsorted(recall, levels, side="left")
    return float(np.mean([curve[i] if i < len(curve) else 0.0 for i in idx]))


def _ap_all_point(flags, num_objects):
    recall, _, env = _envelope_curve(flags, num_objects)
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * env))


def _ap_cases():
    """Hidden cases: (TP flags sorted by score, number of objects, description)."""
    cases = [([1, 0, 1, 1, 0, 0], 4, "TP, FP, TP, TP, FP, FP with 4 objects"),
             ([1, 1, 1], 3, "three detections, all right, 3 objects"),
             ([0, 0, 0], 3, "three detections, all wrong"),
             ([], 5, "no detections at all"),
             ([0, 1, 0, 1, 1, 0, 1], 7, "a curve whose precision rises again")]
    rng = np.random.default_rng(523)
    for _ in range(25):
        n = int(rng.integers(1, 25))
        flags = (rng.random(n) < rng.uniform(0.3, 0.9)).astype(int).tolist()
        cases.append((flags, int(sum(flags) + rng.integers(0, 6)) or 1, "a random ranked list"))
    return cases


@exercise("5.2.3", "COCO's 101-point average precision")
def _check_ap_101(average_precision_101) -> str:
    cases, got = _ap_cases(), []
    for flags, num_objects, name in cases:
        try:
            got.append(float(average_precision_101(np.array(flags, dtype=bool), num_objects)))
        except (TypeError, ValueError, IndexError) as err:
            raise Wrong(f"average_precision_101({flags}, {num_objects}) should return a number, but: {err!r}")
    got = np.array(got)

    def same(fn):
        return np.allclose(got, [fn(f, n) for f, n, _ in cases], atol=1e-9)

    linspace = np.linspace(0, 1, 101)
    if same(lambda f, n: _ap_at_levels(f, n, linspace)) or same(lambda f, n: _ap_at_levels(f, n, np.arange(101) / 100)):
        return "the worked case, perfect, all wrong, empty and a rising curve, and 25 random ranked lists"

    def reached(f, n):
        recall = _envelope_curve(f, n)[0]
        levels = linspace[linspace <= (recall[-1] if len(recall) else -1)]
        return _ap_at_levels(f, n, levels) if len(levels) else 0.0

    diagnoses = [
        (lambda f, n: _ap_all_point(f, n), "that is VOC's all-point AP (the exact area); COCO averages the "
         "envelope at the 101 recall levels 0, 0.01, ..., 1"),
        (lambda f, n: _ap_at_levels(f, n, np.linspace(0, 1, 11)),
         "that is VOC 2007's 11-point AP; COCO uses 101 recall levels, 0, 0.01, ..., 1"),
        (lambda f, n: _ap_at_levels(f, n, linspace, envelope=False),
         "you read the raw precision; take the envelope first, the best precision at that recall or higher"),
        (lambda f, n: _ap_at_levels(f, n, np.linspace(0, 1, 100)), "average over 101 levels, 0, 0.01, ..., 1, "
         "both ends included"),
        (lambda f, n: _ap_at_levels(f, n, np.arange(100) / 100), "average over 101 levels, 0, 0.01, ..., 1, "
         "both ends included"),
        (reached, "recall levels the curve never reaches count as precision 0 and stay in the average of 101"),
    ]
    k = int(np.flatnonzero(~np.isclose(got, [_ap_at_levels(f, n, linspace) for f, n, _ in cases], atol=1e-9))[0])
    flags, num_objects, name = cases[k]
    yours, right = numbers(got[k], _ap_at_levels(flags, num_objects, linspace))
    where = f"for {name} ({flags}, {num_objects} objects) you return {yours}, expected {right}"
    for fn, message in diagnoses:
        if same(fn):
            raise Wrong(f"{where}: {message}")
    raise Wrong(f"{where} (the check allows {tolerance(1e-5, 1e-9)})")


@exercise("5.2.4", "NMS per class")
def _check_nms_per_class(nms_per_class) -> str:
    rng = np.random.default_rng(524)
    same_spot = (np.array([[0, 0, 10, 10], [0, 0, 10, 10], [1, 0, 11, 10]], float),
                 np.array([0.9, 0.8, 0.7]), np.array([3, 7, 3]))
    cases = [(same_spot, "a 3 and a 7 on the same spot")]
    for _ in range(30):
        n = int(rng.integers(2, 14))
        cases.append(((_random_boxes(rng, n, size=20), rng.random(n), rng.integers(0, 3, n)), "random boxes"))
    for (boxes, scores, labels), name in cases:
        got = _as_index_list(nms_per_class(boxes.copy(), scores.copy(), labels.copy(), 0.4), "nms_per_class")
        expected = []
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            expected += [int(members[k]) for k in _reference_nms(boxes[members], scores[members], 0.4)]
        expected.sort(key=lambda i: -scores[i])
        if got == expected:
            continue
        agnostic = _reference_nms(boxes, scores, 0.4)
        if got == agnostic:
            raise Wrong(f"for {name} you ran NMS across classes: boxes of different labels suppressed "
                        "each other; run it within each class only")
        if sorted(got) == sorted(expected):
            raise Wrong(f"for {name} the kept boxes are right but not sorted by decreasing score: "
                        f"expected {expected}, got {got}")
        if any(g not in range(len(boxes)) for g in got):
            raise Wrong("return indices into the original boxes, not into each class's subset")
        raise Wrong(f"for {name} you keep {got}; expected {expected}")
    return "boxes of different classes on the same spot, and 30 random scenes with three classes"
