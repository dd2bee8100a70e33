"""Each checker of section 5.2 accepts the reference answer and rejects plausible mistakes."""
import numpy as np
import pytest

from utils import detection
from utils.checks import FAILED, NOT_ATTEMPTED, PASSED, evaluate


def stub(*args):
    raise NotImplementedError


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


def per_class(boxes, scores, labels, threshold):
    return detection.batched_nms(boxes, scores, labels, threshold)


def per_class_unsorted(boxes, scores, labels, threshold):
    return np.concatenate([np.flatnonzero(labels == c)[detection.nms(boxes[labels == c], scores[labels == c],
                                                                        threshold)] for c in np.unique(labels)])


def per_class_local_indices(boxes, scores, labels, threshold):
    return np.concatenate([detection.nms(boxes[labels == c], scores[labels == c], threshold)
                           for c in np.unique(labels)]) + 100


REFERENCE = {"5.2.1": iou, "5.2.2": nms, "5.2.3": 0.625, "5.2.4": per_class}

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
    ("5.2.3", 0.25 + 0.25 * 2 / 3 + 0.25 * 0.75, "envelope"),
    ("5.2.3", (3 + 5 * 0.75) / 11, "11-point"),
    ("5.2.3", (1 + 2 / 3 + 3 / 4) / 3, "averages the raw precision"),
    ("5.2.3", 0.7, "not it"),
    ("5.2.3", "0.6 or so", "a number"),
    ("5.2.4", lambda b, s, l, t: detection.nms(b, s, t), "across classes"),
    ("5.2.4", per_class_unsorted, "not sorted"),
    ("5.2.4", per_class_local_indices, "original boxes"),
]


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_reference_answer_passes(id):
    result = evaluate(id, REFERENCE[id])
    assert result.status == PASSED, result.message


@pytest.mark.parametrize("id, answer, phrase", WRONG)
def test_wrong_answer_is_rejected_with_a_reason(id, answer, phrase):
    result = evaluate(id, answer)
    assert result.status == FAILED
    assert phrase in result.message, result.message


@pytest.mark.parametrize("id", sorted(REFERENCE))
def test_stub_is_not_attempted(id):
    answer = ... if id == "5.2.3" else stub
    assert evaluate(id, answer).status == NOT_ATTEMPTED
