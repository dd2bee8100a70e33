import numpy as np
import pandas as pd
import pytest

from utils import data, recsys


@pytest.fixture(scope="module")
def split():
    return recsys.split_by_time(data.load("movielens100k").ratings, test_per_user=10)


def test_split_by_time_holds_out_each_users_latest(split):
    assert split.num_users == 943 and split.num_items == 1682
    assert len(split.test) == 9430 and len(split.train) == 100_000 - 9430
    last_train = split.train.groupby("u")["timestamp"].max()
    first_test = split.test.groupby("u")["timestamp"].min()
    assert (last_train <= first_test).all()  # nothing in training is later than the user's test
    assert len(split.test_items()) == 943 and all(len(t) == 10 for t in split.test_items())


def test_rating_matrix_and_rmse(split):
    R = recsys.rating_matrix(split.train, split.num_users, split.num_items)
    assert (R > 0).sum() == len(split.train) and R.max() == 5
    assert recsys.rmse([3, 4], [3, 2]) == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="same shape"):
        recsys.rmse([1, 2], [1])
    with pytest.raises(ValueError, match="no ratings"):
        recsys.rmse([], [])


def test_top_k_excludes_and_orders():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [4, 3, 2, 1]], dtype=float)
    assert recsys.top_k(scores, 2).tolist() == [[1, 3], [0, 1]]
    exclude = np.array([[0, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)
    assert recsys.top_k(scores, 2, exclude).tolist() == [[3, 2], [1, 2]]
    with pytest.raises(ValueError, match="k must be"):
        recsys.top_k(scores, 5)


def test_precision_recall_ndcg_by_hand():
    # user 0: hits at ranks 1 and 3 of 3; relevant {a, c, x}
    p, r, n, h = recsys.precision_recall_ndcg([[1, 2, 3]], [{1, 3, 9}], k=3)
    assert p == pytest.approx(2 / 3) and r == pytest.approx(2 / 3) and h == 1.0
    dcg = 1 + 1 / np.log2(4)
    ideal = 1 + 1 / np.log2(3) + 1 / np.log2(4)
    assert n == pytest.approx(dcg / ideal)
    perfect = recsys.precision_recall_ndcg([[1, 3, 9]], [{1, 3, 9}], k=3)
    assert perfect == (1.0, 1.0, 1.0, 1.0)
    assert recsys.precision_recall_ndcg([[5, 6]], [{1}], k=2) == (0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="no user has any relevant"):
        recsys.precision_recall_ndcg([[1]], [set()], k=1)


def test_ranking_report_popularity_beats_random(split):
    popularity = np.bincount(split.train["i"], minlength=split.num_items).astype(float)
    pop = recsys.ranking_report(np.tile(popularity, (split.num_users, 1)), split, k=10)
    rnd = recsys.ranking_report(np.random.default_rng(0).random((split.num_users, split.num_items)), split, k=10)
    assert pop["precision@10"] > 5 * rnd["precision@10"]
    with pytest.raises(ValueError, match="scores must have shape"):
        recsys.ranking_report(np.zeros((3, 3)), split)


def test_bad_ratings_input():
    with pytest.raises(ValueError, match="columns"):
        recsys.split_by_time(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="leave no training data"):
        recsys.split_by_time(pd.DataFrame({"user": [1, 1], "item": [1, 2], "rating": [3.0, 4.0], "timestamp": [1, 2]}),
                             test_per_user=2)


def test_leak_share_of_the_per_user_split(split):
    share = recsys.leak_share(split)
    t_train = split.train["timestamp"].to_numpy()
    by_hand = np.mean([(t_train > t).mean() for t in split.test["timestamp"].to_numpy()[::50]])
    assert 0.3 < share < 0.55 and abs(share - by_hand) < 0.03  # 42% of training lies after a test rating
    # a split by one global cutoff has no leak
    cut = split.test["timestamp"].min()
    early = split.train[split.train["timestamp"] <= cut]
    late = pd.concat([split.train[split.train["timestamp"] > cut], split.test])
    glob = recsys.Split(train=early, test=late, num_users=split.num_users, num_items=split.num_items,
                        user_index=split.user_index, item_index=split.item_index)
    assert recsys.leak_share(glob) == 0.0
    tiny = pd.DataFrame({"u": [0, 0, 1], "i": [0, 1, 2], "rating": [1.0] * 3, "timestamp": [1, 9, 5]})
    by_rows = recsys.Split(train=tiny.iloc[:2], test=tiny.iloc[2:], num_users=2, num_items=3, user_index={}, item_index={})
    assert recsys.leak_share(by_rows) == 0.5  # one of the two training ratings is dated after the test one
