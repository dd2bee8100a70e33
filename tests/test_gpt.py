"""utils.gpt: the small GPT, its sampling filters and its data helpers, against references."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from utils import attention, gpt, sizing, text


def tiny(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(vocab_size=20, block_size=16, n_layer=2, n_head=2, n_embd=16)
    cfg.update(kw)
    return gpt.GPT(gpt.GPTConfig(**cfg))


# --- configuration and model ------------------------------------------------------

def test_config_rejects_bad_shapes():
    with pytest.raises(ValueError, match="divisible by n_head"):
        gpt.GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(TypeError, match="vocab_size must be an integer"):
        gpt.GPTConfig(vocab_size=10.5)
    with pytest.raises(ValueError, match="block_size must be at least 1"):
        gpt.GPTConfig(block_size=0)
    with pytest.raises(ValueError, match="dropout"):
        gpt.GPTConfig(dropout=1.0)
    with pytest.raises(TypeError, match="GPTConfig"):
        gpt.GPT({"n_embd": 16})


@pytest.mark.parametrize("tie", [True, False])
def test_parameter_count_matches_sizing(tie):
    m = tiny(tie_weights=tie)
    c = m.config
    assert m.num_params() == sizing.transformer_params(c.n_layer, c.n_embd, c.n_head, c.vocab_size,
                                                       c.block_size, tied_embeddings=tie)
    assert (m.lm_head.weight is m.transformer.wte.weight) == tie
    assert m.num_params(non_embedding=True) == m.num_params() - c.block_size * c.n_embd - (0 if tie else 20 * 16)


def test_attention_paths_equal_torch_and_numpy_in_float64():
    cfg = gpt.GPTConfig(vocab_size=10, block_size=8, n_layer=1, n_head=2, n_embd=8)
    torch.manual_seed(1)
    attn = gpt.CausalSelfAttention(cfg).double()
    for p in attn.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(2, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        fused, explicit = attn(x), attn(x, explicit=True)
    mha = attention.MultiHeadAttention(8, 2, np.random.default_rng(0))
    mha.params.update({"in_proj_weight": attn.c_attn.weight.detach().numpy(),
                       "in_proj_bias": attn.c_attn.bias.detach().numpy(),
                       "out_proj.weight": attn.c_proj.weight.detach().numpy(),
                       "out_proj.bias": attn.c_proj.bias.detach().numpy()})
    ref = mha.forward(x.numpy(), mask=attention.causal_mask(8))
    assert torch.allclose(fused, explicit, atol=1e-12, rtol=0)
    assert np.allclose(fused.numpy(), ref, atol=1e-12, rtol=0)
    assert np.allclose(attn.weights.numpy(), mha.attn_weights, atol=1e-12)
    # the same module in torch's own multi-head attention with a causal mask
    torch_mha = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        torch_mha.in_proj_weight.copy_(attn.c_attn.weight)
        torch_mha.in_proj_bias.copy_(attn.c_attn.bias)
        torch_mha.out_proj.weight.copy_(attn.c_proj.weight)
        torch_mha.out_proj.bias.copy_(attn.c_proj.bias)
        ref_torch, _ = torch_mha(x, x, x, attn_mask=~torch.ones(8, 8, dtype=torch.bool).tril())
    assert torch.allclose(fused, ref_torch, atol=1e-12)


def test_model_is_exactly_causal():
    m = tiny()
    idx = torch.randint(0, 20, (3, 16), generator=torch.Generator().manual_seed(0))
    changed = idx.clone()
    changed[:, 9] = (idx[:, 9] + 3) % 20
    with torch.no_grad():
        a, b = m(idx), m(changed)
    assert torch.equal(a[:, :9], b[:, :9])
    assert (a[:, 9:] - b[:, 9:]).abs().amax(dim=-1).min() > 0


def test_untrained_loss_is_near_log_vocab_and_backward_works():
    m = tiny()
    idx = torch.randint(0, 20, (4, 16))
    loss = m.loss(idx[:, :-1], idx[:, 1:])
    assert abs(loss.item() - math.log(20)) < 0.1  # N(0, 0.02) weights: nearly uniform predictions
    loss.backward()
    assert all(p.grad is not None for p in m.parameters())


def test_forward_input_errors():
    m = tiny()
    with pytest.raises(ValueError, match="longer than the context"):
        m(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match=r"lie in 0\.\.19"):
        m(torch.tensor([[0, 20]]))
    with pytest.raises(TypeError, match="integers"):
        m(torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"shape \(batch, T\)"):
        m(torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="shaped like idx"):
        m.loss(torch.zeros(1, 4, dtype=torch.long), torch.zeros(1, 3, dtype=torch.long))


def test_flops_per_token_matches_the_flop_counter():
    from torch.utils.flop_counter import FlopCounterMode

    m = tiny()
    idx = torch.randint(0, 20, (2, 16))
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(m(idx, explicit=True).flatten(0, 1), idx.flatten()).backward()
    assert counter.get_total_flops() == 2 * 16 * m.flops_per_token(16)
    with FlopCounterMode(display=False) as counter:
        with torch.no_grad():
            m(idx, explicit=True)
    assert counter.get_total_flops() == 2 * 16 * m.flops_per_token(16, training=False)


def test_kv_cache_gives_the_full_forward_pass():
    m = tiny().double()
    idx = torch.randint(0, 20, (2, 16))
    cache = gpt.KVCache(2)
    with torch.no_grad():
        parts = [m(idx[:, :5], cache=cache), m(idx[:, 5:9], cache=cache)]  # a chunk with past > 0 and T > 1
        parts += [m(idx[:, t:t + 1], cache=cache) for t in range(9, 16)]
        assert torch.allclose(torch.cat(parts, 1), m(idx), atol=1e-12)
    assert cache.length == 16
    with pytest.raises(ValueError, match="start a new cache"):
        m(idx[:, :1], cache=cache)
    with pytest.raises(TypeError, match="KVCache"):
        m(idx, cache=[])


def test_generate_with_and_without_cache_and_beyond_block_size():
    m = tiny().double()
    prompt = torch.randint(0, 20, (3, 4))
    a = m.generate(prompt, 12, temperature=0, use_cache=False)
    b = m.generate(prompt, 12, temperature=0, use_cache=True)
    assert torch.equal(a, b) and a.shape == (3, 16) and torch.equal(a[:, :4], prompt)
    long = m.generate(prompt, 40, temperature=1.0, generator=torch.Generator().manual_seed(0))
    assert long.shape == (3, 44) and long.max() < 20
    out, logp = m.generate(prompt, 5, temperature=0, return_logprobs=True)
    with torch.no_grad():
        ref = m(out[:, :-1]).log_softmax(-1)[:, 3:].gather(-1, out[:, 4:, None])[..., 0]
    assert torch.allclose(logp.double(), ref, atol=1e-6)
    assert m.training  # restored


def test_generate_is_reproducible_and_per_row_settings_work():
    m = tiny()
    prompt = torch.zeros(4, 1, dtype=torch.long)
    kw = dict(temperature=torch.tensor([0.0, 0.5, 1.0, 1.5]), top_k=torch.tensor([1, 5, 20, 3]))
    a = m.generate(prompt, 10, generator=torch.Generator().manual_seed(5), **kw)
    b = m.generate(prompt, 10, generator=torch.Generator().manual_seed(5), **kw)
    assert torch.equal(a, b)
    greedy = m.generate(prompt[:1], 10, temperature=0)
    assert torch.equal(a[0], greedy[0])  # row 0 is greedy


# --- sampling filters ------------------------------------------------------------

def test_temperature_and_errors():
    z = torch.tensor([[1.0, 2.0, 3.0]])
    assert torch.allclose(gpt.apply_temperature(z, 0.5), z * 2)
    assert torch.allclose(gpt.next_token_probs(z, 2.0), (z / 2).softmax(-1))
    assert torch.equal(gpt.next_token_probs(z, 0.0), torch.tensor([[0.0, 0.0, 1.0]]))
    with pytest.raises(ValueError, match="sample_next"):
        gpt.apply_temperature(z, 0.0)
    with pytest.raises(ValueError, match=">= 0"):
        gpt.next_token_probs(z, -1.0)
    with pytest.raises(TypeError, match="torch tensor"):
        gpt.top_k_filter(np.array([1.0]), 1)
    with pytest.raises(ValueError, match="NaN"):
        gpt.top_p_filter(torch.tensor([[float("nan"), 1.0]]), 0.5)
    with pytest.raises(ValueError, match="one value per row"):
        gpt.next_token_probs(z, torch.tensor([1.0, 2.0]))


def test_top_k_filter():
    z = torch.tensor([[0.1, 3.0, -1.0, 2.0, 0.5], [5.0, 4.0, 3.0, 2.0, 1.0]])
    out = gpt.top_k_filter(z, 2)
    assert torch.equal(torch.isfinite(out), torch.tensor([[False, True, False, True, False],
                                                          [True, True, False, False, False]]))
    assert torch.equal(gpt.top_k_filter(z, 99), z)
    per_row = gpt.top_k_filter(z, torch.tensor([1, 3]))
    assert torch.isfinite(per_row).sum(dim=1).tolist() == [1, 3]
    with pytest.raises(ValueError, match="at least 1"):
        gpt.top_k_filter(z, 0)


def test_top_p_filter_matches_a_loop():
    rng = np.random.default_rng(0)
    for _ in range(50):
        z = torch.tensor(rng.normal(size=(1, 12)) * 2)
        p = float(rng.uniform(0.05, 0.99))
        kept = torch.isfinite(gpt.top_p_filter(z, p))[0]
        probs = z.softmax(-1)[0].numpy()
        total, expect = 0.0, np.zeros(12, dtype=bool)
        for i in np.argsort(-probs):  # add the likeliest until the mass reaches p
            expect[i] = True
            total += probs[i]
            if total >= p:
                break
        assert kept.numpy().tolist() == expect.tolist()
    assert torch.isfinite(gpt.top_p_filter(z, 1.0)).all()
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        gpt.top_p_filter(z, 0.0)


def test_sample_next_follows_the_distribution():
    z = torch.log(torch.tensor([[0.1, 0.6, 0.3]])).repeat(20000, 1)
    draws = gpt.sample_next(z, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=3).double() / len(draws)
    assert torch.allclose(freq, torch.tensor([0.1, 0.6, 0.3], dtype=torch.float64), atol=0.015)
    topk = gpt.sample_next(z, top_k=2, generator=torch.Generator().manual_seed(0))
    assert (topk != 0).all()
    with pytest.raises(ValueError, match=r"\(batch, vocab_size\)"):
        gpt.sample_next(z[0])


# --- data helpers and schedule ------------------------------------------------------

def test_encode_decode_roundtrip_and_errors():
    s = "To be, or not to be:\nthat is the question."
    vocab = text.Vocab.build([sorted(set(s))])
    ids = gpt.encode_chars(s, vocab)
    assert ids.dtype == np.int64 and ids.tolist() == vocab.encode(list(s))
    assert gpt.decode_chars(ids, vocab) == s == gpt.decode_chars(torch.from_numpy(ids), vocab)
    assert len(gpt.encode_chars("", vocab)) == 0
    with pytest.raises(ValueError, match=r"not in the vocabulary: \['Z'\]"):
        gpt.encode_chars("Zoo", vocab)
    with pytest.raises(TypeError, match="Vocab"):
        gpt.encode_chars(s, {"a": 1})


def test_block_split_is_contiguous_and_aligned_for_strings():
    ids = np.arange(1003)
    s = "".join(chr(48 + i % 60) for i in range(1003))
    train, val = gpt.block_split(ids, 0.1, 100)
    train_s, val_s = gpt.block_split(s, 0.1, 100)
    assert len(train) + len(val) == 1003 and len(val) == 100
    assert set(train).isdisjoint(val)
    assert val_s == "".join(chr(48 + i % 60) for i in val)
    assert np.all(np.diff(val)[np.diff(val) != 1] > 50)  # whole blocks: gaps only between blocks
    with pytest.raises(ValueError, match="cannot be cut"):
        gpt.block_split(np.arange(5), 0.1, 100)
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        gpt.block_split(ids, 1.5)
    with pytest.raises(ValueError, match="1-D array"):
        gpt.block_split(np.zeros((4, 4), dtype=int))


def test_batches_and_windows():
    ids = np.arange(100)
    x, y = gpt.get_batch(ids, 5, 8, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == torch.long
    assert torch.equal(y, x + 1)  # targets are the inputs shifted by one
    xe, ye = gpt.eval_windows(ids, 8, 4)
    assert xe[0, 0] == 0 and ye[-1, -1] == 99 and torch.equal(ye, xe + 1)
    with pytest.raises(ValueError, match="block_size \\+ 1"):
        gpt.get_batch(ids[:8], 2, 8)


def test_evaluate_loss_matches_the_model_loss():
    m = tiny()
    ids = np.random.default_rng(0).integers(0, 20, 500)
    x, y = gpt.eval_windows(ids, 16, 10)
    with torch.no_grad():
        assert math.isclose(gpt.evaluate_loss(m, ids, num_windows=10, batch_size=3), m.loss(x, y).item(),
                            rel_tol=1e-5)
    with pytest.raises(TypeError, match="must be a GPT"):
        gpt.evaluate_loss("model", ids)


def test_cosine_lr_schedule():
    lrs = [gpt.cosine_lr(s, 1.0, 10, 110, min_lr=0.1) for s in range(120)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)  # linear warm-up
    assert lrs[10] == pytest.approx(1.0) and lrs[60] == pytest.approx(0.55)  # halfway down the cosine
    assert lrs[110] == lrs[119] == 0.1 and all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    with pytest.raises(ValueError, match="smaller than total_steps"):
        gpt.cosine_lr(0, 1.0, 10, 10)
    with pytest.raises(ValueError, match="min_lr <= max_lr"):
        gpt.cosine_lr(0, 1.0, 1, 10, min_lr=2.0)


def test_repeated_ngram_share():
    assert gpt.repeated_ngram_share("abcdefgh", 4) == 0.0
    assert gpt.repeated_ngram_share("abababab", 2) == pytest.approx(1 - 2 / 7)
    with pytest.raises(ValueError, match="no 4-grams"):
        gpt.repeated_ngram_share("abc", 4)


# --- full-context scoring and n-gram baselines -----------------------------------------

def test_spread_positions_leave_a_full_context():
    p = gpt.spread_positions(1000, 64, 100)
    assert p.min() >= 64 and p.max() == 999 and len(np.unique(p)) == 100
    with pytest.raises(ValueError, match="positions"):
        gpt.spread_positions(100, 64, 50)


def test_sliding_logprobs_score_the_last_position_of_each_window():
    m = tiny()
    ids = np.random.default_rng(0).integers(0, 20, 200)
    p = gpt.spread_positions(len(ids), 16, 30)
    lp = gpt.sliding_logprobs(m, ids, p, batch_size=7)
    with torch.no_grad():
        for i, pos in enumerate(p[:5]):
            logits = m(torch.from_numpy(ids[pos - 16:pos])[None])[0, -1]
            assert abs(lp[i] - logits.log_softmax(-1)[ids[pos]].item()) < 1e-5
    assert lp.shape == (30,) and np.all(lp < 0)
    with pytest.raises(ValueError, match="full context"):
        gpt.sliding_logprobs(m, ids, [10])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("smoothing, kw", [("add-k", dict(k=0.3)), ("kneser-ney", dict(discount=0.7))])
def test_ngram_distributions_sum_to_one(order, smoothing, kw):
    rng = np.random.default_rng(1)
    ids = rng.integers(4, 12, 3000)
    ids[::7] = 5
    m = gpt.CharNGram(ids, 4, num_symbols=8, base=12)
    for ctx in (ids[100:100 + order - 1], rng.integers(4, 12, order - 1)):  # a seen and a random context
        seqs = np.array([np.r_[ctx, w] for w in range(4, 12)])
        total = sum(np.exp(m.logprobs(s, [order - 1], order, smoothing, **kw))[0] for s in seqs)
        assert abs(total - 1) < 1e-12


def test_ngram_add_k_equals_the_course_markov_model():
    from utils import prob
    txt = "the cat sat on the mat; the rat ate the hat. " * 20 + "a bat?"
    alphabet = sorted(set(txt))
    ids = np.array([alphabet.index(c) for c in txt])
    train, held = ids[:700], ids[700:]
    m = gpt.CharNGram(train, 3, num_symbols=len(alphabet), base=len(alphabet))
    for order in (1, 2, 3):
        ref = prob.markov_ngram_model(txt[:700], order - 1, k=0.5, vocab=alphabet).cross_entropy(txt[700:], np.e)
        ours = -m.logprobs(held, np.arange(order - 1, len(held)), order, "add-k", k=0.5).mean()
        assert abs(ours - ref) < 1e-12
    counts = m.context_counts(held, np.arange(2, 10), 3)
    assert counts[0] == sum(1 for i in range(699) if txt[i:i + 2] == txt[700:702])


def test_kneser_ney_by_hand_on_a_tiny_stream():
    # stream "abab" (a=0, b=1), 2 symbols; bigram KN with discount D
    m = gpt.CharNGram(np.array([0, 1, 0, 1]), 2, num_symbols=2, base=2)
    D = 0.5
    # continuation counts: 'a' follows b once (b a), 'b' follows a (a b): N1+(.a) = 1, N1+(.b) = 1
    p_uni_b = (max(1 - D, 0) + D * 2 * 0.5) / 2  # = 0.5
    # bigram after 'a': c(ab) = 2, c(a) = 2, one type
    p_b_after_a = (2 - D + D * 1 * p_uni_b) / 2
    got = np.exp(m.logprobs(np.array([0, 1]), [1], 2, "kneser-ney", discount=D))[0]
    assert abs(got - p_b_after_a) < 1e-12
    with pytest.raises(ValueError, match="smoothing"):
        m.logprobs(np.array([0, 1]), [1], 2, "witten-bell")
