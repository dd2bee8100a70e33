"""Each checker of section 5.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
from checker_contract import contract_tests

from utils import detection


def iou(a, b):
    return float(detection.box_iou([a], [b])[0, 0])


def iou_no_clip(a, b):
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def iou_double_counted(a, b):
    w, h = max(0, min(a[2], b[2]) - max(a[0], b[0])), max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]))


def iou_plus_one(a, b):
    w, h = max(0, min(a[2], b[2]) - max(a[0], b[0]) + 1), max(0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = w * h
    return inter / ((a[2] - a[0] + 1) * (a[3] - a[1] + 1) + (b[2] - b[0] + 1) * (b[3] - b[1] + 1) - inter)


def nms(boxes, scores, threshold):
    return detection.nms(boxes, scores, threshold)


def nms_index_order(boxes, scores, threshold):
    return np.sort(detection.nms(boxes, scores, threshold))


def nms_mask(boxes, scores, threshold):
    mask = np.zeros(len(boxes), dtype=bool)
    mask[detection.nms(boxes, scores, threshold)] = True
    return mask


def nms_chain_bug(boxes, scores, threshold):
    """Suppressed boxes still suppress others."""
    order = np.argsort(-scores, kind="stable")
    iou = detection.box_iou(boxes, boxes)
    return [i for i in order if not any(iou[i, j] > threshold for j in order if scores[j] > scores[i])]


def nms_greater_equal(boxes, scores, threshold):
    order = list(np.argsort(-scores, kind="stable"))
    iou = detection.box_iou(boxes, boxes)
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if iou[best, i] < threshold]
    return keep


def nms_no_sort(boxes, scores, threshold):
    iou = detection.box_iou(boxes, boxes)
    keep = []
    for i in range(len(boxes)):
        if all(iou[i, k] <= threshold for k in keep):
            keep.append(i)
    return keep


def _curve(is_tp, num_objects):
    is_tp = np.asarray(is_tp, dtype=bool)
    tp, fp = np.cumsum(is_tp), np.cumsum(~is_tp)
    return tp / num_objects, tp / np.maximum(tp + fp, 1)


def ap_at(levels, envelope=True):
    def ap(is_tp, num_objects):
        recall, precision = _curve(is_tp, num_objects)
        if envelope:
            precision = np.maximum.accumulate(precision[::-1])[::-1]
        idx = np.searchsorted(recall, levels, side="left")
        return float(np.mean([precision[i] if i < len(precision) else 0.0 for i in idx]))
    return ap


def ap_101_arange(is_tp, num_objects):
    """The reference, with the levels written as k / 100 instead of linspace (both are accepted)."""
    return ap_at(np.arange(101) / 100)(is_tp, num_objects)


def ap_all_point(is_tp, num_objects):
    return detection.average_precision(-np.arange(len(is_tp)), is_tp, num_objects) if len(is_tp) else 0.0


def ap_reached_only(is_tp, num_objects):
    recall, _ = _curve(is_tp, num_objects)
    levels = np.linspace(0, 1, 101)
    levels = levels[levels <= (recall[-1] if len(recall) else -1)]
    return ap_at(levels)(is_tp, num_objects) if len(levels) else 0.0


def per_class(boxes, scores, labels, threshold):
    return detection.batched_nms(boxes, scores, labels, threshold)


def per_class_unsorted(boxes, scores, labels, threshold):
    return np.concatenate([np.flatnonzero(labels == c)[detection.nms(boxes[labels == c], scores[labels == c],
                                                                        threshold)] for c in np.unique(labels)])


def per_class_local_indices(boxes, scores, labels, threshold):
    return np.concatenate([detection.nms(boxes[labels == c], scores[labels == c], threshold)
                           for c in np.unique(labels)]) + 100


REFERENCE = {"5.2.1": iou, "5.2.2": nms, "5.2.3": ap_at(np.linspace(0, 1, 101)), "5.2.4": per_class}

WRONG = [
    ("5.2.1", iou_no_clip, "clip each to 0"),
    ("5.2.1", iou_double_counted, "minus the intersection"),
    ("5.2.1", iou_plus_one, "added 1"),
    ("5.2.1", lambda a, b: max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1])),
     "intersection area"),
    ("5.2.1", lambda a, b: 0.5, "expected"),
    ("5.2.2", nms_index_order, "wrong order"),
    ("5.2.2", nms_mask, "boolean mask"),
    ("5.2.2", nms_chain_bug, "suppressed must not suppress"),
    ("5.2.2", nms_greater_equal, "greater"),
    ("5.2.2", nms_no_sort, "highest score"),
    ("5.2.3", ap_all_point, "all-point"),
    ("5.2.3", ap_at(np.linspace(0, 1, 11)), "11-point"),
    ("5.2.3", ap_at(np.linspace(0, 1, 101), envelope=False), "raw precision"),
    ("5.2.3", ap_at(np.linspace(0, 1, 100)), "101 levels"),
    ("5.2.3", ap_reached_only, "never reaches"),
    ("5.2.3", lambda is_tp, n: 0.5, "expected"),
    ("5.2.3", lambda is_tp, n: "0.6", "expected"),
    ("5.2.4", lambda b, s, l, t: detection.nms(b, s, t), "across classes"),
    ("5.2.4", per_class_unsorted, "not sorted"),
    ("5.2.4", per_class_local_indices, "original boxes"),
]


(test_reference_answer_passes, test_wrong_answer_is_rejected_with_a_reason,
 test_stub_is_not_attempted) = contract_tests(REFERENCE, WRONG)


def test_either_spelling_of_the_101_levels_passes():
    from utils.checks import PASSED, evaluate

    assert evaluate("5.2.3", ap_101_arange).status == PASSED
