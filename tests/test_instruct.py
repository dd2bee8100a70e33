"""Unit tests of utils.instruct (section 9.4)."""
import copy
import datetime as dt

import numpy as np
import pytest
import torch

from utils import gpt, instruct, text


@pytest.fixture(scope="module")
def setup():
    examples = [instruct.play_instruction("To be, or not to be, that is the question", "hamlet"),
                instruct.date_instruction(dt.date(1998, 3, 7), "us_numeric")]
    vocab = text.Vocab.build([sorted(set("".join(e.text for e in examples) + "abcdefghijklmnopqrstuvwxyz"))])
    torch.manual_seed(0)
    model = gpt.GPT(gpt.GPTConfig(vocab_size=len(vocab), block_size=80, n_layer=1, n_head=2, n_embd=16))
    return examples, vocab, model


def test_instructions_and_mask(setup):
    examples, vocab, _ = setup
    assert examples[1].prompt == "As YYYY-MM-DD: 03/07/1998\n= " and examples[1].answer == "1998-03-07"
    x, y, mask = instruct.encode_examples([e.prompt for e in examples], [e.answer for e in examples], vocab)
    for i, e in enumerate(examples):
        assert gpt.decode_chars(y[i][mask[i] == 1], vocab) == e.answer + instruct.END
        assert int(mask[i].sum()) == len(e.answer) + 1
    with pytest.raises(ValueError, match="as many answers"):
        instruct.encode_examples(["a"], [], vocab)
    with pytest.raises(ValueError, match="unknown play"):
        instruct.play_instruction("a line", "othello")


def test_masked_loss_equals_direct_and_logprobs(setup):
    examples, vocab, model = setup
    prompts, answers = [e.prompt for e in examples], [e.answer for e in examples]
    x, y, mask = instruct.encode_examples(prompts, answers, vocab)
    logits = model(x)
    lp = logits.log_softmax(-1).gather(-1, y[..., None])[..., 0]
    direct = -(lp[mask == 1]).mean()
    assert torch.allclose(instruct.masked_lm_loss(logits, y, mask), direct, atol=1e-6)
    summed = instruct.answer_logprobs(model, prompts, answers, vocab)
    assert torch.allclose(summed, (lp * mask).sum(1), atol=1e-5)
    with pytest.raises(ValueError, match="selects no position"):
        instruct.masked_lm_loss(logits, y, torch.zeros_like(mask))


def test_generate_matches_step_by_step_greedy(setup):
    examples, vocab, model = setup
    prompts = [e.prompt for e in examples]
    got = instruct.generate_answers(model, prompts, vocab, max_new_tokens=6)
    for p, answer in zip(prompts, got):
        ids = torch.from_numpy(gpt.encode_chars(p, vocab))[None]
        with torch.no_grad():
            for _ in range(6):
                ids = torch.cat([ids, model(ids)[:, -1].argmax(-1, keepdim=True)], 1)
        assert gpt.decode_chars(ids[0, len(p):], vocab).split("\n")[0] == answer


def test_dpo_loss_hand_value_and_kl(setup):
    t = lambda v: torch.tensor([v], dtype=torch.float64)
    loss, margin = instruct.dpo_loss(t(-10.0), t(-12.0), t(-11.0), t(-11.0), 0.1)
    assert abs(margin.item() - 0.2) < 1e-12 and abs(loss.item() - np.log1p(np.exp(-0.2))) < 1e-12
    with pytest.raises(ValueError, match="beta"):
        instruct.dpo_loss(t(0.0), t(0.0), t(0.0), t(0.0), 0.0)
    examples, vocab, model = setup
    same = instruct.sampled_kl(model, copy.deepcopy(model), [examples[0].prompt], vocab, 5,
                               generator=torch.Generator().manual_seed(0))
    assert abs(same[0]) < 1e-6


def test_corrupt_date_and_lines():
    r = np.random.default_rng(0)
    assert instruct.corrupt_date("1998-03-07", r) == "1998-07-03"
    for iso in ("1998-03-03", "2049-12-31", "1950-01-28"):
        assert instruct.corrupt_date(iso, r) != iso
    text_ = "Ham.\nTo be, or not to be, that is the question:\n[Exit.]\nACT III. SCENE I.\n"
    assert instruct.dialogue_lines(text_, 20, 60) == ["To be, or not to be, that is the question:"]
    parts = instruct.split_chunks("abcdefghij" * 10, 10, {"train": 6, "val": 2, "test": 2})
    assert sorted("".join(v) for v in parts.values()) and sum(len(v) for v in parts.values()) == 10
