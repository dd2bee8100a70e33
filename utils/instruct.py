"""Instruction tuning and preference tuning (DPO) for a small character GPT (chapter 9.4).

An instruction example is a prompt and the answer a helpful model should give::

    from utils import instruct
    ex = instruct.play_instruction("To be, or not to be: that is the question:", "hamlet")
    ex.prompt   # 'Which play? To be, or not to be: that is the question:\\n= '
    ex.answer   # 'Hamlet'        (the model is trained to write it, then END = '\\n')

- Data: :func:`split_chunks` (a text cut into contiguous chunks, each assigned to one split),
  :func:`dialogue_lines` (spoken lines of a Gutenberg play, without speaker names or stage
  directions), :func:`play_instruction`, :func:`date_instruction` and :func:`corrupt_date`.
- Supervised fine-tuning: :func:`encode_examples` pads prompt + answer + END into
  (inputs, targets, mask), the mask being 1 exactly where the target is an answer
  character; :func:`masked_lm_loss` is the cross-entropy averaged over those positions.
- Answers: :func:`answer_logprobs` (log-probability of a given answer, summed over its
  characters and END) and :func:`generate_answers` (greedy decoding until END, batched).
- Preferences: :func:`dpo_loss` (Rafailov et al., 2023) from the four log-probabilities of
  a pair under the policy and the frozen reference, and :func:`sampled_kl` (the KL divergence
  from the reference on answers sampled from the policy).
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from utils import gpt, seq2seq

__all__ = [
    "PLAYS", "END", "PLAY_PROMPT", "DATE_PROMPT", "Instruction", "split_chunks", "dialogue_lines",
    "play_instruction", "date_instruction", "corrupt_date", "encode_examples", "masked_lm_loss",
    "answer_logprobs", "generate_answers", "dpo_loss", "sampled_kl", "show_mask",
]

#: The four plays of the "which play?" task: file stem -> the answer the model must write.
PLAYS = {"hamlet": "Hamlet", "julius_caesar": "Julius Caesar", "romeo_and_juliet": "Romeo and Juliet",
         "tempest": "The Tempest"}
END = "\n"  # an answer ends with a newline: the model's "stop" token
PLAY_PROMPT = "Which play? {line}\n= "
DATE_PROMPT = "As YYYY-MM-DD: {date}\n= "


@dataclass(frozen=True)
class Instruction:
    """One instruction example: the prompt, the answer (without END) and the task it belongs to."""

    prompt: str
    answer: str
    task: str

    @property
    def text(self) -> str:
        return self.prompt + self.answer + END


# --- data ----------------------------------------------------------------------------------

def split_chunks(text: str, num_chunks: int, splits: dict[str, int], seed: int = 0) -> dict[str, list[str]]:
    """Cut ``text`` into ``num_chunks`` contiguous chunks and deal them to the splits at random.

    ``splits`` maps a split name to its number of chunks (they must add up to
    ``num_chunks``), e.g. ``{"train": 14, "val": 3, "test": 3}``. Everything derived from
    a chunk (raw text for pretraining, lines for instructions) stays in that chunk's split,
    so no held-out line was ever read in training.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("split_chunks: text must be a non-empty string")
    if sum(splits.values()) != num_chunks or any(n < 0 for n in splits.values()):
        raise ValueError(f"split_chunks: the chunk counts {splits} must be >= 0 and add up to {num_chunks}")
    if len(text) < num_chunks:
        raise ValueError(f"split_chunks: {len(text)} characters cannot be cut into {num_chunks} chunks")
    bounds = np.linspace(0, len(text), num_chunks + 1).astype(int)
    chunks = [text[bounds[i]:bounds[i + 1]] for i in range(num_chunks)]
    order = np.random.default_rng(seed).permutation(num_chunks)
    out, start = {}, 0
    for name, n in splits.items():
        out[name] = [chunks[i] for i in sorted(order[start:start + n])]
        start += n
    return out


_SPEAKER = re.compile(r"^[A-Z][A-Za-z. ]{0,24}\.$")  # 'Ham.', 'First Clown.', 'Hor.'


def dialogue_lines(text: str, min_chars: int = 30, max_chars: int = 60) -> list[str]:
    """The spoken lines of a Gutenberg play text with ``min_chars``..``max_chars`` characters.

    Dropped: speaker names ('Ham.'), stage directions ('[Exit.]'), act and scene
    headings, lines in capitals, and lines with brackets or digits. Lines are stripped;
    a line that is cut off by a chunk border may be partial (it is still Shakespeare's text).
    """
    out = []
    for raw in text.split("\n"):
        line = raw.strip()
        if not min_chars <= len(line) <= max_chars or _SPEAKER.match(line):
            continue
        if line.upper() == line or any(c in line for c in "[]{}<>_*#") or any(c.isdigit() for c in line):
            continue
        if line.startswith(("ACT", "SCENE", "Enter", "Exit", "Exeunt")):
            continue
        out.append(line)
    return out


def play_instruction(line: str, play: str) -> Instruction:
    """"Which play? <line>" -> the play's name (``play`` is a key of :data:`PLAYS`)."""
    if play not in PLAYS:
        raise ValueError(f"play_instruction: unknown play {play!r}; the task's plays are {list(PLAYS)}")
    if not isinstance(line, str) or not line.strip() or "\n" in line:
        raise ValueError(f"play_instruction: line must be one non-empty line of text, got {line!r}")
    return Instruction(PLAY_PROMPT.format(line=line), PLAYS[play], "play")


def date_instruction(date: _dt.date, fmt: str) -> Instruction:
    """"Write as YYYY-MM-DD: <date in format fmt>" -> the ISO date (formats of :mod:`utils.seq2seq`)."""
    source, _ = seq2seq.format_date(date, fmt)
    return Instruction(DATE_PROMPT.format(date=source), seq2seq.FORMATS["iso"](date), "date")


def corrupt_date(iso: str, rng: np.random.Generator) -> str:
    """A plausible wrong answer to a date instruction, always different from ``iso`` ('YYYY-MM-DD').

    Day and month swapped where that gives another month (day 1-12, not equal to the
    month): the classic misreading of 03/07 as 7 March instead of 3 July. Otherwise
    the day, the month or the year off by one, drawn with ``rng``.
    """
    if not isinstance(iso, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        raise ValueError(f"corrupt_date: expected an ISO date 'YYYY-MM-DD', got {iso!r}")
    y, m, d = (int(p) for p in iso.split("-"))
    if d <= 12 and d != m:
        return f"{y:04d}-{d:02d}-{m:02d}"  # month and day swapped
    choices = [f"{y:04d}-{m:02d}-{d % 28 + 1:02d}", f"{y:04d}-{m % 12 + 1:02d}-{d:02d}",
               f"{y + (1 if y < 2049 else -1):04d}-{m:02d}-{d:02d}"]
    choices = [c for c in choices if c != iso]
    return choices[int(rng.integers(len(choices)))]


# --- supervised fine-tuning -------------------------------------------------------------

def encode_examples(prompts: Sequence[str], answers: Sequence[str], vocab, device=None, pad_id: int = 0
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs, targets and answer mask for ``prompt + answer + END`` of each example, right-padded.

    Row i of ``inputs`` holds the text without its last character, ``targets`` the text
    shifted by one; ``mask[i, t] = 1`` where ``targets[i, t]`` is a character of the
    answer or its END, 0 on the prompt and on padding. All three are (batch, T).
    """
    if isinstance(prompts, str) or isinstance(answers, str):
        raise TypeError("encode_examples: prompts and answers must be lists of strings (one per example)")
    if len(prompts) != len(answers) or not len(prompts):
        raise ValueError(f"encode_examples: need as many answers as prompts (>= 1), got {len(prompts)} prompts "
                         f"and {len(answers)} answers")
    seqs, starts = [], []
    for p, a in zip(prompts, answers):
        seqs.append(gpt.encode_chars(p + a + END, vocab))
        starts.append(len(p))
    T = max(len(s) for s in seqs) - 1
    inputs = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    targets = torch.full((len(seqs), T), pad_id, dtype=torch.long)
    mask = torch.zeros(len(seqs), T)
    for i, (s, start) in enumerate(zip(seqs, starts)):
        s = torch.from_numpy(s)
        inputs[i, :len(s) - 1], targets[i, :len(s) - 1] = s[:-1], s[1:]
        mask[i, start - 1:len(s) - 1] = 1.0  # target at t is character t+1: the answer starts at len(prompt)
    return inputs.to(device), targets.to(device), mask.to(device)


def masked_lm_loss(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Cross-entropy averaged over the positions where ``mask`` is 1 (the answer characters)."""
    if logits.shape[:2] != targets.shape or mask.shape != targets.shape:
        raise ValueError(f"masked_lm_loss: logits {tuple(logits.shape)} must be (batch, T, V) with targets and mask "
                         f"(batch, T), got targets {tuple(targets.shape)} and mask {tuple(mask.shape)}")
    if mask.sum() == 0:
        raise ValueError("masked_lm_loss: the mask selects no position; every example needs an answer")
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
    return (ce * mask.reshape(-1)).sum() / mask.sum()


def show_mask(prompt: str, answer: str) -> str:
    """Two lines: the example's text (newlines shown as ⏎) and a '^' under each trained character."""
    text = (prompt + answer + END).replace("\n", "⏎")
    return text + "\n" + " " * len(prompt) + "^" * (len(answer) + len(END))


# --- answers --------------------------------------------------------------------------------

def answer_logprobs(model, prompts: Sequence[str], answers: Sequence[str], vocab, batch_size: int = 256
                    ) -> torch.Tensor:
    """log p(answer + END | prompt) under ``model``, summed over characters: a tensor (n,).

    Differentiable (no ``torch.no_grad`` inside): DPO trains through it.
    """
    device = next(model.parameters()).device
    out = []
    for s in range(0, len(prompts), batch_size):
        x, y, m = encode_examples(prompts[s:s + batch_size], answers[s:s + batch_size], vocab, device)
        logp = model(x).log_softmax(-1).gather(-1, y[..., None])[..., 0]
        out.append((logp * m).sum(1))
    return torch.cat(out)


@torch.no_grad()
def generate_answers(model, prompts: Sequence[str], vocab, max_new_tokens: int = 20) -> list[str]:
    """Greedy answers to ``prompts``, each cut at its first END (or after ``max_new_tokens``).

    Prompts of equal length are decoded together with :meth:`utils.gpt.GPT.generate`
    (temperature 0 = greedy, with its key-value cache).
    """
    if isinstance(prompts, str):
        raise TypeError("generate_answers: prompts must be a list of strings")
    device = next(model.parameters()).device
    ids = [gpt.encode_chars(p, vocab) for p in prompts]
    longest = max((len(i) for i in ids), default=0)
    if longest + max_new_tokens > model.config.block_size:
        raise ValueError(f"generate_answers: the longest prompt ({longest} characters) plus "
                         f"{max_new_tokens} new ones exceed the context block_size={model.config.block_size}")
    out = [""] * len(ids)
    for n in sorted({len(i) for i in ids}):
        rows = [k for k, i in enumerate(ids) if len(i) == n]
        idx = torch.from_numpy(np.stack([ids[k] for k in rows])).to(device)
        new = model.generate(idx, max_new_tokens, temperature=0)[:, n:].cpu()
        for k, row in zip(rows, new):
            out[k] = gpt.decode_chars(row, vocab).split(END)[0]
    return out


# --- preferences ------------------------------------------------------------------------

def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The DPO loss of Rafailov et al. (2023) and the reward margins of the pairs.

    With log-probabilities of the chosen (w) and rejected (l) answers under the policy
    and the frozen reference, the implicit reward is r = beta (log pi - log pi_ref) and

        loss = -mean log sigmoid( r_w - r_l ).

    Returns (loss, margins r_w - r_l per pair).
    """
    shapes = {t.shape for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)}
    if len(shapes) != 1:
        raise ValueError(f"dpo_loss: the four log-probability tensors must have one shape, got {shapes}")
    if not beta > 0:
        raise ValueError(f"dpo_loss: beta must be positive, got {beta}")
    margins = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -F.logsigmoid(margins).mean(), margins


@torch.no_grad()
def sampled_kl(policy, reference, prompts: Sequence[str], vocab, max_new_tokens: int = 20,
               generator: torch.Generator | None = None) -> np.ndarray:
    """KL(policy || reference) of the answer, one estimate per prompt (nats).

    One answer is sampled from the policy (temperature 1) until END; along it the exact
    per-character KL of the two next-character distributions is summed. The mean over
    prompts is an unbiased estimate of the sequence-level KL that RLHF and DPO keep small.
    """
    device = next(policy.parameters()).device
    modes = policy.training, reference.training
    policy.eval(), reference.eval()
    ids = [gpt.encode_chars(p, vocab) for p in prompts]
    lengths = torch.tensor([len(i) for i in ids], device=device)
    total = int(lengths.max()) + max_new_tokens
    buf = torch.zeros((len(ids), total), dtype=torch.long, device=device)
    for i, row in enumerate(ids):
        buf[i, :len(row)] = torch.from_numpy(row)
    rows = torch.arange(len(ids), device=device)
    alive = torch.ones(len(ids), dtype=torch.bool, device=device)
    kl = torch.zeros(len(ids), device=device)
    end_id = vocab.stoi[END]
    for t in range(max_new_tokens):
        pos = lengths + t
        lp = policy(buf[:, :int(pos.max())])[rows, pos - 1].log_softmax(-1)
        lq = reference(buf[:, :int(pos.max())])[rows, pos - 1].log_softmax(-1)
        kl += alive * (lp.exp() * (lp - lq)).sum(-1)
        nxt = torch.multinomial(lp.exp().cpu(), 1, generator=generator)[:, 0].to(device)
        buf[rows, pos] = nxt
        alive &= nxt != end_id
        if not alive.any():
            break
    policy.train(modes[0]), reference.train(modes[1])
    return kl.cpu().numpy()
