"""utils.seq2seq: the date corpus, attention against references, padding invariance, decoding,
BLEU against known values, and the error messages."""
import datetime as dt
import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils import attention, seq2seq, text

SAT = dt.date(1998, 3, 7)


# --- the date corpus -------------------------------------------------------------------

def test_ordinal():
    cases = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st",
             22: "22nd", 23: "23rd", 30: "30th", 31: "31st", 101: "101st", 111: "111th", 112: "112th"}
    assert {n: seq2seq.ordinal(n) for n in cases} == cases
    with pytest.raises(ValueError, match="positive"):
        seq2seq.ordinal(0)
    with pytest.raises(TypeError, match="integer"):
        seq2seq.ordinal("3")


def test_chinese_date_and_known_weekdays():
    assert seq2seq.chinese_date(SAT) == "1998年3月7日"
    assert seq2seq.chinese_date(SAT, weekday=True) == "1998年3月7日星期六"
    assert seq2seq.chinese_date(dt.date(1969, 7, 20), weekday=True).endswith("星期日")  # Apollo 11: Sunday
    assert seq2seq.chinese_date(dt.date(2008, 8, 8), weekday=True).endswith("星期五")  # Friday
    assert seq2seq.chinese_date(dt.datetime(2000, 1, 1, 12, 30), weekday=True) == "2000年1月1日星期六"
    with pytest.raises(TypeError, match="datetime.date"):
        seq2seq.chinese_date("1998-03-07")


def test_formats_of_one_date():
    expected = {"iso": "1998-03-07", "us_numeric": "03/07/1998", "dotted": "07.03.1998", "compact": "19980307",
                "us_long": "March 7, 1998", "eu_long": "7 March 1998", "short": "7 Mar 98",
                "us_ordinal": "March 7th, 1998", "oracle": "07-MAR-1998",
                "weekday_long": "Saturday, the 7th of March 1998", "weekday_short": "Sat, Mar 7, 1998",
                "weekday_eu": "Saturday 7 March 1998", "eu_ordinal": "7th March 1998", "ymd_slash": "1998/3/7"}
    assert {name: seq2seq.format_date(SAT, name)[0] for name in seq2seq.FORMATS} == expected
    for name in seq2seq.FORMATS:
        target = seq2seq.format_date(SAT, name)[1]
        assert target == ("1998年3月7日星期六" if name in seq2seq.WEEKDAY_FORMATS else "1998年3月7日")
    assert set(seq2seq.TRAIN_FORMATS).isdisjoint(seq2seq.HELD_OUT_FORMATS)
    assert set(seq2seq.TRAIN_FORMATS) | set(seq2seq.HELD_OUT_FORMATS) == set(seq2seq.FORMATS)


def test_every_format_is_unambiguous_over_the_whole_range():
    days = seq2seq.all_dates()
    assert len(days) == 36_525 and days[0] == seq2seq.FIRST_DATE and days[-1] == seq2seq.LAST_DATE
    for name, fmt in seq2seq.FORMATS.items():
        strings = [fmt(d) for d in days]
        assert len(set(strings)) == len(days), name  # one string per date: the task is well posed


def test_format_errors():
    with pytest.raises(ValueError, match="unknown format"):
        seq2seq.format_date(SAT, "klingon")
    with pytest.raises(ValueError, match="two-digit year is ambiguous"):
        seq2seq.format_date(dt.date(1949, 12, 31), "short")
    with pytest.raises(ValueError, match="before first"):
        seq2seq.all_dates(dt.date(2000, 1, 2), dt.date(2000, 1, 1))
    with pytest.raises(ValueError, match="per_date"):
        seq2seq.make_examples([SAT], ["iso"], np.random.default_rng(0), per_date=2)
    with pytest.raises(ValueError, match="unknown"):
        seq2seq.make_examples([SAT], ["iso", "nope"], np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        seq2seq.make_examples([SAT], ["iso"], 0)


@pytest.fixture(scope="module")
def corpus():
    return seq2seq.date_corpus(num_train=3_000, num_val_dates=100, num_test_dates=200, held_out_per_format=50,
                               seed=1)


def test_corpus_is_split_by_date(corpus):
    train, val, test = ({e.date for e in part} for part in (corpus.train, corpus.val, corpus.test))
    assert not train & val and not train & test and not val & test
    assert not set(corpus.train_dates) & set(corpus.test_dates)
    assert len(corpus.train) == 3_000 and len(corpus.val) == 100 and len(corpus.test) == 400
    assert len(test) == 200 and {e.date for e in corpus.held_out} <= test
    assert {e.fmt for e in corpus.held_out} == set(seq2seq.HELD_OUT_FORMATS)
    assert {e.fmt for e in corpus.train + corpus.val + corpus.test} <= set(seq2seq.TRAIN_FORMATS)
    for e in corpus.test[:50] + corpus.held_out[:10]:
        assert (e.source, e.target) == seq2seq.format_date(e.date, e.fmt)
    pairs = collections_of_formats(corpus.test)
    assert all(len(formats) == 2 for formats in pairs.values())  # two DIFFERENT formats per test date


def collections_of_formats(examples):
    out = {}
    for e in examples:
        out.setdefault(e.date, set()).add(e.fmt)
    return out


def test_corpus_is_deterministic(corpus):
    again = seq2seq.date_corpus(num_train=3_000, num_val_dates=100, num_test_dates=200, held_out_per_format=50,
                                seed=1)
    assert again.train == corpus.train and again.test == corpus.test
    other = seq2seq.date_corpus(num_train=3_000, num_val_dates=100, num_test_dates=200, seed=2)
    assert other.test_dates != corpus.test_dates


def test_corpus_errors():
    with pytest.raises(ValueError, match="num_train"):
        seq2seq.date_corpus(num_train=0)
    with pytest.raises(ValueError, match="leave none"):
        seq2seq.date_corpus(num_val_dates=20_000, num_test_dates=20_000)


# --- batches -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vocabs(corpus):
    return seq2seq.build_vocabs(corpus.train)


def test_vocabs_and_batches(corpus, vocabs):
    src_vocab, tgt_vocab = vocabs
    assert set("0123456789年月日星期一二三四五六") <= set(tgt_vocab.itos)
    src_ids, tgt_ids = seq2seq.encode_examples(corpus.train[:5], src_vocab, tgt_vocab)
    assert all(t[-1] == tgt_vocab.eos_id for t in tgt_ids)
    src, lengths, tgt_in, tgt_out = seq2seq.make_batch(src_ids, tgt_ids)
    assert src.shape == (5, max(map(len, src_ids))) and lengths.tolist() == [len(s) for s in src_ids]
    assert tgt_in.shape == tgt_out.shape == (5, max(map(len, tgt_ids)))
    for row, t in enumerate(tgt_ids):
        assert tgt_in[row, :len(t)].tolist() == [tgt_vocab.bos_id] + t[:-1]
        assert tgt_out[row, :len(t)].tolist() == t
        assert (tgt_out[row, len(t):] == 0).all()
    assert "".join(tgt_vocab.decode(tgt_out[0])) == corpus.train[0].target


def test_batch_errors():
    with pytest.raises(ValueError, match="empty"):
        seq2seq.make_batch([])
    with pytest.raises(ValueError, match="source sequence is empty"):
        seq2seq.make_batch([[4, 5], []])
    with pytest.raises(ValueError, match="2 sources but 1 targets"):
        seq2seq.make_batch([[4], [5]], [[3]])
    with pytest.raises(ValueError, match="no examples"):
        seq2seq.build_vocabs([])


# --- attention ---------------------------------------------------------------------------

def _additive_loop(H, M, mask, module):
    W_q, W_k = module.W_q.weight.detach().numpy(), module.W_k.weight.detach().numpy()
    b_k, v = module.W_k.bias.detach().numpy(), module.v.weight.detach().numpy()[0]
    scores = np.full((len(H), len(M)), -np.inf)
    for t, j in itertools.product(range(len(H)), range(len(M))):
        if mask[j]:
            scores[t, j] = v @ np.tanh(W_q @ H[t] + W_k @ M[j] + b_k)
    w = np.exp(scores - scores.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    return w @ M, w


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 4), S=st.integers(1, 6), d=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_additive_attention_matches_loops(B, T, S, d, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    module = seq2seq.Attention(d, "additive", attn_dim=3).double()
    H, M = rng.normal(size=(B, T, d)), rng.normal(size=(B, S, d))
    mask = rng.random((B, S)) < 0.7
    mask[:, 0] = True
    ctx, w = module(torch.tensor(H), torch.tensor(M), torch.tensor(M), torch.tensor(mask))
    for b in range(B):
        ctx_ref, w_ref = _additive_loop(H[b], M[b], mask[b], module)
        assert np.allclose(ctx[b].detach().numpy(), ctx_ref, atol=1e-12)
        assert np.allclose(w[b].detach().numpy(), w_ref, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(B=st.integers(1, 3), T=st.integers(1, 4), S=st.integers(1, 6), d=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_dot_attention_matches_utils_attention(B, T, S, d, seed):
    rng = np.random.default_rng(seed)
    Q, K, V = rng.normal(size=(B, T, d)), rng.normal(size=(B, S, d)), rng.normal(size=(B, S, d))
    mask = rng.random((B, S)) < 0.7
    mask[:, -1] = True
    ctx, w = seq2seq.Attention(d, "dot")(torch.tensor(Q), torch.tensor(K), torch.tensor(V), torch.tensor(mask))
    ctx_ref, w_ref = attention.scaled_dot_product_attention(Q, K, V, mask[:, None, :])
    assert np.allclose(ctx.numpy(), ctx_ref, atol=1e-12) and np.allclose(w.numpy(), w_ref, atol=1e-12)


def test_attention_errors():
    att = seq2seq.Attention(4, "dot")
    q, k = torch.zeros(2, 3, 4), torch.zeros(2, 5, 4)
    with pytest.raises(ValueError, match="kind must be"):
        seq2seq.Attention(4, "cosine")
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        att(torch.zeros(3, 4), k, k)
    with pytest.raises(ValueError, match="need 4 features"):
        att(torch.zeros(2, 3, 5), k, k)
    with pytest.raises(ValueError, match="share batch and length"):
        att(q, k, torch.zeros(2, 4, 4))
    with pytest.raises(ValueError, match="mask must be"):
        att(q, k, k, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="all padding"):
        att(q, k, k, torch.tensor([[True] * 5, [False] * 5]))


# --- the model ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def batch(corpus, vocabs):
    src_vocab, tgt_vocab = vocabs
    src_ids, tgt_ids = seq2seq.encode_examples(corpus.train[:12], src_vocab, tgt_vocab)
    return seq2seq.make_batch(src_ids, tgt_ids)


def _model(vocabs, kind, seed=0):
    torch.manual_seed(seed)
    return seq2seq.Seq2Seq(len(vocabs[0]), len(vocabs[1]), embed_dim=8, hidden_dim=16, attention=kind,
                           attn_dim=8).eval()


@pytest.mark.parametrize("kind", ["additive", "dot", None])
def test_padding_changes_nothing(vocabs, batch, kind):
    net = _model(vocabs, kind)
    src, lengths, tgt_in, tgt_out = batch
    pad = lambda t, k: torch.cat([t, torch.zeros(t.shape[0], k, dtype=torch.long)], dim=1)  # noqa: E731
    with torch.no_grad():
        logits, w = net(src, lengths, tgt_in)
        logits_pad, w_pad = net(pad(src, 7), lengths, pad(tgt_in, 3))
        alone, _ = net(src[:1, :lengths[0]], lengths[:1], tgt_in[:1])  # without any batch padding
    assert torch.allclose(logits, logits_pad[:, :tgt_in.shape[1]], atol=1e-6)
    assert torch.allclose(logits[:1], alone, atol=1e-6)
    loss = seq2seq.sequence_loss(logits, tgt_out)
    assert torch.isclose(loss, seq2seq.sequence_loss(logits_pad[:, :tgt_in.shape[1]], tgt_out))
    real = tgt_out != 0
    manual = -torch.log_softmax(logits, -1).gather(2, tgt_out[..., None])[..., 0][real].mean()
    assert torch.isclose(loss, manual)
    if kind is not None:
        beyond = torch.arange(w_pad.shape[2])[None, :] >= lengths[:, None]
        assert (w_pad.permute(1, 0, 2)[:, beyond] == 0).all()  # no weight on any padded position


@pytest.mark.parametrize("kind", ["additive", None])
def test_step_by_step_equals_teacher_forcing(vocabs, batch, kind):
    net = _model(vocabs, kind)
    src, lengths, tgt_in, _ = batch
    with torch.no_grad():
        forced, w = net(src, lengths, tgt_in)
        enc = net.encode(src, lengths)
        hidden, steps, ws = enc.hidden, [], []
        for t in range(tgt_in.shape[1]):
            out, hidden, w_t = net.step(tgt_in[:, t], hidden, enc)
            steps.append(out)
            ws.append(w_t)
    assert torch.allclose(forced, torch.stack(steps, 1), atol=1e-5)
    if kind:
        assert torch.allclose(w, torch.stack(ws, 1), atol=1e-6)


def test_model_errors(vocabs, batch):
    src, lengths, tgt_in, _ = batch
    with pytest.raises(ValueError, match="attention must be"):
        seq2seq.Seq2Seq(10, 10, attention="luong")
    with pytest.raises(ValueError, match="hidden_dim"):
        seq2seq.Seq2Seq(10, 10, hidden_dim=0)
    net = _model(vocabs, "dot")
    with pytest.raises(ValueError, match=r"\(batch, length\) token ids"):
        net.encode(src[0], lengths)
    with pytest.raises(ValueError, match="lengths must be in"):
        net.encode(src, lengths + 100)
    with pytest.raises(ValueError, match="src_lengths must be"):
        net.encode(src, lengths[:3])
    with pytest.raises(ValueError, match="tgt_in must be"):
        net(src, lengths, tgt_in[:2])
    with pytest.raises(ValueError, match="do not fit"):
        seq2seq.sequence_loss(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))


# --- decoding ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["additive", None])
def test_beam_of_one_is_greedy_and_scores_are_log_probs(vocabs, batch, kind):
    net = _model(vocabs, kind, seed=3)
    src, lengths, _, _ = batch
    greedy, _ = seq2seq.greedy_decode(net, src, lengths, max_len=8)
    beam1, _, _ = seq2seq.beam_search(net, src, lengths, beam_size=1, max_len=8)
    assert beam1 == greedy
    for eos_bias in (3.0, -8.0):  # <eos> made likely (outputs finish), then unlikely (cut at max_len)
        with torch.no_grad():
            net.out.bias[3] += eos_bias
        ids, scores, _ = seq2seq.beam_search(net, src, lengths, beam_size=3, max_len=8)
        if eos_bias > 0:  # the score of a finished output includes log P(<eos>)
            assert all(len(row) < 8 for row in ids)
            rescored = seq2seq.sequence_log_prob(net, src, lengths, ids)
        else:  # an output stopped by max_len is scored without <eos>
            assert all(len(row) == 8 for row in ids)
            with torch.no_grad():
                tgt = torch.tensor(ids)
                logits, _ = net(src, lengths, torch.cat([torch.full((len(ids), 1), 2), tgt[:, :-1]], 1))
                rescored = torch.log_softmax(logits, -1).gather(2, tgt[..., None]).sum(dim=(1, 2))
        with torch.no_grad():
            net.out.bias[3] -= eos_bias
        assert torch.allclose(scores, rescored, atol=1e-4)


def _exhaustive_best(net, src, lengths, max_len, eos=3):
    """The most probable output (finished, or cut at max_len) by trying every sequence."""
    enc = net.encode(src, lengths)
    best = (-math.inf, None)

    def visit(prefix, hidden, logp):
        nonlocal best
        if prefix and prefix[-1] == eos or len(prefix) == max_len:
            if logp > best[0]:
                best = (logp, prefix)
            return
        token = torch.tensor([prefix[-1] if prefix else 2])
        logits, h, _ = net.step(token, hidden, enc)
        lp = torch.log_softmax(logits[0], -1)
        for v in range(len(lp)):
            visit(prefix + [v], h, logp + lp[v].item())

    with torch.no_grad():
        visit([], enc.hidden, 0.0)
    return best


def test_wide_beam_finds_the_exact_optimum():
    torch.manual_seed(5)
    net = seq2seq.Seq2Seq(8, 6, embed_dim=4, hidden_dim=8, attention="additive").eval()
    src, lengths = torch.tensor([[4, 5, 6, 7]]), torch.tensor([4])
    max_len = 3
    best_score, best_seq = _exhaustive_best(net, src, lengths, max_len)
    ids, score, _ = seq2seq.beam_search(net, src, lengths, beam_size=6 ** max_len, max_len=max_len)
    assert math.isclose(score.item(), best_score, abs_tol=1e-5)
    assert ids[0] == [t for t in best_seq if t != 3]
    greedy, _ = seq2seq.greedy_decode(net, src, lengths, max_len=max_len)
    assert len(greedy[0]) <= max_len


def test_length_penalty_prefers_longer_outputs(vocabs, batch):
    net = _model(vocabs, "dot", seed=4)
    src, lengths, _, _ = batch
    short, _, _ = seq2seq.beam_search(net, src, lengths, beam_size=4, max_len=10, length_penalty=0.0)
    long, _, _ = seq2seq.beam_search(net, src, lengths, beam_size=4, max_len=10, length_penalty=2.0)
    assert sum(map(len, long)) >= sum(map(len, short))


def test_translate_and_errors(vocabs):
    net = _model(vocabs, "additive")
    out = seq2seq.translate(net, ["7 Mar 98", "1998-03-07"], *vocabs, beam_size=1)
    assert len(out) == 2 and all(isinstance(s, str) for s in out)
    assert seq2seq.translate(net, ["7 Mar 98", "1998-03-07"], *vocabs, batch_size=1) == out
    assert seq2seq.translate(net, [], *vocabs) == []
    with pytest.raises(TypeError, match="list of strings"):
        seq2seq.translate(net, "7 Mar 98", *vocabs)
    with pytest.raises(ValueError, match="beam_size"):
        seq2seq.beam_search(net, torch.tensor([[4]]), torch.tensor([1]), beam_size=0)


def test_training_learns_and_validates_arguments(corpus, vocabs):
    src_ids, tgt_ids = seq2seq.encode_examples(corpus.train, *vocabs)
    net = _model(vocabs, "dot").train()
    history = seq2seq.train(net, src_ids, tgt_ids, num_steps=40, batch_size=32, lr=1e-2, eval_every=20,
                            eval_fn=lambda m: 0.5, progress=False)
    assert len(history.loss) == 40 and history.eval_steps == [20, 40]
    assert np.mean(history.loss[-5:]) < 0.85 * np.mean(history.loss[:5])
    assert history.cpu_seconds > 0 and not net.training
    with pytest.raises(TypeError, match="Seq2Seq"):
        seq2seq.train(torch.nn.Linear(2, 2), src_ids, tgt_ids, num_steps=1)
    with pytest.raises(ValueError, match="num_steps"):
        seq2seq.train(net, src_ids, tgt_ids, num_steps=0)
    with pytest.raises(ValueError, match="as many sources as targets"):
        seq2seq.train(net, src_ids, tgt_ids[:-1], num_steps=1)



def _transformer(vocabs, seed=0):
    torch.manual_seed(seed)
    return seq2seq.TransformerSeq2Seq(len(vocabs[0]), len(vocabs[1]), d_model=16, nhead=2, num_encoder_layers=1,
                                      num_decoder_layers=1, dim_feedforward=32).eval()


def test_transformer_mask_is_causal_and_matches_utils_attention(vocabs, batch):
    from utils import attention

    assert np.array_equal(seq2seq.TransformerSeq2Seq.causal_mask(7).numpy(), ~attention.causal_mask(7))
    net = _transformer(vocabs)
    src, lengths, tgt_in, _ = batch
    with torch.no_grad():
        logits, w = net(src, lengths, tgt_in)
        for t in (1, 3, tgt_in.shape[1] - 1):
            changed = tgt_in.clone()
            changed[:, t] = (tgt_in[:, t] % 10) + 4  # another real token
            diff = (net(src, lengths, changed)[0] - logits).abs().amax(dim=(0, 2))
            assert diff[:t].max() < 1e-6 and diff[t:].min() > 1e-6  # only position t and later see it
    assert w is None and logits.shape == (*tgt_in.shape, len(vocabs[1]))


def test_transformer_padding_steps_and_beam(vocabs, batch):
    net = _transformer(vocabs)
    src, lengths, tgt_in, tgt_out = batch
    pad = lambda t, k: torch.cat([t, torch.zeros(t.shape[0], k, dtype=torch.long)], dim=1)  # noqa: E731
    with torch.no_grad():
        forced, _ = net(src, lengths, tgt_in)
        assert torch.allclose(net(pad(src, 5), lengths, tgt_in)[0], forced, atol=1e-5)
        alone, _ = net(src[:1, :lengths[0]], lengths[:1], tgt_in[:1])
        assert torch.allclose(forced[:1], alone, atol=1e-5)
        enc = net.encode(src, lengths)
        prefix, steps = enc.hidden, []
        for t in range(tgt_in.shape[1]):
            out, prefix, w_t = net.step(tgt_in[:, t], prefix, enc)
            steps.append(out)
            assert w_t is None and prefix.shape == (t + 1, src.shape[0])
    assert torch.allclose(forced, torch.stack(steps, 1), atol=1e-5)
    greedy, _ = seq2seq.greedy_decode(net, src, lengths, max_len=8)
    beam1, scores, _ = seq2seq.beam_search(net, src, lengths, beam_size=1, max_len=8)
    assert beam1 == greedy
    beam3, scores3, _ = seq2seq.beam_search(net, src, lengths, beam_size=3, max_len=8)
    done = [i for i, ids in enumerate(beam3) if len(ids) < 8]
    rescored = seq2seq.sequence_log_prob(net, src, lengths, beam3)
    assert torch.allclose(scores3[done], rescored[done], atol=1e-4)


def test_transformer_trains_and_validates(corpus, vocabs):
    src_ids, tgt_ids = seq2seq.encode_examples(corpus.train, *vocabs)
    net = _transformer(vocabs)
    history = seq2seq.train(net, src_ids, tgt_ids, num_steps=30, batch_size=32, lr=5e-3, progress=False)
    assert np.mean(history.loss[-5:]) < 0.85 * np.mean(history.loss[:5]) and not net.training
    with pytest.raises(ValueError, match="divisible"):
        seq2seq.TransformerSeq2Seq(10, 10, d_model=10, nhead=4)
    with pytest.raises(ValueError, match="d_model"):
        seq2seq.TransformerSeq2Seq(10, 10, d_model=0)
    with pytest.raises(ValueError, match="lengths must be"):
        net.encode(torch.ones(2, 3, dtype=torch.long), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="at most 4 tokens"):
        seq2seq.TransformerSeq2Seq(10, 10, d_model=8, nhead=2, max_len=4).encode(
            torch.ones(1, 6, dtype=torch.long), torch.tensor([6]))

# --- metrics -----------------------------------------------------------------------------

NLTK_HYP1 = "It is a guide to action which ensures that the military always obeys the commands of the party".split()
NLTK_REF1A = "It is a guide to action that ensures that the military will forever heed Party commands".split()
NLTK_REF1B = ("It is the guiding principle which guarantees the military forces always being under the command "
              "of the Party").split()
NLTK_REF1C = "It is the practical guide for the army always to heed the directions of the party".split()
NLTK_HYP2 = "he read the book because he was interested in world history".split()
NLTK_REF2A = "he was interested in world history because he read the book".split()


def test_bleu_known_values():
    # the corpus_bleu example of NLTK's documentation
    score = seq2seq.corpus_bleu([NLTK_HYP1, NLTK_HYP2], [[NLTK_REF1A, NLTK_REF1B, NLTK_REF1C], [NLTK_REF2A]])
    assert abs(score / 100 - 0.5920778868801042) < 1e-12
    refs = [NLTK_REF1A, NLTK_REF1B, NLTK_REF1C]
    m1, t1 = seq2seq.modified_precision(NLTK_HYP1, refs, 1)
    m2, t2 = seq2seq.modified_precision(NLTK_HYP1, refs, 2)
    assert math.isclose(m1 / t1, 0.9444444444444444) and math.isclose(m2 / t2, 0.5882352941176471)
    # Papineni et al.: clipping
    the = "the the the the the the the".split()
    assert seq2seq.modified_precision(the, ["the cat is on the mat".split(), "there is a cat on the mat".split()],
                                      1) == (2, 7)
    # hand-computed (section 6.3): one wrong month digit
    result = seq2seq.bleu(["1998年4月7日"], ["1998年3月7日"])
    assert result.matches == (8, 6, 4, 2) and result.totals == (9, 8, 7, 6)
    assert math.isclose(result.score, 100 * (8 / 9 * 6 / 8 * 4 / 7 * 2 / 6) ** 0.25)


def test_brevity_penalty_known_values():
    assert math.isclose(seq2seq.brevity_penalty(12, 28), 0.2635971381157267)  # NLTK documentation
    assert seq2seq.brevity_penalty(13, 12) == 1.0 and seq2seq.brevity_penalty(12, 12) == 1.0
    assert seq2seq.brevity_penalty(0, 5) == 0.0
    # closest reference length (ties: the shorter), as in NLTK's and mteval's examples
    a = ["a"]
    assert seq2seq.bleu([a * 12], [[a * 13, a * 11]], max_n=1).brevity_penalty == 1.0
    assert math.isclose(seq2seq.bleu([a * 7], [[a * 11, a * 8]], max_n=1).brevity_penalty, 0.8668778997501817)
    assert math.isclose(seq2seq.bleu([a * 12], [[a * 13, a * 2]], max_n=1).brevity_penalty, 0.9200444146293233)
    with pytest.raises(ValueError, match="non-negative"):
        seq2seq.brevity_penalty(-1, 3)


def test_bleu_extremes_and_edge_cases():
    assert seq2seq.corpus_bleu(["1998年3月7日", "2000年1月1日星期六"], ["1998年3月7日", "2000年1月1日星期六"]) == 100
    assert seq2seq.corpus_bleu(["星期六"], ["1998年"]) == 0
    assert seq2seq.corpus_bleu(["12月"], ["12月"]) == 0  # no 4-grams at all: precision 0/0 counts as 0
    assert seq2seq.corpus_bleu(["12月"], ["12月"], max_n=3) == 100
    assert seq2seq.corpus_bleu([""], ["1998年"]) == 0


@settings(max_examples=50, deadline=None)
@given(cand=st.text(alphabet="0123456789年月日", min_size=0, max_size=14),
       ref=st.text(alphabet="0123456789年月日", min_size=1, max_size=14))
def test_bleu_is_between_0_and_100_and_100_only_for_identical(cand, ref):
    score = seq2seq.corpus_bleu([cand], [ref])
    assert 0 <= score <= 100 + 1e-9
    if len(ref) >= 4:
        assert math.isclose(seq2seq.corpus_bleu([ref], [ref]), 100)
        if cand != ref:
            assert score < 100


def test_metric_errors():
    with pytest.raises(ValueError, match="2 candidates but 1 references"):
        seq2seq.bleu(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        seq2seq.bleu([], [])
    with pytest.raises(TypeError, match="lists of sentences"):
        seq2seq.bleu("1998年", "1998年")
    with pytest.raises(ValueError, match="max_n"):
        seq2seq.bleu(["a"], ["a"], max_n=0)
    with pytest.raises(TypeError, match="a string .* or a list of tokens"):
        seq2seq.bleu([1998], ["1998"])
    with pytest.raises(ValueError, match="n must be"):
        seq2seq.ngrams("abc", 0)
    assert seq2seq.exact_match(["a", "b", "c", "d"], ["a", "x", "c", "d"]) == 0.75
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        seq2seq.exact_match(["a", "b", "c"], ["a", "b"])
    with pytest.raises(ValueError, match="no predictions"):
        seq2seq.exact_match([], [])
    with pytest.raises(TypeError, match="lists of strings"):
        seq2seq.exact_match("abc", "abc")


def test_char_tokens_are_what_bleu_sees():
    assert seq2seq.ngrams("1998年", 2) == seq2seq.ngrams(text.char_tokens("1998年"), 2)


def test_returned_attention_is_the_winners(vocabs, batch):
    net = _model(vocabs, "additive", seed=6)
    src, lengths, _, _ = batch
    with torch.no_grad():
        net.out.bias[3] += 3.0  # short outputs that end with <eos>
    for decode in ("greedy", "beam"):
        if decode == "greedy":
            ids, weights = seq2seq.greedy_decode(net, src, lengths, max_len=8)
        else:
            ids, _, weights = seq2seq.beam_search(net, src, lengths, beam_size=3, max_len=8)
        for row, out in enumerate(ids):
            tgt_in = torch.tensor([[2] + out])  # <bos> and the output: the steps that produced out + <eos>
            with torch.no_grad():
                _, forced = net(src[row:row + 1], lengths[row:row + 1], tgt_in)
            assert torch.allclose(weights[row, :len(out) + 1], forced[0], atol=1e-5), decode
