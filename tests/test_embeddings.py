"""utils.embeddings against references (loops, hand-computed values, PyTorch, scikit-learn)
and its error messages."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from utils import embeddings as emb
from utils import text


def cooccurrence_loop(seqs, n, window):
    C = np.zeros((n, n))
    for seq in seqs:
        for p, w in enumerate(seq):
            for q in range(max(0, p - window), min(len(seq), p + window + 1)):
                if q != p:
                    C[w, seq[q]] += 1
    return C


def ppmi_reference(C, alpha=1.0):
    C = np.asarray(C, dtype=float)
    total = C.sum()
    out = np.zeros_like(C)
    col = C.sum(axis=0) ** alpha
    for w in range(C.shape[0]):
        for c in range(C.shape[1]):
            if C[w, c] > 0:
                out[w, c] = max(0.0, np.log((C[w, c] / total) / (C[w].sum() / total * col[c] / col.sum())))
    return out


TOY = ["i like deep learning", "i like nlp", "i enjoy flying"]


@pytest.fixture(scope="module")
def toy_vocab():
    seqs = [s.split() for s in TOY]
    return text.Vocab.build(seqs), seqs


# --- counting ------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seqs=st.lists(st.lists(st.integers(0, 6), max_size=12), min_size=1, max_size=4),
       window=st.integers(1, 4))
def test_cooccurrence_matches_the_loop(seqs, window):
    if sum(len(s) for s in seqs) == 0:
        seqs = [[0]]
    C = emb.cooccurrence([np.array(s, dtype=np.int64) for s in seqs], 7, window)
    assert sp.issparse(C) and C.shape == (7, 7)
    assert np.array_equal(C.toarray(), cooccurrence_loop(seqs, 7, window))


def test_cooccurrence_does_not_cross_sequences_and_encode_drops_rare_words(toy_vocab):
    vocab, seqs = toy_vocab
    ids = emb.encode_corpus(seqs + [["zzz", "i", "qqq", "like"]], vocab)
    assert ids[-1].tolist() == [vocab.stoi["i"], vocab.stoi["like"]]  # unknown words dropped, gap closed
    C = emb.cooccurrence(ids[:3], len(vocab), 1).toarray()
    assert C[vocab.stoi["learning"], vocab.stoi["i"]] == 0  # "learning" ends sentence 1, "i" starts 2
    assert C[vocab.stoi["i"], vocab.stoi["like"]] == 2 and C.sum() == 14


def test_ppmi_hand_values_dense_and_sparse(toy_vocab):
    vocab, seqs = toy_vocab
    C = emb.cooccurrence(emb.encode_corpus(seqs, vocab), len(vocab), 1)
    P_sparse = emb.ppmi(C)
    P_dense = emb.ppmi(C.toarray())
    assert sp.issparse(P_sparse) and isinstance(P_dense, np.ndarray)
    assert np.allclose(P_sparse.toarray(), P_dense)
    s = vocab.stoi
    assert np.isclose(P_dense[s["i"], s["like"]], np.log(7 / 3))
    assert np.isclose(P_dense[s["learning"], s["deep"]], np.log(7))
    assert np.all(P_dense[:4] == 0)  # special tokens never occur


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), alpha=st.sampled_from([1.0, 0.75, 0.5]),
       shape=st.tuples(st.integers(2, 6), st.integers(2, 6)))
def test_ppmi_matches_the_definition(seed, alpha, shape):
    C = np.random.default_rng(seed).integers(0, 5, size=shape).astype(float)
    C[0, 0] += 1  # not all zero
    assert np.allclose(emb.ppmi(C, alpha), ppmi_reference(C, alpha))
    assert np.allclose(emb.ppmi(sp.csr_matrix(C), alpha).toarray(), ppmi_reference(C, alpha))


def test_svd_embeddings_dense_sparse_and_eckart_young():
    rng = np.random.default_rng(0)
    M = rng.random((30, 20)) * (rng.random((30, 20)) < 0.4)
    U, S, Vt = np.linalg.svd(M)
    E = emb.svd_embeddings(M, 5, power=1.0)
    assert np.allclose(np.abs(E), np.abs(U[:, :5] * S[:5]))  # same up to the sign of each column
    E_sparse = emb.svd_embeddings(sp.csr_matrix(M), 5, power=0.5)
    assert np.allclose(np.abs(E_sparse), np.abs(U[:, :5] * np.sqrt(S[:5])), atol=1e-8)
    assert np.allclose(E_sparse, emb.svd_embeddings(M, 5, power=0.5), atol=1e-8)  # signs fixed alike
    # cosine similarities do not depend on which SVD routine produced the vectors
    assert np.allclose(emb.normalize_rows(E_sparse) @ emb.normalize_rows(E_sparse).T,
                       emb.normalize_rows(U[:, :5] * np.sqrt(S[:5])) @ emb.normalize_rows(U[:, :5] * np.sqrt(S[:5])).T,
                       atol=1e-7)


# --- skip-gram with negative sampling ---------------------------------------------------

def test_subsampling_and_noise_distribution():
    counts = np.array([0, 1000, 100, 10, 1], dtype=float)
    f = counts / counts.sum()
    keep = emb.subsample_keep_prob(counts, t=1e-2)
    assert keep[0] == 0 and np.isclose(keep[1], np.sqrt(1e-2 / f[1])) and keep[4] == 1.0
    noise = emb.noise_distribution(counts, 0.75)
    assert np.isclose(noise.sum(), 1) and noise[0] == 0
    assert np.allclose(noise[1:], counts[1:] ** 0.75 / np.sum(counts[1:] ** 0.75))
    assert np.allclose(emb.noise_distribution(counts, 1.0), f)


def test_skipgram_pairs_are_the_cooccurrence_counts():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(0, 9, size=n) for n in (15, 1, 7, 30)]
    c, o = emb.skipgram_pairs(seqs, 3, np.random.default_rng(1))
    counted = np.zeros((9, 9))
    np.add.at(counted, (c, o), 1)
    assert np.array_equal(counted, emb.cooccurrence(seqs, 9, 3).toarray())
    keep = np.zeros(9)
    keep[[2, 5]] = 1.0  # keep only words 2 and 5
    c, o = emb.skipgram_pairs(seqs, 3, np.random.default_rng(1), keep_prob=keep)
    assert set(c) <= {2, 5} and set(o) <= {2, 5}


def test_sample_negatives_follows_the_distribution():
    noise = np.array([0.0, 0.5, 0.3, 0.2])
    draws = emb.sample_negatives(noise, (100_000,), torch.Generator().manual_seed(0))
    assert draws.dtype == torch.int64 and draws.shape == (100_000,)
    freq = np.bincount(draws.numpy(), minlength=4) / 100_000
    assert freq[0] == 0 and np.allclose(freq, noise, atol=0.01)
    assert emb.sample_negatives(noise, (3, 5)).shape == (3, 5)


def test_sgns_loss_is_bce_and_grad_matches_autograd():
    g = torch.Generator().manual_seed(0)
    v, u, U = (torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in [(4, 6), (4, 6), (4, 3, 6)])
    loss = emb.sgns_loss(v, u, U)
    logits = torch.cat([(v * u).sum(-1, keepdim=True), torch.einsum("bkd,bd->bk", U, v)], 1)
    target = torch.cat([torch.ones(4, 1), torch.zeros(4, 3)], 1).double()
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1))
    loss.sum().backward()
    for ours, ref in zip(emb.sgns_grad(v.detach(), u.detach(), U.detach()), (v.grad, u.grad, U.grad)):
        torch.testing.assert_close(ours, ref)


def test_skipgram_module_and_training_are_deterministic_and_learn():
    rng = np.random.default_rng(0)
    # two "topics": words 4-8 occur together, words 9-13 occur together
    seqs = [rng.integers(4, 9, size=40) if k % 2 else rng.integers(9, 14, size=40) for k in range(60)]
    model, losses = emb.train_sgns(seqs, 14, dim=8, window=2, steps=150, batch_size=256, lr=0.05, t=1.0)
    model2, _ = emb.train_sgns(seqs, 14, dim=8, window=2, steps=150, batch_size=256, lr=0.05, t=1.0)
    assert torch.equal(model.in_embed.weight, model2.in_embed.weight)
    assert losses[-1] < losses[0] - 1.0
    E = emb.normalize_rows(model.embeddings[4:])
    cos = E @ E.T
    same = np.equal.outer(np.arange(10) < 5, np.arange(10) < 5)
    assert cos[same & ~np.eye(10, dtype=bool)].mean() > cos[~same].mean() + 0.5
    m = emb.SkipGramNS(14, 8, generator=torch.Generator().manual_seed(0))
    assert torch.all(m.out_embed.weight == 0) and m.in_embed.weight.abs().max() <= 0.5 / 8
    out = m(torch.tensor([4, 5]), torch.tensor([6, 7]), torch.tensor([[8, 9, 10], [11, 12, 13]]))
    assert torch.allclose(out, torch.full((2,), 4 * np.log(2), dtype=out.dtype))  # output vectors are 0


# --- evaluation --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    words = ["man", "woman", "king", "queen", "apple", "pear"]
    vocab = text.Vocab(list(text.SPECIALS) + words)
    E = np.zeros((len(vocab), 4))
    E[4:] = [[1, 0, 0, 0.1], [1, 1, 0, 0.1], [1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1], [0, 0.1, 0, 1]]
    return vocab, E


def test_neighbours_and_analogy(tiny):
    vocab, E = tiny
    nn_ = emb.nearest_neighbours(E, vocab, "apple", k=2)
    assert nn_[0][0] == "pear" and np.isclose(nn_[0][1], emb.cosine_similarity(E[8], E[9]))
    assert emb.analogy(E, vocab, "man", "woman", "king", k=1)[0][0] == "queen"
    assert emb.analogy_rank(E, vocab, "man", "woman", "king", "queen") == 1
    assert emb.analogy_rank(E, vocab, "man", "woman", "king", "pear") > 1
    sparse = emb.nearest_neighbours(sp.csr_matrix(E), vocab, "apple", k=3)
    assert [w for w, _ in sparse] == [w for w, _ in emb.nearest_neighbours(E, vocab, "apple", k=3)]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), n_pos=st.integers(1, 20), n_neg=st.integers(1, 30))
def test_auc_matches_sklearn_with_ties(seed, n_pos, n_neg):
    r = np.random.default_rng(seed)
    pos, neg = r.integers(0, 5, n_pos).astype(float), r.integers(0, 5, n_neg).astype(float)
    y = np.r_[np.ones(n_pos), np.zeros(n_neg)]
    assert np.isclose(emb.auc(pos, neg), roc_auc_score(y, np.r_[pos, neg]))


def test_pair_similarity_test_separates_related_from_random():
    words = [f"w{i}" for i in range(60)]
    vocab = text.Vocab(list(text.SPECIALS) + words)
    r = np.random.default_rng(0)
    E = r.normal(size=(len(vocab), 16))
    pairs = [(f"w{i}", f"w{i + 30}") for i in range(10)]
    for a, b in pairs:  # make the related pairs nearly parallel
        E[vocab.stoi[b]] = E[vocab.stoi[a]] + 0.1 * r.normal(size=16)
    result = emb.pair_similarity_test(E, vocab, pairs, n_controls=5, band=10)
    assert result.auc > 0.95 and result.margin > 0.5 and len(result.controls) == 50
    for (a, c), (a2, b) in zip(result.control_pairs, np.repeat(pairs, 5, axis=0)):
        assert a == a2 and abs(vocab.stoi[c] - vocab.stoi[b]) <= 10 and c not in (a, b)
    assert emb.pair_similarity_test(sp.identity(len(vocab), format="csr"), vocab, pairs, 5, 10).auc == 0.5
    again = emb.pair_similarity_test(E, vocab, pairs, n_controls=5, band=10)
    assert again.control_pairs == result.control_pairs  # the same controls every time


# --- error messages ------------------------------------------------------------------------

def test_errors_speak_to_the_learner(tiny):
    vocab, E = tiny
    with pytest.raises(ValueError, match="not in the vocabulary"):
        emb.nearest_neighbours(E, vocab, "dragon")
    with pytest.raises(ValueError, match="rows but the vocabulary has"):
        emb.nearest_neighbours(E[:5], vocab, "king")
    with pytest.raises(ValueError, match="NaN or infinity"):
        emb.nearest_neighbours(np.full_like(E, np.nan), vocab, "king")
    with pytest.raises(ValueError, match="zero vector"):
        emb.cosine_similarity(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="same length"):
        emb.cosine_similarity(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        emb.ppmi(np.array([[1.0, -1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="all zeros"):
        emb.ppmi(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="alpha must be a positive"):
        emb.ppmi(np.ones((2, 2)), alpha=0)
    with pytest.raises(ValueError, match="word ids must lie in"):
        emb.cooccurrence([np.array([0, 7])], 5, 2)
    with pytest.raises(TypeError, match="list of id sequences"):
        emb.cooccurrence(np.array([1, 2, 3]), 5, 2)
    with pytest.raises(TypeError, match="integer word ids"):
        emb.cooccurrence([np.array([0.5, 1.5])], 5, 2)
    with pytest.raises(ValueError, match="corpus is empty"):
        emb.cooccurrence([np.array([], dtype=np.int64)], 5, 2)
    with pytest.raises(ValueError, match="window must be at least 1"):
        emb.cooccurrence([np.array([1, 2])], 5, 0)
    with pytest.raises(TypeError, match="tokenise first"):
        emb.encode_corpus(["a sentence"], vocab)
    with pytest.raises(ValueError, match="exceeds the rank limit"):
        emb.svd_embeddings(np.ones((3, 4)), 5)
    with pytest.raises(ValueError, match="counts are all zero"):
        emb.noise_distribution(np.zeros(3))
    with pytest.raises(ValueError, match="t must be a positive"):
        emb.subsample_keep_prob(np.ones(3), t=-1)
    with pytest.raises(ValueError, match="probability vector"):
        emb.sample_negatives(np.array([0.5, 0.6]), (3,))
    with pytest.raises(ValueError, match=r"expected v \(B, d\)"):
        emb.sgns_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 1, 3))
    with pytest.raises(ValueError, match="expected centers"):
        emb.SkipGramNS(10, 4)(torch.tensor([1, 2]), torch.tensor([1]), torch.tensor([[1], [2]]))
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        emb.skipgram_pairs([np.array([1, 2, 3])], 2, rng=0)
    with pytest.raises(ValueError, match="no pairs"):
        emb.skipgram_pairs([np.array([1])], 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fewer than batch_size"):
        emb.train_sgns([np.array([4, 5, 6])], 8, steps=2, batch_size=64, t=1.0)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        emb.pair_similarity_test(E, vocab, [("king", "dragon")])
    with pytest.raises(ValueError, match="at least one positive and one negative"):
        emb.auc([], [1.0])
