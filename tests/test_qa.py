"""Tests of utils.qa: masking, the encoder, spans, the cloze task, SQuAD metrics, baselines, BM25."""
import math

import numpy as np
import pytest
import torch

from utils import gpt, qa
from utils import summarize as S

V, FIRST = 60, 9


def small_config(T=16):
    return gpt.GPTConfig(vocab_size=V, block_size=T, n_layer=2, n_head=2, n_embd=16)


def toy_article(day=1):
    headline = [("李", "nr"), ("鹏", "nr"), ("在", "p"), ("北京", "ns"), ("考察", "v"), ("企业", "n")]
    body = [[("新华社", "nt"), ("北京", "ns"), ("１月２日", "t"), ("电", "n"), ("国务院", "nt"), ("总理", "n"),
             ("李", "nr"), ("鹏", "nr"), ("今天", "t"), ("在", "p"), ("北京", "ns"), ("考察", "v"), ("。", "w")],
            [("李", "nr"), ("鹏", "nr"), ("说", "v"), ("，", "w"), ("上海", "ns"), ("很", "d"), ("好", "a"), ("。", "w")]]
    return S.Article(headings=[headline], paragraphs=body, start=0, day=day)


# --- masking ----------------------------------------------------------------------------------

def test_bert_mask_frequencies_and_specials():
    ids = np.random.default_rng(0).integers(FIRST, V, size=(400, 50))
    ids[:, 0] = 2
    ids[:, -1] = 0
    inputs, labels = qa.bert_mask(ids, np.random.default_rng(1), 4, V, FIRST)
    chosen = labels != -100
    assert not chosen[:, [0, -1]].any() and (inputs[:, [0, -1]] == ids[:, [0, -1]]).all()
    assert (labels[chosen] == ids[chosen]).all() and (inputs[~chosen] == ids[~chosen]).all()
    share = chosen[:, 1:-1].mean()
    assert abs(share - 0.15) < 0.01
    assert abs((inputs[chosen] == 4).mean() - 0.8) < 0.03
    assert ((inputs[chosen] >= FIRST) | (inputs[chosen] == 4)).all()


def test_bert_mask_rejects_bad_input():
    with pytest.raises(ValueError, match="batch, T"):
        qa.bert_mask(np.zeros(5, dtype=int), np.random.default_rng(0), 4, V, FIRST)
    with pytest.raises(ValueError, match="split"):
        qa.bert_mask(np.zeros((2, 5), dtype=int), np.random.default_rng(0), 4, V, FIRST, split=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="p must"):
        qa.bert_mask(np.zeros((2, 5), dtype=int), np.random.default_rng(0), 4, V, FIRST, p=0)


# --- the encoder -------------------------------------------------------------------------------

def test_encoder_is_bidirectional_and_explicit_matches_fused():
    torch.manual_seed(0)
    enc = qa.Encoder(small_config())
    x = torch.randint(FIRST, V, (2, 10))
    y = x.clone()
    y[:, 7] = (x[:, 7] - FIRST + 1) % (V - FIRST) + FIRST
    with torch.no_grad():
        assert (enc(x)[:, 2] - enc(y)[:, 2]).abs().max() > 1e-5
        assert torch.allclose(enc(x, explicit=True), enc(x), atol=1e-5)
    w = enc.transformer.h[0].attn.weights
    assert w.shape == (2, 2, 10, 10) and torch.allclose(w.sum(-1), torch.ones(2, 2, 10))
    assert w.triu(diagonal=1).sum() > 0


def test_encoder_keeps_gpt_parameters_and_initialisation():
    torch.manual_seed(0)
    enc = qa.Encoder(small_config())
    torch.manual_seed(0)
    dec = gpt.GPT(small_config())
    assert enc.num_params() == dec.num_params()
    for (n1, p1), (n2, p2) in zip(enc.named_parameters(), dec.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)


def test_mlm_loss_scores_the_chosen_positions_only():
    torch.manual_seed(0)
    enc = qa.Encoder(small_config())
    x = torch.randint(FIRST, V, (3, 12))
    labels = torch.full_like(x, -100)
    labels[0, 3], labels[2, 7] = 11, 20
    h = enc(x)
    full = enc.lm_head(h)
    expected = torch.nn.functional.cross_entropy(full.reshape(-1, V), labels.reshape(-1))
    assert torch.allclose(enc.mlm_loss(x, labels), expected, atol=1e-6)
    with pytest.raises(ValueError, match="no position"):
        enc.mlm_loss(x, torch.full_like(x, -100))


def test_encoder_tags_and_errors():
    torch.manual_seed(0)
    enc = qa.Encoder(small_config(), num_tags=qa.NUM_TAGS)
    x = torch.randint(FIRST, V, (1, 6))
    with pytest.raises(ValueError, match="tag per position"):
        enc(x)
    t = torch.zeros_like(x)
    t2 = t.clone()
    t2[0, 3] = 2
    with torch.no_grad():
        assert (enc(x, t) - enc(x, t2)).abs().max() > 1e-5
    with pytest.raises(ValueError, match="KV cache"):
        enc.transformer.h[0].attn(torch.zeros(1, 3, 16), cache=[])


def test_span_reader_masks_disallowed_positions():
    torch.manual_seed(0)
    reader = qa.SpanReader(qa.Encoder(small_config()))
    x = torch.randint(FIRST, V, (2, 8))
    allowed = torch.zeros(2, 8, dtype=torch.bool)
    allowed[:, 3:7] = True
    s, e = reader(x, allowed)
    assert torch.isinf(s[:, :3]).all() and torch.isfinite(s[:, 3:7]).all() and torch.isinf(e[:, 7]).all()
    loss = reader.loss(x, allowed, torch.tensor([3, 4]), torch.tensor([5, 6]))
    assert torch.isfinite(loss)
    with pytest.raises(TypeError):
        qa.SpanReader(gpt.GPT(small_config()))


def test_best_span_equals_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(50):
        n, L = int(rng.integers(1, 20)), int(rng.integers(1, 6))
        s, e = rng.normal(size=n), rng.normal(size=n)
        i, j, score = qa.best_span(s, e, L)
        best = max((s[a] + e[b], a, b) for a in range(n) for b in range(a, min(n, a + L)))
        assert (i, j) == best[1:] and math.isclose(score, best[0])
    with pytest.raises(ValueError, match="no allowed span"):
        qa.best_span(np.full(3, -np.inf), np.zeros(3))


# --- the cloze task ------------------------------------------------------------------------------

def test_entity_mentions_merge_chinese_names():
    words = [("江", "nr"), ("泽民", "nr"), ("李", "nr"), ("鹏", "nr"), ("在", "p"), ("北京", "ns"), ("塔拉尔", "nr"),
             ("国务院", "nt")]
    assert qa.entity_mentions(words) == [("江泽民", "nr", 0), ("李鹏", "nr", 3), ("北京", "ns", 6), ("塔拉尔", "nr", 8),
                                         ("国务院", "nt", 11)]
    tags = qa.char_tags(words)
    assert tags.tolist() == [1, 4, 4, 1, 4, 0, 2, 5, 1, 4, 4, 3, 6, 6]


def test_make_clozes_and_encoding():
    article = toy_article()
    clozes = qa.make_clozes([article], passage_chars=40)
    assert [(c.answer, c.tag) for c in clozes] == [("李鹏", "nr"), ("北京", "ns")]
    c = clozes[0]
    assert c.left == "" and c.right == "在北京考察企业" and c.question == "［person］在北京考察企业"
    assert not c.passage.startswith("新华社")  # the dateline is stripped
    assert c.answer_starts == [c.passage.find("李鹏"), c.passage.rfind("李鹏")]
    stoi = {ch: FIRST + k for k, ch in enumerate(sorted(set(c.passage + c.left + c.right)))}
    sp = dict(pad=0, unk=1, cls=2, sep=5, nr=6, ns=7, nt=8)
    ids, tags, allowed, start, end, offset = qa.encode_cloze(c, stoi, sp, 40)
    inv = {v: k for k, v in stoi.items()}
    assert "".join(inv[i] for i in ids[start:end + 1]) == "李鹏" and ids[1] == sp["nr"]
    assert allowed[offset] and not allowed[offset - 1] and tags[start] == 1 and tags[end] == 4
    with pytest.raises(ValueError, match="no room"):
        qa.encode_cloze(c, stoi, sp, 5)


def test_pretraining_windows_shape_and_tags():
    article = toy_article()
    stoi = {ch: FIRST + k for k, ch in enumerate("李鹏在北京考察企业国务院总理今天说上海很好")}
    sp = dict(pad=0, unk=1, cls=2, sep=5)
    ids, tags = qa.pretraining_windows([article], stoi, sp, T=20, min_chars=3)
    assert ids.shape == tags.shape and ids.shape[1] == 20 and ids.shape[0] >= 2
    assert ids[0, 0] == 2 and (ids[0] == 5).sum() == 2
    assert qa.pretraining_windows([article], stoi, sp, T=20, rest=False)[0].shape[0] == 1


# --- metrics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pred, gold, em, f1", [
    ("李鹏", "李鹏", 1, 1), ("李鹏总理", "李鹏", 0, 2 / 3), ("北京", "上海", 0, 0), ("１９９８", "1998", 1, 1),
    ("ＡＢＣ", "abc", 1, 1), ("《人民日报》", "人民日报", 1, 1), ("", "", 1, 1), ("", "李鹏", 0, 0)])
def test_squad_metrics(pred, gold, em, f1):
    assert qa.exact_match(pred, gold) == em and math.isclose(qa.f1_score(pred, gold), f1)


def test_squad_scores_and_errors():
    assert qa.squad_scores(["李鹏", "北京"], ["李鹏", ["上海", "北京市"]]) == (0.5, pytest.approx((1 + 0.8) / 2))
    with pytest.raises(ValueError):
        qa.squad_scores([], [])
    with pytest.raises(TypeError):
        qa.exact_match(3, "x")


# --- baselines ------------------------------------------------------------------------------------

def test_baselines_on_a_toy_cloze():
    c = qa.make_clozes([toy_article()], passage_chars=40)[1]  # 李鹏在［place］考察企业
    assert qa.most_frequent_entity(c) == "北京"
    assert qa.best_sentence_entity(c) == "北京" and qa.best_sentence_entity(c, unit="bigram") == "北京"
    person = qa.make_clozes([toy_article()], passage_chars=40)[0]
    assert qa.most_frequent_entity(person) == "李鹏"
    assert qa.context_match(c, 1) == "北京"  # 在 … 考
    assert qa.context_match(person, 1) == ""  # the blank opens the headline: no left context
    with pytest.raises(ValueError):
        qa.best_sentence_entity(c, unit="char")


def test_predict_span_typed_and_free():
    c = qa.make_clozes([toy_article()], passage_chars=40)[1]
    s = np.full(len(c.passage) + 2, -5.0)
    e = np.full(len(c.passage) + 2, -5.0)
    a = c.passage.find("上海") + 2
    s[a], e[a + 1] = 3, 3
    s[2], e[2] = 4, 4  # the free best span is one character that is no place
    assert qa.predict_span(c, s, e, 2)[0] == c.passage[0]
    assert qa.predict_span(c, s, e, 2, typed=True)[0] == "上海"


# --- retrieval ------------------------------------------------------------------------------------

def test_bm25_equals_the_formula():
    docs = [list("aabcd"), list("bbbbbc"), list("cf"), list("a")]
    q = list("abz") + ["a"]
    index = qa.BM25(docs, k1=1.5, b=0.6)
    N, avgdl = 4, np.mean([len(d) for d in docs])
    for k, d in enumerate(docs):
        want = 0.0
        for t in q:
            n = sum(t in x for x in docs)
            f = d.count(t)
            want += math.log(1 + (N - n + 0.5) / (n + 0.5)) * f * 2.5 / (f + 1.5 * (0.4 + 0.6 * len(d) / avgdl))
        assert math.isclose(index.scores(q)[k], want, rel_tol=1e-12)
    assert index.top_k(list("f"), 2)[0] == 2
    with pytest.raises(TypeError):
        index.scores("abc")
    with pytest.raises(ValueError):
        qa.BM25([])


def test_bigrams_and_recall():
    assert qa.bigrams("北京，新年") == ["北京", "京新", "新年"] and qa.bigrams("京") == ["京"]
    assert qa.recall_at_k([[3, 1], [0, 2]], [1, 5], 1) == 0 and qa.recall_at_k([[3, 1], [0, 2]], [1, 5], 2) == 0.5


def test_bigram_cloze_is_a_distribution_and_matches_the_formula():
    rng = np.random.default_rng(0)
    ids = rng.integers(FIRST, 20, size=(50, 12))
    model = qa.BigramCloze(ids, 20, FIRST)
    inputs = ids[:2].copy()
    inputs[0, 5] = 4
    pos = (np.array([0]), np.array([5]))
    logp = model.log_probs(inputs, pos, k=0.5)[0]
    assert math.isclose(np.exp(logp[FIRST:]).sum(), 1, rel_tol=1e-9) and np.isinf(logp[:FIRST]).all()
    l, r = inputs[0, 4], inputs[0, 6]
    pair = model.pair + 0.5
    p_next = pair / pair[:, FIRST:].sum(1, keepdims=True)
    score = np.log(p_next[l, FIRST:]) + np.log(p_next[FIRST:, r])
    assert np.allclose(logp[FIRST:], score - np.logaddexp.reduce(score))
    uni = model.log_probs(inputs, pos, bidirectional=False)[0]
    assert math.isclose(np.exp(uni[FIRST:]).sum(), 1, rel_tol=1e-9)


# --- the shipped pretrained encoder ---------------------------------------------------------------

def test_recipe_hash_names_the_file_and_changes_with_the_recipe():
    import copy

    h = qa.recipe_hash()
    assert len(h) == 8 and int(h, 16) >= 0 and qa.recipe_hash() == h
    other = copy.deepcopy(qa.PRETRAIN_RECIPE)
    other["train"]["steps"] += 1
    assert qa.recipe_hash(other) != h
    assert qa.pretrained_path().name == f"bert_pd1998_{h}.pt" and qa.pretrained_path().parent.name == "models"


def test_shipped_encoder_loads_and_matches_the_recipe():
    path = qa.pretrained_path()
    assert path.exists(), f"the shipped encoder {path} is missing: run {qa.PRETRAIN_COMMAND}"
    assert path.stat().st_size < 5e6
    encoder, meta = qa.pretrained_encoder()
    assert meta["recipe"] == qa.PRETRAIN_RECIPE and meta["hash"] == qa.recipe_hash()
    assert meta["steps"] == qa.PRETRAIN_RECIPE["train"]["steps"] == len(meta["losses"])
    assert meta["train_cpu_s"] > 0 and len(meta["vocab"]) == qa.PRETRAIN_RECIPE["data"]["vocab_size"]
    config = qa.encoder_config()
    assert isinstance(encoder, qa.Encoder) and encoder.config.n_embd == config.n_embd
    assert all(p.dtype == torch.float32 and torch.isfinite(p).all() for p in encoder.parameters())
    x = torch.randint(12, config.vocab_size, (2, 10))
    with torch.no_grad():
        h = encoder(x, torch.zeros_like(x))
    assert h.shape == (2, 10, config.n_embd)


def test_pretrained_encoder_errors_name_the_rebuild_command(tmp_path):
    import copy

    with pytest.raises(FileNotFoundError, match="tools/pretrain_bert.py"):
        qa.pretrained_encoder(tmp_path / "missing.pt")
    other = copy.deepcopy(qa.PRETRAIN_RECIPE)
    other["model"]["n_embd"] = 16
    other["model"]["n_layer"] = 1
    enc = qa.Encoder(qa.encoder_config(other), num_tags=other["model"]["num_tags"])
    path = tmp_path / "other.pt"
    torch.save({"state": enc.state_dict(), "meta": {"recipe": other, "hash": qa.recipe_hash(other)}}, path)
    with pytest.raises(ValueError, match="another recipe.*tools/pretrain_bert.py"):
        qa.pretrained_encoder(path)
    loaded, meta = qa.pretrained_encoder(path, recipe=other)
    assert loaded.config.n_embd == 16 and meta["hash"] == qa.recipe_hash(other)
