"""Tests of utils.cf: each function against a hand-computed value, a library or a slow loop."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from utils import cf, recsys


@pytest.fixture(scope="module")
def small():
    """A random 30 x 25 rating matrix with about 40% of the entries rated."""
    rng = np.random.default_rng(0)
    R = rng.integers(1, 6, size=(30, 25)).astype(float)
    R[rng.random(R.shape) < 0.6] = 0.0
    R[:, 24] = 0.0  # an item nobody rated
    R[0, :3] = [5, 4, 1]  # user 0 rated at least these
    return R


# --- biases ----------------------------------------------------------------------------------

def test_biases_match_the_exact_ridge_solution(small):
    R, M = small, small > 0
    b = cf.fit_biases(R, reg_user=3.0, reg_item=2.0)
    mu = R[M].mean()
    users, items = np.nonzero(M)
    A = np.zeros((len(users), R.shape[0] + R.shape[1]))  # one-hot design matrix
    A[np.arange(len(users)), users] = 1
    A[np.arange(len(users)), R.shape[0] + items] = 1
    penalty = np.r_[np.full(R.shape[0], 3.0), np.full(R.shape[1], 2.0)]
    exact = np.linalg.solve(A.T @ A + np.diag(penalty), A.T @ (R[users, items] - mu))
    assert b.mu == pytest.approx(mu)
    assert np.allclose(b.user, exact[: R.shape[0]], atol=1e-8)
    assert np.allclose(b.item, exact[R.shape[0]:], atol=1e-8)
    assert b.item[24] == 0.0  # no ratings: no bias
    assert np.allclose(b.matrix()[users, items], b.predict(users, items))


def test_biases_bad_input(small):
    with pytest.raises(ValueError, match="no ratings"):
        cf.fit_biases(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=">= 0"):
        cf.fit_biases(small, reg_user=-1)
    with pytest.raises(ValueError, match="2-D"):
        cf.fit_biases(np.ones(5))
    with pytest.raises(ValueError, match="NaN"):
        cf.fit_biases(np.array([[1.0, np.nan]]))
    b = cf.fit_biases(small)
    with pytest.raises(ValueError, match="unknown user 30"):
        b.predict([30], [0])
    with pytest.raises(TypeError, match="integer"):
        b.predict([0.5], [0])
    with pytest.raises(ValueError, match="same length"):
        b.predict([0, 1], [0])


def test_residuals_and_mean_center(small):
    R, M = small, small > 0
    D = cf.residuals(R, np.full(R.shape, 3.0))
    assert np.allclose(D[M], R[M] - 3) and (D[~M] == 0).all()
    C, means = cf.mean_center(R, by="user")
    assert means[0] == pytest.approx(R[0][M[0]].mean())
    assert np.allclose(C[0][M[0]], R[0][M[0]] - means[0]) and (C[~M] == 0).all()
    C, means = cf.mean_center(R, by="item")
    assert means[24] == 0 and means[0] == pytest.approx(R[:, 0][M[:, 0]].mean())
    with pytest.raises(ValueError, match="'user' or 'item'"):
        cf.mean_center(R, by="film")
    with pytest.raises(ValueError, match="shape"):
        cf.residuals(R, np.zeros((2, 2)))


# --- similarity ----------------------------------------------------------------------------------

def test_cosine_similarity_matches_sklearn_and_shrinks(small):
    X = cf.mean_center(small, by="user")[0]
    S = cf.cosine_similarity(X)
    ref = sk_cosine(X)
    np.fill_diagonal(ref, 0)
    assert np.allclose(S, ref)
    assert np.allclose(cf.cosine_similarity(small.T)[24], 0)  # an empty column is similar to nothing
    S_shrunk = cf.cosine_similarity(X, mask=small > 0, shrinkage=10.0)
    for a, b in [(0, 1), (3, 7), (12, 29)]:
        common = ((small[a] > 0) & (small[b] > 0)).sum()
        assert S_shrunk[a, b] == pytest.approx(S[a, b] * common / (common + 10.0))
    with pytest.raises(ValueError, match="shrinkage"):
        cf.cosine_similarity(X, shrinkage=-1)
    with pytest.raises(ValueError, match="mask must have shape"):
        cf.cosine_similarity(X, mask=np.ones((2, 2)), shrinkage=1.0)


# --- kNN prediction --------------------------------------------------------------------------

def knn_loop(u, i, S, D, M, k, kind, reg):
    if kind == "item":
        cand = [(S[i, j], D[u, j]) for j in range(M.shape[1]) if M[u, j] and j != i]
    else:
        cand = [(S[u, v], D[v, i]) for v in range(M.shape[0]) if M[v, i] and v != u]
    top = sorted(cand, key=lambda c: -c[0])[:k]
    num = sum(s * d for s, d in top if s > 0)
    den = sum(s for s, d in top if s > 0) + reg
    return num / den if den > 0 else 0.0


@pytest.mark.parametrize("kind", ["item", "user"])
@pytest.mark.parametrize("k", [1, 3, 100])
def test_knn_predict_matches_a_loop(small, kind, k):
    R, M = small, small > 0
    D = cf.residuals(R, cf.fit_biases(R).matrix())
    S = cf.cosine_similarity(D.T if kind == "item" else D)
    users, items = np.divmod(np.arange(R.size), R.shape[1])  # every pair, rated or not
    fast = cf.knn_predict(users, items, sim=S, residuals=D, mask=M, k=k, kind=kind, reg=0.5)
    slow = [knn_loop(u, i, S, D, M, k, kind, 0.5) for u, i in zip(users, items)]
    assert np.allclose(fast, slow, atol=1e-12)


def test_knn_predict_never_uses_the_target_itself(small):
    R, M = small, small > 0
    D = cf.residuals(R, np.full(R.shape, 3.0))
    S = np.ones((R.shape[1], R.shape[1]))  # a diagonal of 1: the item would be its own best neighbour
    others = [j for j in np.flatnonzero(M[0]) if j != 0]
    out = cf.knn_predict([0], [0], sim=S, residuals=D, mask=M, k=len(others), kind="item")
    assert out[0] == pytest.approx(D[0, others].mean())  # every other rated item, never item 0
    tied = cf.knn_predict([0], [0], sim=S, residuals=D, mask=M, k=1, kind="item")
    assert tied[0] == pytest.approx(D[0, others].mean())  # ties at the k-th similarity are all kept


def test_knn_predict_bad_input(small):
    M = small > 0
    S = np.zeros((25, 25))
    with pytest.raises(ValueError, match="kind must be"):
        cf.knn_predict([0], [0], sim=S, residuals=small, mask=M, k=2, kind="film")
    with pytest.raises(ValueError, match="item-item"):
        cf.knn_predict([0], [0], sim=np.zeros((30, 30)), residuals=small, mask=M, k=2, kind="item")
    with pytest.raises(ValueError, match="positive integer"):
        cf.knn_predict([0], [0], sim=S, residuals=small, mask=M, k=0)
    with pytest.raises(ValueError, match="unknown item 25"):
        cf.knn_predict([0], [25], sim=S, residuals=small, mask=M, k=2)
    with pytest.raises(ValueError, match="mask must have shape"):
        cf.knn_predict([0], [0], sim=S, residuals=small, mask=M[:3], k=2)


# --- top-N scores ------------------------------------------------------------------------------

def test_keep_top_k_and_knn_scores_match_loops(small):
    M = small > 0
    S_item = cf.cosine_similarity(M.T.astype(float))
    S_user = cf.cosine_similarity(M.astype(float))
    S_item += 1e-9 * np.arange(S_item.size).reshape(S_item.shape)  # no ties, so the top k is unique
    np.fill_diagonal(S_item, 0)
    kept = cf.keep_top_k(S_item, 4)
    assert ((kept > 0).sum(1) <= 4).all()
    assert np.allclose(kept[3][np.argsort(-S_item[3])[:4]], S_item[3][np.argsort(-S_item[3])[:4]])
    scores = cf.knn_scores(M, S_item, 4, "item")
    for u in (0, 5):
        for i in (0, 10, 24):
            neighbours = np.argsort(-S_item[i])[:4]
            assert scores[u, i] == pytest.approx(sum(S_item[i, j] for j in neighbours if M[u, j] and S_item[i, j] > 0))
    scores = cf.knn_scores(M, S_user, 5, "user")
    for u in (0, 7):
        nearest = np.argsort(-S_user[u], kind="stable")[:5]
        assert np.allclose(scores[u], sum(S_user[u, v] * M[v] for v in nearest if S_user[u, v] > 0))
    assert np.allclose(cf.knn_scores(M, S_user, 5, "user", users=[7])[0], scores[7])
    with pytest.raises(ValueError, match="user-user"):
        cf.knn_scores(M, S_item, 5, "user")
    with pytest.raises(ValueError, match="positive integer"):
        cf.keep_top_k(S_item, 0)


# --- content ----------------------------------------------------------------------------------

def test_tfidf_by_hand():
    F = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 0, 0]], dtype=float)
    X = cf.tfidf(F)
    idf = np.log(4 / np.array([3, 1, 1]))
    row0 = np.array([idf[0], idf[1], 0]) / np.hypot(idf[0], idf[1])
    assert np.allclose(X[0], row0) and np.allclose(X[1], [1, 0, 0]) and (X[3] == 0).all()


def test_item_features_and_profiles():
    genres = [["Comedy"], ["Comedy", "Drama"], ["Horror"], ["Drama"]]
    X, names = cf.item_features(genres, [1995, 1950, None, 1990], year_edges=(1960, 1996))
    assert names == ["Comedy", "Drama", "Horror", "year < 1960", "year 1960-1995", "year >= 1996"]
    assert np.allclose(np.linalg.norm(X, axis=1), 1)
    assert X[2, 4] > 0  # the unknown year goes to the most common period, 1960-1995
    assert X[0, 4] > 0 and X[1, 3] > 0 and X[3, 4] > 0 and (X[:, 5] == 0).all()
    R = np.array([[5, 4, 0, 1], [0, 0, 2, 0]], dtype=float)
    P = cf.user_profiles(R, X, min_rating=4)
    mean = (2 * X[0] + 1 * X[1]) / 3  # a 5 counts twice as much as a 4; the 1 not at all
    assert np.allclose(P[0], mean / np.linalg.norm(mean))
    assert np.allclose(P[1], X[2])  # liked nothing: the mean of what was rated
    scores = cf.content_scores(P, X)
    assert np.allclose(scores, P @ X.T) and scores[0, 0] > scores[0, 2]
    with pytest.raises(ValueError, match="empty history"):
        cf.user_profiles(np.array([[0, 0, 0, 0.0]]), X)
    with pytest.raises(ValueError, match="4 items"):
        cf.user_profiles(np.ones((2, 3)), X)
    with pytest.raises(TypeError, match="one list of genre names"):
        cf.item_features(["Comedy", "Drama"], [1990, 1991])
    with pytest.raises(ValueError, match="years has"):
        cf.item_features([["Comedy"]], [1990, 1991])
    with pytest.raises(ValueError, match="features"):
        cf.content_scores(P, X[:, :2])


# --- beyond accuracy ---------------------------------------------------------------------------

def test_coverage_popularity_and_diversity_by_hand():
    lists = np.array([[0, 1], [1, 2]])
    assert cf.catalogue_coverage(lists, 10) == pytest.approx(0.3)
    assert cf.mean_popularity(lists, np.array([10, 20, 30, 0.0])) == pytest.approx((10 + 20 + 20 + 30) / 4)
    X = np.array([[1, 0], [1, 0], [0, 1]], dtype=float)
    # list 1: identical items (distance 0); list 2: orthogonal items (distance 1)
    assert cf.intra_list_diversity(np.array([[0, 1], [1, 2]]), X) == pytest.approx(0.5)
    lists3 = np.array([[0, 1, 2]])
    assert cf.intra_list_diversity(lists3, X) == pytest.approx((0 + 1 + 1) / 3)
    with pytest.raises(ValueError, match="unknown item 10"):
        cf.catalogue_coverage(np.array([[10]]), 10)
    with pytest.raises(ValueError, match="at least 2"):
        cf.intra_list_diversity(np.array([[0], [1]]), X)
    with pytest.raises(TypeError, match="integer item indices"):
        cf.catalogue_coverage(np.array([[0.5]]), 10)
    with pytest.raises(ValueError, match=r"\(users, k\)"):
        cf.catalogue_coverage(np.array([1, 2]), 10)


def mmr_loop(score_row, X, k, lam, exclude_row, pool):
    cand = [i for i in np.argsort(-np.where(exclude_row, -np.inf, score_row), kind="stable")[:pool]]
    rel = np.array([score_row[i] for i in cand])
    rel = (rel - rel.min()) / (rel.max() - rel.min())
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    picked = []
    while len(picked) < k:
        best, best_value = None, -np.inf
        for c, item in enumerate(cand):
            if item in picked:
                continue
            redundancy = max((Xn[item] @ Xn[j] for j in picked), default=0.0)
            value = rel[c] if not picked else lam * rel[c] - (1 - lam) * max(redundancy, 0.0)
            if value > best_value:
                best, best_value = item, value
        picked.append(best)
    return picked


def test_mmr_rerank_matches_a_loop_and_top_k():
    rng = np.random.default_rng(3)
    scores = rng.random((6, 40))
    X = rng.random((40, 5))
    exclude = rng.random((6, 40)) < 0.2
    assert np.array_equal(cf.mmr_rerank(scores, X, k=5, lam=1.0, exclude=exclude, pool=20),
                          recsys.top_k(scores, 5, exclude))
    fast = cf.mmr_rerank(scores, X, k=5, lam=0.5, exclude=exclude, pool=20)
    for u in range(6):
        assert fast[u].tolist() == mmr_loop(scores[u], X, 5, 0.5, exclude[u], 20)
    assert not np.array_equal(fast, recsys.top_k(scores, 5, exclude))  # diversity changed something
    with pytest.raises(ValueError, match="lam must be"):
        cf.mmr_rerank(scores, X, lam=1.5)
    with pytest.raises(ValueError, match="40 columns"):
        cf.mmr_rerank(scores, X[:10])


def test_holdout_last():
    train = pd.DataFrame({"u": [0, 0, 0, 1, 1, 1], "i": [5, 6, 7, 1, 2, 3], "rating": [1.0] * 6,
                          "timestamp": [3, 1, 2, 9, 8, 7]})
    fit, val = cf.holdout_last(train, n=1)
    assert sorted(zip(val["u"], val["i"])) == [(0, 5), (1, 1)]  # each user's latest
    assert len(fit) == 4
    with pytest.raises(ValueError, match="leaves none"):
        cf.holdout_last(train, n=3)
    with pytest.raises(ValueError, match="columns"):
        cf.holdout_last(pd.DataFrame({"a": [1]}))
