"""utils.detection: IoU, NMS and mAP against hand-computed values and brute force; scenes; tracking."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.detection import (Tracker, average_precision, batched_nms, box_area, box_iou, count_id_switches,
                             make_digit_clip, make_digit_scenes, match_detections, mean_average_precision,
                             idf1, mot_metrics, mota, nms)

# --- strategies and brute-force references ---------------------------------------------

SIZE = 12  # integer boxes on a 12 x 12 pixel grid


@st.composite
def int_boxes(draw, min_n=1, max_n=8):
    n = draw(st.integers(min_n, max_n))
    xs = draw(st.lists(st.tuples(st.integers(0, SIZE), st.integers(0, SIZE)), min_size=n, max_size=n))
    ys = draw(st.lists(st.tuples(st.integers(0, SIZE), st.integers(0, SIZE)), min_size=n, max_size=n))
    return np.array([[min(x), min(y), max(x), max(y)] for x, y in zip(xs, ys)], dtype=float)


def iou_by_pixels(a, b):
    """IoU by painting both integer boxes on a grid and counting pixels."""
    grid = np.zeros((2, SIZE, SIZE), dtype=bool)
    for k, (x1, y1, x2, y2) in enumerate((a, b)):
        grid[k, int(y1):int(y2), int(x1):int(x2)] = True
    union = (grid[0] | grid[1]).sum()
    return (grid[0] & grid[1]).sum() / union if union else 0.0


def nms_by_definition(boxes, scores, threshold):
    """NMS as the definition reads: a box is kept iff no kept box before it overlaps it by more."""
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])  # sorted() is stable
    kept = []
    for i in order:
        if all(iou_by_pixels(boxes[i], boxes[k]) <= threshold for k in kept):
            kept.append(i)
    return kept


# --- IoU --------------------------------------------------------------------------------

def test_iou_hand_computed():
    square = [[0, 0, 4, 4]]
    others = [[2, 2, 6, 6], [0, 0, 8, 8], [4, 0, 8, 4], [0, 0, 4, 4], [10, 10, 12, 12], [1, 1, 3, 3]]
    expected = [[4 / 28, 16 / 64, 0.0, 1.0, 0.0, 4 / 16]]
    assert np.allclose(box_iou(square, others), expected)
    assert box_iou(square, others).shape == (1, 6)


@settings(max_examples=60, deadline=None)
@given(a=int_boxes(), b=int_boxes())
def test_iou_equals_pixel_counting(a, b):
    iou = box_iou(a, b)
    assert iou.shape == (len(a), len(b))
    brute = np.array([[iou_by_pixels(x, y) for y in b] for x in a])
    assert np.allclose(iou, brute)
    assert np.allclose(box_iou(b, a), iou.T)  # symmetric
    assert np.all((iou >= 0) & (iou <= 1))


def test_iou_of_float_boxes_and_degenerate_boxes():
    assert np.isclose(box_iou([[0, 0, 1.5, 1]], [[0.5, 0, 2, 1]])[0, 0], 1.0 / 2.0)
    # zero-area boxes: IoU 0, never NaN
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0
    assert box_iou([[0, 0, 0, 5]], [[0, 0, 2, 5]])[0, 0] == 0.0
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)
    assert box_iou([], []).shape == (0, 0)
    assert np.allclose(box_area([[0, 0, 2, 3], [1, 1, 1, 4]]), [6, 0])


@pytest.mark.parametrize("boxes, phrase", [
    ([0, 0, 1, 1], "one box"),
    ([[0, 0, 1]], "shape (N, 4)"),
    ([[[0, 0, 1, 1]]], "shape (N, 4)"),
    ([[5, 0, 1, 1]], "x2 < x1"),
    ([[0, 5, 1, 1]], "y2 < y1"),
    ([[0, 0, np.nan, 1]], "NaN"),
])
def test_iou_bad_boxes(boxes, phrase):
    with pytest.raises(ValueError, match=phrase.replace("(", r"\(").replace(")", r"\)")):
        box_iou(boxes, [[0, 0, 1, 1]])


def test_iou_non_numbers():
    with pytest.raises(TypeError, match="numbers"):
        box_iou([["a", "b", "c", "d"]], [[0, 0, 1, 1]])


# --- NMS ---------------------------------------------------------------------------------

def test_nms_hand_computed():
    boxes = [[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [20, 25, 30, 35]]
    scores = [0.9, 0.8, 0.7, 0.95]  # IoU(A, B) = 81/119 = 0.68; IoU(C, D) = 50/150 = 0.33
    assert nms(boxes, scores, 0.5).tolist() == [3, 0, 2]
    assert nms(boxes, scores, 0.2).tolist() == [3, 0]
    assert nms(boxes, scores, 0.7).tolist() == [3, 0, 1, 2]
    assert nms(boxes, scores, 1.0).tolist() == [3, 0, 1, 2]


def test_nms_chain_and_exact_threshold():
    # A suppresses B, B would suppress C, but a suppressed box suppresses nothing
    chain = [[0, 0, 10, 10], [3, 0, 13, 10], [6, 0, 16, 10]]
    assert nms(chain, [0.9, 0.8, 0.7], 0.5).tolist() == [0, 2]
    # IoU exactly at the threshold is not "greater than": both boxes stay
    assert nms([[0, 0, 3, 1], [1, 0, 4, 1]], [0.9, 0.8], 0.5).tolist() == [0, 1]
    # equal scores: the earlier box wins
    assert nms([[0, 0, 2, 2], [0, 0, 2, 2]], [0.5, 0.5], 0.5).tolist() == [0]


@settings(max_examples=60, deadline=None)
@given(boxes=int_boxes(1, 10), data=st.data(),
       threshold=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 1.0]))
def test_nms_equals_definition(boxes, data, threshold):
    scores = np.array(data.draw(st.lists(st.integers(0, 5), min_size=len(boxes), max_size=len(boxes))), float)
    kept = nms(boxes, scores, threshold)
    assert kept.tolist() == nms_by_definition(boxes, scores, threshold)
    assert np.all(np.diff(scores[kept]) <= 0)  # highest score first
    iou = box_iou(boxes[kept], boxes[kept])
    assert np.all(iou[~np.eye(len(kept), dtype=bool)] <= threshold + 1e-12)


def test_nms_empty_and_bad_input():
    assert nms(np.zeros((0, 4)), [], 0.5).tolist() == []
    with pytest.raises(ValueError, match="2 entries but there are 3 boxes"):
        nms([[0, 0, 1, 1]] * 3, [0.5, 0.4], 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nms([[0, 0, 1, 1]], [0.5], 1.5)


@settings(max_examples=40, deadline=None)
@given(boxes=int_boxes(1, 10), data=st.data())
def test_batched_nms_equals_nms_per_class(boxes, data):
    n = len(boxes)
    scores = np.array(data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    labels = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    expected = np.concatenate([np.flatnonzero(labels == c)[nms(boxes[labels == c], scores[labels == c], 0.4)]
                               for c in np.unique(labels)])
    kept = batched_nms(boxes, scores, labels, 0.4)
    assert sorted(kept.tolist()) == sorted(expected.tolist())
    assert np.all(np.diff(scores[kept]) <= 0)


def test_batched_nms_keeps_other_classes():
    same_place = [[0, 0, 10, 10], [0, 0, 10, 10]]
    assert batched_nms(same_place, [0.9, 0.8], [3, 7], 0.5).tolist() == [0, 1]
    assert batched_nms(same_place, [0.9, 0.8], [3, 3], 0.5).tolist() == [0]
    assert batched_nms(np.zeros((0, 4)), [], [], 0.5).tolist() == []
    with pytest.raises(ValueError, match="labels has 1 entries"):
        batched_nms(same_place, [0.9, 0.8], [3], 0.5)


# --- average precision ----------------------------------------------------------------------

def test_average_precision_hand_computed():
    # TP, TP, FP, TP, FP with 5 objects: envelope 1, 1, 3/4 over recall steps of 0.2 -> 0.55
    assert np.isclose(average_precision([5, 4, 3, 2, 1], [1, 1, 0, 1, 0], 5), 0.55)
    # TP, FP, TP, TP, FP, FP with 4 objects: 0.25 * 1 + 0.25 * 0.75 + 0.25 * 0.75 = 0.625
    assert np.isclose(average_precision([6, 5, 4, 3, 2, 1], [1, 0, 1, 1, 0, 0], 4), 0.625)
    # the order of the input does not matter, only the scores
    assert np.isclose(average_precision([2, 6, 1, 4, 3, 5], [0, 1, 0, 1, 1, 0], 4), 0.625)


def test_average_precision_extremes():
    assert average_precision([3, 2, 1], [1, 1, 1], 3) == 1.0
    assert average_precision([3, 2, 1], [1, 1, 1], 6) == 0.5  # half the objects never detected
    assert average_precision([3, 2, 1], [0, 0, 0], 3) == 0.0
    assert average_precision([], [], 3) == 0.0
    assert np.isnan(average_precision([], [], 0))
    # false positives ranked below every true positive cost nothing
    assert average_precision([5, 4, 1, 0.5], [1, 1, 0, 0], 2) == 1.0


def test_average_precision_bad_input():
    with pytest.raises(ValueError, match="3 true positives but only 2"):
        average_precision([3, 2, 1], [1, 1, 1], 2)
    with pytest.raises(ValueError, match="scores has 2 entries but is_tp has 3"):
        average_precision([1, 2], [1, 0, 1], 3)


def test_match_detections_voc_rules():
    gt = [[0, 0, 10, 10], [20, 0, 30, 10]]
    pred = [[0, 0, 10, 10], [1, 0, 11, 10], [20, 0, 30, 10], [40, 40, 50, 50]]
    # the duplicate (index 1) scores lower than the exact box, so it is a false positive
    assert match_detections(pred, [0.9, 0.8, 0.7, 0.6], gt).tolist() == [True, False, True, False]
    # with scores swapped, the duplicate claims the object first
    assert match_detections(pred, [0.8, 0.9, 0.7, 0.6], gt).tolist() == [False, True, True, False]
    assert match_detections(pred, [0.9, 0.8, 0.7, 0.6], np.zeros((0, 4))).tolist() == [False] * 4
    assert match_detections([[0, 0, 10, 10]], [1.0], [[0, 0, 10, 20]], iou_threshold=0.5).tolist() == [True]
    assert match_detections([[0, 0, 10, 10]], [1.0], [[0, 0, 10, 21]], iou_threshold=0.5).tolist() == [False]


GT_BOXES = [np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([[5, 5, 15, 15]], float)]
GT_LABELS = [np.array([1, 2]), np.array([1])]


def test_map_perfect_and_all_wrong():
    ones = [np.ones(len(b)) for b in GT_BOXES]
    assert mean_average_precision(GT_BOXES, ones, GT_LABELS, GT_BOXES, GT_LABELS) == 1.0
    wrong_labels = [np.array([2, 1]), np.array([2])]  # right places, wrong classes
    assert mean_average_precision(GT_BOXES, ones, wrong_labels, GT_BOXES, GT_LABELS) == 0.0
    far = [b + 100 for b in GT_BOXES]  # right classes, wrong places
    assert mean_average_precision(far, ones, GT_LABELS, GT_BOXES, GT_LABELS) == 0.0
    empty = [np.zeros((0, 4))] * 2
    assert mean_average_precision(empty, [[], []], [[], []], GT_BOXES, GT_LABELS) == 0.0


def test_map_worked_partial_case():
    # class 1 (2 objects): detections 0.9 hit image 1's object, 0.8 is a miss, 0.7 hits image 0's
    #   -> precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> envelope: 1 up to 1/2, 2/3 up to 1 -> AP = 5/6
    # class 2 (1 object): one duplicate pair, the higher-scoring one hits -> AP 1
    pred_boxes = [np.array([[0, 0, 10, 10], [20, 20, 30, 30], [21, 21, 31, 31]], float),
                  np.array([[5, 5, 15, 15], [40, 40, 50, 50]], float)]
    pred_scores = [np.array([0.7, 0.6, 0.5]), np.array([0.9, 0.8])]
    pred_labels = [np.array([1, 2, 2]), np.array([1, 1])]
    m, per_class = mean_average_precision(pred_boxes, pred_scores, pred_labels, GT_BOXES, GT_LABELS,
                                          per_class=True)
    assert per_class.keys() == {1, 2}
    assert np.isclose(per_class[1], 5 / 6) and np.isclose(per_class[2], 1.0)
    assert np.isclose(m, (5 / 6 + 1) / 2)
    # a class predicted but absent from the ground truth is not averaged in (VOC)
    extra = [np.vstack([pred_boxes[0], [[50, 50, 60, 60]]]), pred_boxes[1]]
    m2 = mean_average_precision(extra, [np.append(pred_scores[0], 0.99), pred_scores[1]],
                                [np.append(pred_labels[0], 9), pred_labels[1]], GT_BOXES, GT_LABELS)
    assert np.isclose(m2, m)


def test_map_bad_input():
    ones = [np.ones(2), np.ones(1)]
    with pytest.raises(ValueError, match="pred_boxes has 1 images but the ground truth has 2"):
        mean_average_precision(GT_BOXES[:1], ones, GT_LABELS, GT_BOXES, GT_LABELS)
    with pytest.raises(ValueError, match="at least one image"):
        mean_average_precision([], [], [], [], [])
    with pytest.raises(ValueError, match="no objects"):
        mean_average_precision([np.zeros((0, 4))], [[]], [[]], [np.zeros((0, 4))], [[]])
    with pytest.raises(ValueError, match="image 0: 2 predicted boxes but 1 labels"):
        mean_average_precision(GT_BOXES, ones, [np.array([1]), np.array([1])], GT_BOXES, GT_LABELS)
    with pytest.raises(ValueError, match="x2 < x1"):
        mean_average_precision([np.array([[10, 0, 0, 10.0]]), GT_BOXES[1]], [[1], [1]],
                               [np.array([1]), np.array([1])], GT_BOXES, GT_LABELS)


# --- synthetic scenes -------------------------------------------------------------------------

def test_scenes_are_deterministic_and_exact():
    a = make_digit_scenes(20, np.random.default_rng(1), split="test")
    b = make_digit_scenes(20, np.random.default_rng(1), split="test")
    assert np.array_equal(a.images, b.images) and all(np.array_equal(x, y) for x, y in zip(a.boxes, b.boxes))
    assert a.images.shape == (20, 64, 64) and a.images.dtype == np.float32
    assert 0 <= a.images.min() and a.images.max() <= 1
    for image, boxes, labels, sources in zip(a.images, a.boxes, a.labels, a.sources):
        assert 1 <= len(boxes) <= 3 and len(boxes) == len(labels) == len(sources)
        assert boxes.min() >= 0 and boxes.max() <= 64
        covered = np.zeros(image.shape, dtype=bool)
        for x1, y1, x2, y2 in boxes.astype(int):
            covered[y1:y2, x1:x2] = True
        assert image[~covered].max(initial=0) <= 0.25  # every pixel of ink is inside a box


def test_test_scenes_use_held_out_digits():
    from utils import data

    y = data.load("mnist5k").y
    train, test = data.train_test_indices(y, test_size=0.2, seed=0)
    scenes = make_digit_scenes(50, np.random.default_rng(0), split="test")
    sources = np.concatenate(scenes.sources)
    assert np.isin(sources, test).all() and not np.isin(sources, train).any()
    assert np.array_equal(np.concatenate(scenes.labels), y[sources])


def test_validation_scenes_use_training_digits_that_train_scenes_never_use():
    from utils import data

    y = data.load("mnist5k").y
    train, test = data.train_test_indices(y, test_size=0.2, seed=0)
    fit = np.concatenate(make_digit_scenes(300, np.random.default_rng(0), split="train").sources)
    val = np.concatenate(make_digit_scenes(100, np.random.default_rng(1), split="val").sources)
    assert np.isin(val, train).all() and np.isin(fit, train).all()
    assert not set(fit.tolist()) & set(val.tolist())


def test_scene_options_and_errors():
    s = make_digit_scenes(10, np.random.default_rng(0), canvas=96, digits_per_scene=(3, 3), digit_size=(20, 20))
    assert s.images.shape == (10, 96, 96) and all(len(b) == 3 for b in s.boxes)
    for boxes in s.boxes:
        iou = box_iou(boxes, boxes)
        assert iou[~np.eye(3, dtype=bool)].max() <= 0.1  # max_iou respected
    with pytest.raises(ValueError, match="split"):
        make_digit_scenes(1, np.random.default_rng(0), split="validation")
    with pytest.raises(ValueError, match="does not fit"):
        make_digit_scenes(1, np.random.default_rng(0), canvas=16)
    with pytest.raises(TypeError, match="numpy Generator"):
        make_digit_scenes(1, 0)
    with pytest.raises(ValueError, match="non-negative integer"):
        make_digit_scenes(-1, np.random.default_rng(0))


def test_clip_moves_at_constant_velocity():
    clip = make_digit_clip(np.random.default_rng(0), num_frames=10, num_digits=3, canvas=96, speed=(3, 5))
    assert clip.frames.shape == (10, 96, 96) and len(clip) == 10
    corners = np.stack(clip.boxes)  # (frames, digits, 4)
    assert corners.min() >= 0 and corners.max() <= 96
    steps = np.diff(corners[:, :, :2], axis=0)  # integer pixel steps around a constant velocity
    mean_step = (corners[-1, :, :2] - corners[0, :, :2]) / 9
    assert np.all(np.abs(steps - mean_step) <= 1.0)
    speeds = np.linalg.norm(mean_step, axis=1)
    assert np.all((speeds > 2.8) & (speeds < 5.2))
    with pytest.raises(ValueError, match="cannot fit"):
        make_digit_clip(np.random.default_rng(0), num_frames=30, canvas=64, speed=(5, 6))


# --- tracking -------------------------------------------------------------------------------

def synthetic_tracks(num_frames=12):
    """Three 10x10 boxes at constant velocity; boxes 0 and 1 cross in the middle."""
    starts = np.array([[0.0, 40.0], [60.0, 44.0], [30.0, 0.0]])
    velocities = np.array([[5.0, 0.0], [-5.0, 0.0], [0.0, 4.0]])
    frames = []
    for t in range(num_frames):
        xy = starts + t * velocities
        frames.append(np.concatenate([xy, xy + 10], axis=1))
    return frames


def run(tracker, frames, drop=()):
    ids, boxes = [], []
    for t, b in enumerate(frames):
        keep = np.array([(t, k) not in drop for k in range(len(b))], dtype=bool)
        ids.append(tracker.update(b[keep]))
        boxes.append(b[keep])
    return ids, boxes


def test_tracker_keeps_identities_at_constant_velocity():
    frames = synthetic_tracks()
    gt_ids = [np.arange(3)] * len(frames)
    ids, boxes = run(Tracker(), frames)
    assert all(np.array_equal(i, [0, 1, 2]) for i in ids)
    m = mot_metrics(gt_ids, frames, ids, boxes)
    assert m["id_switches"] == 0 and m["mota"] == 1.0 and m["misses"] == m["false_positives"] == 0


def test_constant_velocity_survives_missed_detections():
    frames = synthetic_tracks()
    gt_ids = [np.arange(3)] * len(frames)
    drop = {(t, k) for t in (5, 6) for k in (0, 1)}  # the two crossing boxes vanish for two frames
    ids, boxes = run(Tracker(motion="constant_velocity"), frames, drop)
    assert count_id_switches(gt_ids, frames, ids, boxes) == 0
    assert np.isclose(mota(gt_ids, frames, ids, boxes), 1 - 4 / 36)  # only the 4 misses
    ids_still, boxes_still = run(Tracker(motion="none"), frames, drop)
    assert count_id_switches(gt_ids, frames, ids_still, boxes_still) >= 2


def test_tracker_drops_old_tracks_and_validates():
    tracker = Tracker(max_age=1)
    assert tracker.update([[0, 0, 10, 10]]).tolist() == [0]
    tracker.update(np.zeros((0, 4)))
    tracker.update(np.zeros((0, 4)))  # unseen for 2 > max_age frames: gone
    assert tracker.update([[0, 0, 10, 10]]).tolist() == [1]
    with pytest.raises(ValueError, match="motion"):
        Tracker(motion="kalman")
    with pytest.raises(ValueError, match="max_age"):
        Tracker(max_age=-1)
    with pytest.raises(ValueError, match="x2 < x1"):
        Tracker().update([[10, 0, 0, 10]])


def test_mot_metrics_counts_a_swap():
    frames = [np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)] * 4
    gt_ids = [np.array([0, 1])] * 4
    swapped = [np.array([7, 8]), np.array([7, 8]), np.array([8, 7]), np.array([8, 7])]
    m = mot_metrics(gt_ids, frames, swapped, frames)
    assert m["id_switches"] == 2 and m["num_gt"] == 8 and np.isclose(m["mota"], 1 - 2 / 8)
    # a missed object and a box on nothing
    m = mot_metrics(gt_ids, frames, [np.array([7])] * 4, [np.array([[50, 50, 60, 60]], float)] * 4)
    assert m["misses"] == 8 and m["false_positives"] == 4 and np.isclose(m["mota"], 1 - 12 / 8)
    with pytest.raises(ValueError, match="track_ids has 3 frames but gt_ids has 4"):
        mot_metrics(gt_ids, frames, swapped[:3], frames)


def test_idf1_punishes_a_swap_for_the_rest_of_the_clip():
    frames = [np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)] * 4
    gt_ids = [np.array([0, 1])] * 4
    swapped = [np.array([7, 8]), np.array([7, 8]), np.array([8, 7]), np.array([8, 7])]
    r = idf1(gt_ids, frames, swapped, frames)
    assert r["idtp"] == 4 and r["num_gt"] == r["num_pred"] == 8 and np.isclose(r["idf1"], 0.5)
    assert idf1(gt_ids, frames, gt_ids, frames)["idf1"] == 1.0
    late = [np.array([7, 8]), np.array([7, 8]), np.array([7, 8]), np.array([8, 7])]  # swap in the last frame
    assert np.isclose(idf1(gt_ids, frames, late, frames)["idf1"], 6 / 8)
    # one object tracked in half its frames, plus a box on nothing in every frame
    r = idf1([np.array([0])] * 4, [np.array([[0, 0, 10, 10]], float)] * 4,
             [np.array([3, 4])] * 2 + [np.array([4])] * 2,
             [np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float)] * 2 + [np.array([[50, 50, 60, 60]], float)] * 2)
    assert r["idtp"] == 2 and np.isclose(r["idf1"], 2 * 2 / (4 + 6))
    with pytest.raises(ValueError, match="track_ids has 3 frames"):
        idf1(gt_ids, frames, swapped[:3], frames)
