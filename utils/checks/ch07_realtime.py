"""Checkers for section 7.3 (real-time recommendation)."""
from __future__ import annotations

import numpy as np

from utils.checks import Wrong, exercise, tolerance


def _ridge(Q, t, reg):
    return np.linalg.solve(Q.T @ Q + reg * np.eye(Q.shape[1]), Q.T @ t)


@exercise("7.3.1", "fold-in: one ridge solve for a user")
def _check_fold_in(fold_in_solve) -> str:
    rng = np.random.default_rng(731)
    for n, k, reg in ((12, 3, 2.0), (4, 6, 0.5)):  # the second has fewer ratings than factors
        Q, t = rng.normal(size=(n, k)), rng.normal(size=n)
        got = np.asarray(fold_in_solve(Q.copy(), t.copy(), reg), dtype=float)
        if got.shape != (k,):
            raise Wrong(f"with Q of shape {Q.shape} the user vector should have shape ({k},), got {got.shape}")
        expected = _ridge(Q, t, reg)
        if np.allclose(got, expected, atol=1e-9):
            continue
        if n >= k and np.allclose(got, np.linalg.lstsq(Q, t, rcond=None)[0], atol=1e-9):
            raise Wrong("this is plain least squares: add reg·I to QᵀQ (the ridge term)")
        if np.allclose(got, _ridge(Q, t, 2 * reg), atol=1e-9) or np.allclose(got, _ridge(Q, t, reg / 2), atol=1e-9):
            raise Wrong("the ridge term is off by a factor 2: solve (QᵀQ + reg·I) p = Qᵀt")
        raise Wrong(f"for {n} ratings and k = {k} factors your vector differs from the solution of "
                    f"(QᵀQ + reg·I) p = Qᵀt by up to {np.abs(got - expected).max():.3g} (the check allows "
                    f"{tolerance(1e-5, 1e-9)})")
    return "(QᵀQ + λI) p = Qᵀt solved correctly, also with fewer ratings than factors"


def _causal_counts(items, timestamps, num_items):
    items, timestamps = np.asarray(items), np.asarray(timestamps)
    out = np.zeros(len(items), dtype=np.int64)
    counts = np.zeros(num_items, dtype=np.int64)
    start = 0
    for n in range(1, len(items) + 1):
        if n == len(items) or timestamps[n] != timestamps[start]:
            out[start:n] = counts[items[start:n]]
            np.add.at(counts, items[start:n], 1)
            start = n
    return out


def _logs():
    """Hidden logs: small ones with many ties, one larger, and one without ties."""
    rng = np.random.default_rng(732)
    logs = [(np.array([0, 1, 0, 0, 2, 0]), np.array([1, 1, 2, 2, 2, 5]), 3)]
    for n, num_items, max_gap in ((40, 5, 2), (300, 20, 3), (50, 30, 0)):
        gaps = rng.integers(0, max_gap + 1, n) if max_gap else np.ones(n, dtype=np.int64)
        logs.append((rng.integers(0, num_items, n), 1000 + np.cumsum(gaps), num_items))
    return logs


@exercise("7.3.2", "counts without peeking: strictly earlier events only")
def _check_causal_counts(causal_counts) -> str:
    for items, timestamps, num_items in _logs():
        got = np.asarray(causal_counts(items.copy(), timestamps.copy(), num_items))
        if got.shape != items.shape:
            raise Wrong(f"return one count per event: {len(items)} events, got shape {got.shape}")
        expected = _causal_counts(items, timestamps, num_items)
        if np.array_equal(got, expected):
            continue
        total = np.bincount(items, minlength=num_items)[items]
        sequential = np.array([np.sum(items[:n] == items[n]) for n in range(len(items))])
        if np.array_equal(got, total) or np.array_equal(got, total - 1):
            raise Wrong("these are counts over the whole log: they include later events (peeking at the future)")
        if np.array_equal(got, sequential) or np.array_equal(got, sequential + 1):
            raise Wrong("an event counts events with the same timestamp that came before it in the array: "
                        "events in the same second must not see each other")
        if np.array_equal(got, expected + 1):
            raise Wrong("each count includes the event itself: count only earlier events")
        n = int(np.flatnonzero(got != expected)[0])
        raise Wrong(f"event {n} (item {items[n]} at time {timestamps[n]}): expected {expected[n]}, got {got[n]}")
    return "strictly earlier events only, ties handled, on four hidden logs"


def _top_k_cases():
    rng = np.random.default_rng(733)
    cases = []
    for size, k, n_ex in ((1682, 10, 3), (50, 5, 20), (200, 1, 0), (30, 7, 22)):
        scores = rng.normal(size=size)
        best = np.argsort(-scores)
        exclude = np.sort(rng.choice(best[:2 * n_ex + 1], size=n_ex, replace=False)) if n_ex else np.array([], dtype=np.int64)
        cases.append((scores, k, exclude))
    return cases


@exercise("7.3.3", "top-k with exclusions")
def _check_top_k(top_k_excluding) -> str:
    for scores, k, exclude in _top_k_cases():
        got = np.asarray(top_k_excluding(scores.copy(), k, exclude.copy()))
        if got.shape != (k,):
            raise Wrong(f"with k = {k} return the {k} item indices as a 1-D array, got shape {got.shape}")
        allowed = np.setdiff1d(np.arange(len(scores)), exclude)
        expected = allowed[np.argsort(-scores[allowed], kind="stable")][:k]
        if np.array_equal(got, expected):
            continue
        if np.isin(got, exclude).any():
            raise Wrong("your list contains excluded (already seen) items: set their scores to -inf first")
        if set(got.tolist()) == set(expected.tolist()):
            raise Wrong("the right items in the wrong order: sort the k items by score, best first")
        if np.array_equal(got, allowed[np.argsort(scores[allowed], kind="stable")][:k]):
            raise Wrong("these are the worst items: argpartition/argsort sort ascending, use -scores")
        raise Wrong(f"for {len(scores)} scores, k = {k} and {len(exclude)} excluded items: "
                    f"expected items {expected.tolist()}, got {got.tolist()}")
    return "the k best allowed items, best first, on four hidden score vectors"


def _implicit(Y, items, reg, alpha):
    Yi = Y[items]
    A = Y.T @ Y + alpha * Yi.T @ Yi + reg * np.eye(Y.shape[1])
    return np.linalg.solve(A, (1 + alpha) * Yi.sum(0))


@exercise("7.3.4", "fold-in under the implicit-feedback objective")
def _check_implicit(implicit_fold_in) -> str:
    rng = np.random.default_rng(734)
    for num_items, k, n, reg, alpha in ((40, 4, 6, 1.0, 5.0), (200, 8, 3, 0.5, 20.0), (25, 3, 25, 2.0, 1.0)):
        Y = rng.normal(size=(num_items, k))
        items = np.sort(rng.choice(num_items, size=n, replace=False))
        got = np.asarray(implicit_fold_in(Y.copy(), items.copy(), reg, alpha), dtype=float)
        if got.shape != (k,):
            raise Wrong(f"with Y of shape {Y.shape} the user vector should have shape ({k},), got {got.shape}")
        expected = _implicit(Y, items, reg, alpha)
        if np.allclose(got, expected, atol=1e-9):
            continue
        Yi = Y[items]
        only_rated = np.linalg.solve((1 + alpha) * Yi.T @ Yi + reg * np.eye(k), (1 + alpha) * Yi.sum(0))
        if np.allclose(got, only_rated, atol=1e-9):
            raise Wrong("this fits the consumed films only: the objective runs over ALL items (YᵀY), "
                        "the others with preference 0 and confidence 1")
        if np.allclose(got, np.linalg.solve(Y.T @ Y + alpha * Yi.T @ Yi + reg * np.eye(k), alpha * Yi.sum(0)), atol=1e-9):
            raise Wrong("the right-hand side is Σ c_i p_i y_i = (1 + alpha) Σ y_i over the consumed films, not alpha Σ y_i")
        if np.allclose(got, np.linalg.solve(Y.T @ Y + reg * np.eye(k), (1 + alpha) * Yi.sum(0)), atol=1e-9):
            raise Wrong("the confidences are missing on the left: add alpha·Σ y_i y_iᵀ over the consumed films to YᵀY + reg·I")
        raise Wrong(f"for {n} consumed films of {num_items} (k = {k}) your vector differs from the solution of "
                    f"(YᵀY + alpha·Σ y_i y_iᵀ + reg·I) x = (1 + alpha) Σ y_i by up to {np.abs(got - expected).max():.3g} "
                    f"(the check allows {tolerance(1e-5, 1e-9)})")
    return "(YᵀY + α Σ yᵢyᵢᵀ + λI) x = (1 + α) Σ yᵢ, on three hidden item-factor matrices"
