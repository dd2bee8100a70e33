"""Tests of utils.textclf: n-grams, encoding, batching, pooling, TextCNN, metrics, occlusion."""
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.feature_extraction.text import CountVectorizer

from utils import text, textclf

CHINESE = st.text(alphabet="不错好差很贵便宜的了，。房间服务", max_size=30)


# --- n-grams and leaks ---------------------------------------------------------------

def test_char_ngrams_examples_and_errors():
    assert textclf.char_ngrams("不错啊", 2) == ["不错", "错啊"]
    assert textclf.char_ngrams("不错啊", 1) == ["不", "错", "啊"]
    assert textclf.char_ngrams("好好好", 2) == ["好好", "好好"]
    assert textclf.char_ngrams("好", 2) == [] and textclf.char_ngrams("", 1) == []
    with pytest.raises(TypeError, match="expects a string"):
        textclf.char_ngrams(["不", "错"], 2)
    with pytest.raises(ValueError, match="positive integer"):
        textclf.char_ngrams("不错", 0)


@settings(max_examples=60, deadline=None)
@given(CHINESE)
def test_bag_of_ngrams_matches_scikit_learn(s):
    vec = CountVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False)
    assert textclf.bag_of_ngrams(s, ns=(1, 2, 3)) == Counter(vec.build_analyzer()(s))


def test_bag_of_ngrams_errors():
    with pytest.raises(TypeError, match="sequence of n-gram sizes"):
        textclf.bag_of_ngrams("不错", ns=2)
    with pytest.raises(ValueError, match="empty"):
        textclf.bag_of_ngrams("不错", ns=())


def test_leak_count_counts_test_entries_with_repeats():
    assert textclf.leak_count(["a", "b", "b"], ["b", "b", "c", "a"]) == 3
    assert textclf.leak_count(np.array(["a"], dtype=object), np.array(["a", "a"], dtype=object)) == 2
    assert textclf.leak_count([], ["a"]) == 0
    with pytest.raises(TypeError, match="not one string"):
        textclf.leak_count("abc", ["a"])


# --- encoding and batches -------------------------------------------------------------

@pytest.fixture(scope="module")
def vocab():
    return text.Vocab.build([list("不错好差很贵"), list("不错好")], min_freq=1)


def test_encode_texts_pads_cuts_and_marks_unknown(vocab):
    ids, lengths = textclf.encode_texts(["不错", "很贵很贵很贵", "龘", ""], vocab, max_len=4)
    assert ids.shape == (4, 4) and ids.dtype == np.int64
    assert lengths.tolist() == [2, 4, 1, 1]
    assert ids[0].tolist() == [vocab.stoi["不"], vocab.stoi["错"], vocab.pad_id, vocab.pad_id]
    assert ids[1].tolist() == [vocab.stoi[c] for c in "很贵很贵"]  # cut to max_len
    assert ids[2, 0] == vocab.unk_id and ids[3, 0] == vocab.unk_id  # unknown, and empty -> one <unk>
    ids, _ = textclf.encode_texts(["不"], vocab, max_len=5)
    assert ids.shape == (1, 5)  # always the full width


def test_encode_texts_errors(vocab):
    with pytest.raises(TypeError, match="not one string"):
        textclf.encode_texts("不错", vocab, 4)
    with pytest.raises(TypeError, match="utils.text.Vocab"):
        textclf.encode_texts(["不错"], {"不": 4}, 4)
    with pytest.raises(ValueError, match="max_len"):
        textclf.encode_texts(["不错"], vocab, 0)
    with pytest.raises(ValueError, match="at least one text"):
        textclf.encode_texts([], vocab, 4)


def test_length_bucket_loader_uses_every_example_once_and_trims():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 30, size=203)
    ids = np.zeros((203, 30), dtype=np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(4, 50, size=n)
    y = np.arange(203)
    loader = textclf.LengthBucketLoader(ids, lengths, y, batch_size=16, shuffle=True, seed=0, pool_batches=4,
                                        min_width=4)
    assert len(loader) == 13
    seen = []
    for X, yb in loader:
        assert X.dtype == torch.int64 and X.shape[0] == len(yb)
        assert X.shape[1] == max(lengths[yb.numpy()].max(), 4)  # trimmed to the longest text
        assert torch.equal(X, torch.from_numpy(ids[yb.numpy(), :X.shape[1]]))  # rows match their labels
        seen += yb.tolist()
    assert sorted(seen) == list(range(203))
    first, second = [b.tolist() for b in loader.batches()], [b.tolist() for b in loader.batches()]
    assert first != second  # a new shuffle every epoch
    plain = textclf.LengthBucketLoader(ids, lengths, y, batch_size=16)
    assert [b.tolist() for b in plain.batches()] == [b.tolist() for b in plain.batches()]


def test_length_bucket_loader_errors():
    ids, lengths, y = np.zeros((3, 5), dtype=np.int64), np.array([1, 2, 3]), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="2-D"):
        textclf.LengthBucketLoader(ids[0], lengths, y)
    with pytest.raises(ValueError, match="same length"):
        textclf.LengthBucketLoader(ids, lengths[:2], y)
    with pytest.raises(ValueError, match="at least one example"):
        textclf.LengthBucketLoader(ids[:0], lengths[:0], y[:0])
    with pytest.raises(ValueError, match="at least 1"):
        textclf.LengthBucketLoader(ids, lengths, y, batch_size=0)
    with pytest.raises(ValueError, match="lengths must lie"):
        textclf.LengthBucketLoader(ids, np.array([1, 2, 9]), y)


# --- pooling -----------------------------------------------------------------------------

def test_masked_mean_and_max_match_loops():
    g = torch.Generator().manual_seed(0)
    H = torch.randn(5, 8, 3, generator=g, dtype=torch.float64) + 3.0
    lengths = torch.tensor([8, 1, 3, 5, 2])
    mask = torch.arange(8)[None, :] < lengths[:, None]
    mean = torch.stack([H[b, :lengths[b]].mean(0) for b in range(5)])
    maximum = torch.stack([H[b, :lengths[b]].max(0).values for b in range(5)])
    torch.testing.assert_close(textclf.masked_mean(H, mask), mean)
    torch.testing.assert_close(textclf.masked_max(H, mask), maximum)
    Hg = H.clone().requires_grad_(True)  # gradients reach only the real positions
    textclf.masked_mean(Hg, mask).sum().backward()
    assert (Hg.grad[~mask] == 0).all() and torch.allclose(Hg.grad[1, 0], torch.ones(3, dtype=torch.float64))


def test_pooling_errors():
    H = torch.zeros(2, 4, 3)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        textclf.masked_mean(H[0], torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask must have shape"):
        textclf.masked_max(H, torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one valid"):
        textclf.masked_mean(H, torch.tensor([[True] * 4, [False] * 4]))
    with pytest.raises(TypeError, match="torch tensors"):
        textclf.masked_mean(H.numpy(), np.ones((2, 4), dtype=bool))


def test_window_mask():
    valid = textclf.window_mask(torch.tensor([5, 2, 1]), num_windows=4, width=2)
    assert valid.tolist() == [[True, True, True, True], [True, False, False, False],
                              [True, False, False, False]]  # a 1-char text keeps its first window


# --- TextCNN ---------------------------------------------------------------------------------

def numpy_textcnn_features(net, ids_row, length):
    """Max over the windows inside the text of ReLU(conv), for every width, in NumPy float64."""
    E = net.embedding.weight.detach().double().numpy()[ids_row[:max(length, max(net.widths))]]
    out = []
    for width, conv in zip(net.widths, net.convs):
        W, b = conv.weight.detach().double().numpy(), conv.bias.detach().double().numpy()
        starts = range(max(length - width, 0) + 1)
        windows = [np.maximum(0, np.einsum("kdj,jd->k", W, E[t:t + width]) + b) for t in starts]
        out.append(np.max(windows, axis=0))
    return np.concatenate(out)


def test_textcnn_features_match_numpy_and_ignore_padding():
    torch.manual_seed(0)
    net = textclf.TextCNN(30, embed_dim=5, num_filters=4, widths=(2, 3, 4)).eval()
    rng = np.random.default_rng(1)
    lengths = [1, 3, 7, 12]
    ids = np.zeros((4, 15), dtype=np.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = rng.integers(1, 30, size=n)
    features = net.features(torch.from_numpy(ids)).detach().double().numpy()
    for r, n in enumerate(lengths):
        assert np.allclose(features[r], numpy_textcnn_features(net, ids[r], n), atol=1e-5)
        alone = net(torch.from_numpy(ids[r:r + 1, :n]))  # no padding at all (even shorter than width 4)
        torch.testing.assert_close(alone, net(torch.from_numpy(ids))[r:r + 1])
    assert net(torch.from_numpy(ids)).shape == (4, 2)


def test_textcnn_pad_embedding_and_training_mode():
    torch.manual_seed(0)
    net = textclf.TextCNN(20, embed_dim=4, num_filters=3, dropout=0.5)
    assert torch.equal(net.embedding.weight[0], torch.zeros(4))
    assert 0.05 < net.embedding.weight[1:].std().item() < 0.2  # small initial vectors
    ids = torch.randint(1, 20, (8, 6))
    net.train()
    assert not torch.equal(net(ids), net(ids))  # dropout is active in training mode
    net.eval()
    assert torch.equal(net(ids), net(ids))


def test_textcnn_errors():
    net = textclf.TextCNN(10, embed_dim=4, num_filters=3)
    with pytest.raises(TypeError, match="integer character ids"):
        net(torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        net(torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="vocabulary"):
        net(torch.tensor([[1, 2, 10]]))
    with pytest.raises(ValueError, match="vocab_size"):
        textclf.TextCNN(0)
    with pytest.raises(ValueError, match="widths"):
        textclf.TextCNN(10, widths=(2, 0))
    with pytest.raises(ValueError, match="dropout"):
        textclf.TextCNN(10, dropout=1.0)


def test_predict_proba_restores_the_input_order():
    torch.manual_seed(0)
    net = textclf.TextCNN(40, embed_dim=4, num_filters=3)
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 12, size=37)
    ids = np.zeros((37, 12), dtype=np.int64)
    for r, n in enumerate(lengths):
        ids[r, :n] = rng.integers(1, 40, size=n)
    probs = textclf.predict_proba(net, ids, lengths, batch_size=5)
    assert net.training  # the mode is restored
    net.eval()
    with torch.no_grad():
        one_by_one = np.concatenate([net(torch.from_numpy(ids[r:r + 1, :lengths[r]])).softmax(1).numpy()
                                     for r in range(37)])
    assert np.allclose(probs, one_by_one, atol=1e-6) and np.allclose(probs.sum(1), 1)
    with pytest.raises(ValueError, match="2-D"):
        textclf.predict_proba(net, ids[0])


# --- metrics and occlusion ------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=40))
def test_binary_metrics_match_scikit_learn(pairs):
    y_true, y_pred = (np.array(v) for v in zip(*pairs))
    m = textclf.binary_metrics(y_true, y_pred)
    p, r, f, _ = metrics.precision_recall_fscore_support(y_true, y_pred, average="binary", zero_division=0)
    assert np.allclose([m["accuracy"], m["precision"], m["recall"], m["f1"]],
                       [metrics.accuracy_score(y_true, y_pred), p, r, f])
    assert np.array_equal(textclf.confusion_matrix(y_true, y_pred),
                          metrics.confusion_matrix(y_true, y_pred, labels=[0, 1]))


def test_confusion_matrix_hand_example_and_errors():
    C = textclf.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], num_classes=3)
    assert C.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    with pytest.raises(ValueError, match="4 labels but y_pred has 3"):
        textclf.confusion_matrix([0, 1, 1, 0], [0, 1, 1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]"):
        textclf.binary_metrics([0, 2], [0, 1])
    with pytest.raises(TypeError, match="integer labels"):
        textclf.confusion_matrix([0.2, 0.9], [0, 1])
    with pytest.raises(ValueError, match="non-empty"):
        textclf.confusion_matrix([], [])


def test_occlusion_of_a_linear_scorer():
    weights = {"好": 0.3, "不": -0.2}
    prob = lambda texts: np.array([0.5 + sum(weights.get(c, 0.0) for c in s) for s in texts])
    p, contrib = textclf.occlusion(prob, "不好啊")
    assert np.isclose(p, 0.6) and np.allclose(contrib, [-0.2, 0.3, 0.0])
    with pytest.raises(ValueError, match="non-empty"):
        textclf.occlusion(prob, "")
    with pytest.raises(TypeError, match="expects a string"):
        textclf.occlusion(prob, ["不好"])
    with pytest.raises(ValueError, match="one probability per text"):
        textclf.occlusion(lambda texts: np.zeros((len(texts), 2)), "不好")


def test_near_duplicate_overlap_against_brute_force():
    train = ["我喜欢这本书很好看", "今天天气不错，心情很好", "房间干净，服务一流", "质量差"]
    test = ["我喜欢这本书很好", "房间干净，服务二流", "完全不同的文字内容", "短", "今天天气不错"]
    overlap, nearest = textclf.near_duplicate_overlap(train, test, n=4)
    for j, s in enumerate(test):
        grams = set(textclf.char_ngrams(s, 4))
        shares = [len(grams & set(textclf.char_ngrams(t, 4))) / max(len(grams), len(set(textclf.char_ngrams(t, 4))))
                  if grams else 0.0 for t in train]
        assert overlap[j] == pytest.approx(max(shares))
        assert nearest[j] == (int(np.argmax(shares)) if max(shares) > 0 else -1)
    assert overlap[3] == 0.0 and nearest[3] == -1  # too short for a 4-gram
    assert 0.2 < overlap[4] < 0.8  # contained in a longer training text: not a near-duplicate
    inside, where = textclf.near_duplicate_overlap(train, test, n=4, contained=True)
    assert inside[4] == 1.0 and where[4] == 1 and inside[0] == 1.0  # ... unless containment is what we ask
    with pytest.raises(TypeError, match="list of texts"):
        textclf.near_duplicate_overlap("abc", test)
    with pytest.raises(ValueError, match="n must be"):
        textclf.near_duplicate_overlap(train, test, n=0)


@pytest.mark.parametrize("b, c", [(3, 12), (12, 3), (7, 7), (0, 9), (0, 0), (213, 138), (1500, 1400)])
def test_mcnemar_exact_equals_scipy_binomial_test(b, c):
    from scipy.stats import binomtest

    expected = 1.0 if b + c == 0 else binomtest(min(b, c), b + c, 0.5).pvalue
    assert textclf.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-9, abs=1e-300)
    with pytest.raises(ValueError, match="non-negative integer"):
        textclf.mcnemar_exact(-1, c)
