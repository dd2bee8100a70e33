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
