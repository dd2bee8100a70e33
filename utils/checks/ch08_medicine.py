"""Checkers for section 8.1 (medicine: window/level, net benefit, Dice, Kaplan-Meier)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, number


def _array(value, what: str, shape=None) -> np.ndarray:
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(f"{what} should be numbers, got {type(value).__name__}")
    if shape is not None and out.shape != shape:
        raise Wrong(f"{what} should have shape {shape} (one grey value per pixel), got {out.shape}")
    if not np.all(np.isfinite(out)):
        raise Wrong(f"{what} contains NaN or inf")
    return out


def _number(value, what: str) -> float:
    if isinstance(value, (list, tuple)) or np.ndim(value) != 0:
        raise Wrong(f"{what} should be one number, got an array of shape {np.shape(value)}")
    return number(value, what)


# --- 8.1.1 window and level ---------------------------------------------------------------------

def _window(hu, level, width):
    return np.clip((np.asarray(hu, float) - (level - width / 2)) / width, 0, 1)


@exercise("8.1.1", "window and level")
def _check_window_level(window_level) -> str:
    hu = np.array([[-1000.0, -160.0, 0.0, 40.0], [100.0, 240.0, 400.0, 1500.0]])
    for level, width in ((40, 400), (-600, 1500), (400, 1800), (0, 10)):
        got = _array(window_level(hu.copy(), level, width), f"window_level(hu, {level}, {width})", hu.shape)
        expected = _window(hu, level, width)
        if np.allclose(got, expected, atol=1e-9):
            continue
        if np.allclose(got, (hu - (level - width / 2)) / width, atol=1e-9):
            raise Wrong(f"for level {level}, width {width} values outside the window must be clipped to 0 and 1; "
                        f"got a range {got.min():.3f} to {got.max():.3f}")
        if np.allclose(got, np.clip((hu - (level - width)) / (2 * width), 0, 1), atol=1e-9):
            raise Wrong("the window spans level - width/2 to level + width/2 (width is the whole range, "
                        "not the half-width)")
        if np.allclose(got, np.clip((hu - level) / width, 0, 1), atol=1e-9):
            raise Wrong("the level is the CENTRE of the window: black starts at level - width/2, not at level")
        if np.allclose(got, 255 * expected, atol=1e-6):
            raise Wrong("return grey values in [0, 1], not 0-255")
        raise Wrong(f"window_level(hu, {level}, {width}) should give {np.round(expected, 4).tolist()}, "
                    f"got {np.round(got, 4).tolist()} (tolerance 1e-9)")
    return "four windows (soft tissue, lung, bone, a narrow one) on values inside, at the edges and outside"


# --- 8.1.2 net benefit --------------------------------------------------------------------------

def _net_benefit(y, prob, t):
    y, prob = np.asarray(y), np.asarray(prob, float)
    called = prob >= t
    n = len(y)
    return np.sum(called & (y == 1)) / n - np.sum(called & (y == 0)) / n * t / (1 - t)


@exercise("8.1.2", "net benefit at one threshold")
def _check_net_benefit(net_benefit) -> str:
    rng = np.random.default_rng(812)
    cases = [(np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.3, 0.6, 0.2, 0.1]), 0.25),
             (np.array([1, 0, 0, 1]), np.array([0.4, 0.4, 0.2, 0.8]), 0.4)]  # ties at the threshold
    for n in (40, 200):
        y = rng.integers(0, 2, n)
        cases.append((y, np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1), float(rng.uniform(0.05, 0.6))))
    for y, prob, t in cases:
        got = _number(net_benefit(y.copy(), prob.copy(), t), f"net_benefit(y, prob, {t:.3f})")
        expected = _net_benefit(y, prob, t)
        if abs(got - expected) < 1e-9:
            continue
        called = prob >= t
        tp, fp, n = np.sum(called & (y == 1)), np.sum(called & (y == 0)), len(y)
        if abs(got - (tp / n - fp / n * (1 - t) / t)) < 1e-9:
            raise Wrong(f"the false positives' weight is t / (1 - t) = {t / (1 - t):.4f}, not (1 - t) / t")
        if abs(got - (tp / n - fp / n * t)) < 1e-9:
            raise Wrong("weight each false positive by the odds t / (1 - t), not by t itself")
        if abs(got - (tp - fp * t / (1 - t))) < 1e-9:
            raise Wrong(f"divide the counts by the number of patients n = {n}: net benefit is per patient")
        strict = prob > t
        if abs(got - (np.sum(strict & (y == 1)) / n - np.sum(strict & (y == 0)) / n * t / (1 - t))) < 1e-9:
            raise Wrong("a patient whose risk equals the threshold is treated: use prob >= t")
        if abs(got - (tp / n - fp / n)) < 1e-9:
            raise Wrong("the false positives are not weighted: multiply FP/n by t / (1 - t)")
        raise Wrong(f"net_benefit should be {expected:.6f} for {n} patients at t = {t:.3f}, got {got:.6f} "
                    "(tolerance 1e-9)")
    return f"{len(cases)} cases: a worked one, a tie at the threshold, and random risks"


# --- 8.1.3 Dice ----------------------------------------------------------------------------------

def _dice(a, b):
    a, b = np.asarray(a) != 0, np.asarray(b) != 0
    total = a.sum() + b.sum()
    return 1.0 if total == 0 else 2 * np.sum(a & b) / total


@exercise("8.1.3", "Dice overlap of two masks")
def _check_dice(dice) -> str:
    rng = np.random.default_rng(813)
    square = np.zeros((6, 6), int)
    square[1:4, 1:4] = 1
    shifted = np.roll(square, 1, axis=1)
    cases = [(square, shifted), (square, square), (square, np.zeros_like(square)), (square, 1 - square),
             (np.zeros((4, 4), int), np.zeros((4, 4), int)), (2 * square, shifted)]
    for _ in range(3):
        cases.append((rng.random((5, 7, 3)) < 0.3, rng.random((5, 7, 3)) < 0.5))
    for a, b in cases:
        A, B = np.asarray(a) != 0, np.asarray(b) != 0
        raw = dice(a.copy(), b.copy())
        if not A.any() and not B.any():
            if np.ndim(raw) != 0 or not np.isfinite(float(raw)) or float(raw) != 1.0:
                raise Wrong(f"two empty masks agree perfectly: return 1 (got {raw}; 0 / 0 needs its own case)")
            continue
        got = _number(raw, "dice(pred, target)")
        expected = _dice(a, b)
        if abs(got - expected) < 1e-9:
            continue
        if abs(got - np.sum(A & B) / np.sum(A | B)) < 1e-9:
            raise Wrong(f"that is the Jaccard index |A∩B|/|A∪B| = {got:.4f}; Dice is 2|A∩B|/(|A|+|B|) = {expected:.4f}")
        if abs(got - np.mean(A == B)) < 1e-9:
            raise Wrong(f"that is pixel accuracy ({got:.4f}); Dice ignores pixels outside both masks: expected {expected:.4f}")
        if abs(got - np.sum(A & B) / (A.sum() + B.sum())) < 1e-9:
            raise Wrong("the factor 2 is missing: identical masks must give Dice 1")
        raise Wrong(f"dice should be {expected:.6f}, got {got:.6f} (tolerance 1e-9)")
    return f"{len(cases)} mask pairs: shifted, identical, disjoint, both empty, non-binary labels, random 3-D"


# --- 8.1.4 Kaplan-Meier ---------------------------------------------------------------------------

def _km(time, event, at):
    time, event = np.asarray(time, float), np.asarray(event)
    s = 1.0
    for t in np.unique(time[(event == 1) & (time <= at)]):
        s *= 1 - np.sum((time == t) & (event == 1)) / np.sum(time >= t)
    return s


@exercise("8.1.4", "Kaplan-Meier survival")
def _check_km(km_survival) -> str:
    rng = np.random.default_rng(814)
    time = np.array([2.0, 3, 3, 5, 8, 8, 9, 12])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    cases = [(time, event, at) for at in (1, 2, 3, 4, 8, 12, 20)]
    for _ in range(3):
        n = 30
        t = rng.integers(1, 15, n).astype(float)
        cases.append((t, rng.integers(0, 2, n), float(rng.integers(3, 12))))
    for t, e, at in cases:
        got = _number(km_survival(t.copy(), e.copy(), at), f"km_survival(time, event, {at})")
        expected = _km(t, e, at)
        if abs(got - expected) < 1e-9:
            continue
        naive = np.mean(~((t <= at) & (e == 1)))
        if abs(got - naive) < 1e-9:
            raise Wrong(f"at time {at} you counted the share without an observed death ({got:.4f}); a censored "
                        f"patient leaves the risk set, he is not a survivor forever: expected {expected:.4f}")
        dropped = t[e == 1]
        if len(dropped) and abs(got - np.mean(dropped > at)) < 1e-9:
            raise Wrong("censored patients were dropped; they count as at risk until they leave")
        s = 1.0
        for u in np.unique(t[(e == 1) & (t <= at)]):
            s *= 1 - np.sum((t == u) & (e == 1)) / np.sum(t > u)
        if abs(got - s) < 1e-9:
            raise Wrong("the risk set at time t holds everyone with time >= t (those who die or are censored "
                        "at t were still followed just before it)")
        s = 1.0
        for u in np.unique(t[(e == 1) & (t < at)]):
            s *= 1 - np.sum((t == u) & (e == 1)) / np.sum(t >= u)
        if abs(got - s) < 1e-9:
            raise Wrong(f"a death exactly at time {at} counts: S(t) is the probability of surviving BEYOND t")
        raise Wrong(f"km_survival(time, event, {at}) should be {expected:.6f}, got {got:.6f} (tolerance 1e-9)")
    return f"{len(cases)} queries: tied deaths, censoring at a death time, before the first death, random data"
