"""utils.realtime: fold-in equals the ALS user step, co-occurrence counts, top-k, replay."""
import numpy as np
import pandas as pd
import pytest

from utils import mf, realtime as rt

U, I, K, REG = 6, 10, 3, 0.7


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    pairs = rng.permutation(U * I)[:30]
    u, i = pairs // I, pairs % I
    r = rng.integers(1, 6, len(u)).astype(float)
    params = mf.MFParams(r.mean(), rng.normal(0, 0.3, U), rng.normal(0, 0.3, I),
                         rng.normal(0, 0.5, (U, K)), rng.normal(0, 0.5, (I, K)))
    return params, u, i, r


def test_incremental_update_equals_full_als_user_step(toy):
    params, u, i, r = toy
    model = rt.FoldIn(params, u, i, r, REG)
    new = [(2, 9, 5.0), (2, 0, 1.0), (4, 3, 4.0)]
    for uu, ii, rr in new:
        model.update(uu, ii, rr)
    u2 = np.concatenate([u, [e[0] for e in new]])
    i2 = np.concatenate([i, [e[1] for e in new]])
    r2 = np.concatenate([r, [e[2] for e in new]])
    full = mf.als_user_step(params, u2, i2, r2, REG)
    for uu in (2, 4):
        np.testing.assert_allclose(model.params.P[uu], full.P[uu], atol=1e-12)
        assert abs(model.params.user_bias[uu] - full.user_bias[uu]) < 1e-12
        p, b = rt.fold_in(params, i2[u2 == uu], r2[u2 == uu], REG)
        np.testing.assert_allclose(p, full.P[uu], atol=1e-12)
    # the model's item side is untouched and other users keep their vectors
    np.testing.assert_array_equal(model.params.Q, params.Q)
    np.testing.assert_array_equal(model.params.P[0], params.P[0])


def test_fold_in_minimises_the_user_objective(toy):
    params, u, i, r = toy
    items, ratings = i[u == 1], r[u == 1]
    p, b = rt.fold_in(params, items, ratings, REG)

    def J(p, b):
        e = ratings - params.mu - params.item_bias[items] - b - params.Q[items] @ p
        return e @ e + REG * (p @ p + b * b)
    rng = np.random.default_rng(1)
    assert all(J(p, b) < J(p + 1e-3 * rng.normal(size=K), b + 1e-3 * rng.normal()) for _ in range(20))


def test_scores_and_errors(toy):
    params, u, i, r = toy
    model = rt.FoldIn(params, u, i, r, REG)
    np.testing.assert_allclose(model.scores(3), params.score_all()[3])
    with pytest.raises(ValueError, match="unknown user id 6"):
        model.update(6, 0, 3.0)
    with pytest.raises(ValueError, match="unknown item id"):
        model.update(0, 10, 3.0)
    with pytest.raises(TypeError, match="integer"):
        model.scores(1.5)
    with pytest.raises(ValueError, match="empty history"):
        rt.fold_in(params, [], [], REG)
    with pytest.raises(ValueError, match="reg must be > 0"):
        rt.FoldIn(params, u, i, r, 0.0)


def test_cooccurrence_matches_a_recount():
    u, i = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 2, 3, 0])
    co = rt.CoOccurrence(u, i, 3, 5)
    co.update(2, 3)
    co.update(2, 3)  # a repeat adds nothing
    co.update(0, 4)
    u2, i2 = np.append(u, [2, 0]), np.append(i, [3, 4])
    X = np.zeros((3, 5))
    X[u2, i2] = 1
    C = X.T @ X
    np.fill_diagonal(C, 0)
    np.testing.assert_array_equal(co.counts, C)
    np.testing.assert_array_equal(co.scores(0), C[4])
    with pytest.raises(ValueError, match="empty history"):
        rt.CoOccurrence(u, i, 4, 5).scores(3)


def test_top_k_items():
    s = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    np.testing.assert_array_equal(rt.top_k_items(s, 3), [1, 3, 2])
    np.testing.assert_array_equal(rt.top_k_items(s, 2, exclude=[1]), [3, 2])
    with pytest.raises(ValueError, match="k must be"):
        rt.top_k_items(s, 5, exclude=[0])
    with pytest.raises(ValueError, match="1-D"):
        rt.top_k_items(s[None], 2)


def test_stream_and_replay():
    ev = pd.DataFrame({"u": [1, 0, 0], "i": [2, 1, 0], "rating": [4.0, 3.0, 5.0], "timestamp": [30, 10, 20]})
    u, i, r, t = rt.stream(ev)
    np.testing.assert_array_equal(t, [10, 20, 30])
    np.testing.assert_array_equal(i, [1, 0, 2])
    counts = np.array([0.0, 0.0, 1.0])
    seen = [set(), set()]
    hits = rt.replay_hit_rate(u, i, r, lambda uu: counts, lambda uu, ii, rr: counts.__setitem__(ii, counts[ii] + 9),
                              seen, k=1)
    # event 1: top-1 is item 2, the user takes 1 (miss); then 1 is boosted but seen by user 0;
    # event 2: user 0's top-1 among {0, 2} is 2 (miss); event 3: user 1's top-1 is item 1 (9 > 1): miss
    np.testing.assert_array_equal(hits, [0, 0, 0])
    assert seen[0] == {0, 1} and seen[1] == {2}
    hits = rt.replay_hit_rate(u, i, r, lambda uu: -np.arange(3.0), None, [set(), set()], k=2)
    np.testing.assert_array_equal(hits, [1, 1, 0])
    with pytest.raises(ValueError, match="columns"):
        rt.stream(ev.drop(columns="timestamp"))


def _implicit_toy():
    rng = np.random.default_rng(3)
    pairs = rng.permutation(U * I)[:25]
    return rng.normal(0, 0.5, (U, K)), rng.normal(0, 0.5, (I, K)), pairs // I, pairs % I


def test_implicit_als_step_is_the_exact_weighted_ridge_solve():
    X, Y, u, i = _implicit_toy()
    reg, alpha = 0.8, 4.0
    step = rt.implicit_als_step(Y, u, i, U, reg, alpha)
    for uu in range(U):
        pref = np.isin(np.arange(I), i[u == uu]).astype(float)
        conf = 1 + alpha * pref
        # the dense weighted least-squares problem over ALL items, solved directly
        W = np.sqrt(conf)[:, None]
        A = np.vstack([W * Y, np.sqrt(reg) * np.eye(K)])
        b = np.concatenate([np.sqrt(conf) * pref, np.zeros(K)])
        np.testing.assert_allclose(step[uu], np.linalg.lstsq(A, b, rcond=None)[0], atol=1e-10)
    np.testing.assert_allclose(rt.implicit_als_step(Y, u, i, U, reg, alpha, which=[4, 1]), step[[4, 1]], atol=1e-12)
    with pytest.raises(ValueError, match="reg must be > 0"):
        rt.implicit_als_step(Y, u, i, U, 0.0, alpha)


def test_implicit_fold_in_equals_the_full_user_step():
    X, Y, u, i = _implicit_toy()
    reg, alpha = 0.8, 4.0
    model = rt.ImplicitFoldIn(X, Y, u, i, reg, alpha)
    new = [(2, 9), (2, 0), (4, 3), (2, 9)]  # the last one repeats an item: confidence grows
    for uu, ii in new:
        model.update(uu, ii)
    u2, i2 = np.append(u, [e[0] for e in new]), np.append(i, [e[1] for e in new])
    full = rt.implicit_als_step(Y, u2, i2, U, reg, alpha)
    np.testing.assert_allclose(model.X[[2, 4]], full[[2, 4]], atol=1e-12)
    np.testing.assert_array_equal(model.X[0], X[0])  # untouched users keep their vectors
    np.testing.assert_allclose(model.scores(2), Y @ model.X[2])
    with pytest.raises(ValueError, match="unknown item id"):
        model.update(0, I)


def test_the_fold_in_step_agrees_with_chapter_7_2s_ials_step():
    """realtime.implicit_als_step (per row, counting repeats) and mf.ials_user_step (all rows,
    each pair once) solve the same problem when no pair repeats."""
    from utils import mf

    X, Y, u, i = _implicit_toy()
    pairs = np.unique(u * I + i)
    u, i = pairs // I, pairs % I
    reg, alpha = 0.8, 4.0
    ours = rt.implicit_als_step(Y, u, i, U, reg, alpha)
    theirs = mf.ials_user_step(mf.IALSParams(P=X, Q=Y), u, i, reg, alpha).P
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_fit_implicit_als_ranks_the_training_items_first():
    rng = np.random.default_rng(5)
    u = np.repeat(np.arange(20), 3)
    i = (np.repeat(np.arange(20) % 2, 3) * 5 + np.tile(np.arange(3), 20))  # two tastes: items 0-2 or 5-7
    X, Y = rt.fit_implicit_als(u, i, 20, 10, num_factors=2, reg=0.1, alpha=10.0, num_sweeps=10, rng=rng)
    top = np.argsort(-(X @ Y.T), axis=1)[:, :3]
    assert all(set(top[uu].tolist()) == set(i[u == uu].tolist()) for uu in range(20))


def test_cooccurrence_from_an_empty_start_equals_the_batch_counts():
    u, i = np.array([0, 0, 1, 1, 1, 2, 0]), np.array([0, 1, 1, 2, 3, 0, 1])
    co = rt.CoOccurrence([], [], 3, 5)
    for uu, ii in zip(u, i):
        co.update(int(uu), int(ii))
    np.testing.assert_array_equal(co.counts, rt.CoOccurrence(u, i, 3, 5).counts)
    assert co.history[0] == [0, 1, 1]


def test_stream_ties_and_merged_log():
    ev = pd.DataFrame({"u": [0, 1, 2, 3], "i": [3, 2, 1, 0], "rating": [1.0] * 4, "timestamp": [5, 5, 5, 9]})
    _, i, _, _ = rt.stream(ev)
    np.testing.assert_array_equal(i, [3, 2, 1, 0])  # no rng: ties by user index
    orders = {tuple(rt.stream(ev, np.random.default_rng(s))[1]) for s in range(20)}
    assert len(orders) > 1 and all(o[-1] == 0 for o in orders)  # ties shuffled, time order kept
    train = pd.DataFrame({"u": [0, 1], "i": [4, 4], "rating": [2.0, 3.0], "timestamp": [5, 1]})
    for rng in (None, np.random.default_rng(0)):
        lu, li, lr, lt, is_test = rt.merged_log(train, ev, rng)
        np.testing.assert_array_equal(lt, [1, 5, 5, 5, 5, 9])
        np.testing.assert_array_equal(is_test, [False, False, True, True, True, True])  # training first in a tie
        assert sorted(zip(lu[is_test], li[is_test])) == [(0, 3), (1, 2), (2, 1), (3, 0)]
    with pytest.raises(ValueError, match="columns"):
        rt.merged_log(train.drop(columns="rating"), ev)


def test_replay_scores_only_the_marked_events():
    u, i, r = np.array([0, 1, 0]), np.array([2, 2, 1]), np.ones(3)
    counts = np.zeros(3)
    hits = rt.replay_hit_rate(u, i, r, lambda uu: counts.copy(), lambda uu, ii, rr: counts.__setitem__(ii, counts[ii] + 1),
                              [set(), set()], k=1, evaluate=np.array([False, True, True]))
    # event 2: user 1's top-1 is item 2, counted once by event 1: hit; event 3: user 0 saw 2, top-1 of {0, 1} is 0: miss
    np.testing.assert_array_equal(hits, [1, 0])
