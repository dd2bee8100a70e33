"""Text to numbers and back: tokenisers and a vocabulary shared by chapter 6.

A model sees integers, not text. :class:`Vocab` maps tokens (characters, words,
sub-words) to ids and back, with four reserved tokens that every sequence model in
the course uses::

    from utils import text
    vocab = text.Vocab.build([text.char_tokens(s) for s in sentences], min_freq=2)
    ids = vocab.encode(text.char_tokens("我很喜欢"), add_bos=True, add_eos=True)
    vocab.decode(ids)                              # ['我', '很', '喜', '欢'] (specials dropped)
    batch, lengths = text.pad_batch([ids, ids[:3]], pad_id=vocab.pad_id)
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import numpy as np

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\d+|[^\sA-Za-z\d]")


def char_tokens(s: str) -> list[str]:
    """One token per character, whitespace kept (the usual choice for Chinese text)."""
    if not isinstance(s, str):
        raise TypeError(f"expected a string, got {type(s).__name__}")
    return list(s)


def word_tokens(s: str, lower: bool = True) -> list[str]:
    """Words (with an inner apostrophe: "o'er"), numbers and single punctuation marks."""
    if not isinstance(s, str):
        raise TypeError(f"expected a string, got {type(s).__name__}")
    return _WORD.findall(s.lower() if lower else s)


class Vocab:
    """A token <-> id table. Ids 0-3 are <pad>, <unk>, <bos>, <eos>; the others follow
    by decreasing frequency (ties alphabetically), so that building is deterministic."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tokens[: len(SPECIALS)] != list(SPECIALS):
            raise ValueError(f"a Vocab's first tokens must be {SPECIALS}; use Vocab.build(...)")
        if len(set(tokens)) != len(tokens):
            raise ValueError("a Vocab's tokens must be unique")
        self.itos = tokens
        self.stoi = {t: i for i, t in enumerate(tokens)}

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], min_freq: int = 1, max_size: int | None = None) -> "Vocab":
        """Count tokens over ``sequences`` (each a list of tokens) and keep the frequent ones.

        ``min_freq``: drop tokens seen fewer times (they become <unk>); ``max_size``: keep at
        most this many tokens, specials included.
        """
        if isinstance(sequences, str):
            raise TypeError("sequences must be a list of token lists, e.g. [char_tokens(s) for s in texts]")
        counts = Counter()
        n = 0
        for seq in sequences:
            if isinstance(seq, str) and len(seq) != 1:
                raise TypeError("each sequence must be a list of tokens, not a string: "
                                "tokenise first, e.g. [char_tokens(s) for s in texts]")
            counts.update(seq)
            n += 1
        if n == 0:
            raise ValueError("cannot build a vocabulary from no sequences")
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, got {min_freq}")
        for special in SPECIALS:
            counts.pop(special, None)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            if max_size < len(SPECIALS):
                raise ValueError(f"max_size must leave room for the {len(SPECIALS)} special tokens")
            kept = kept[: max_size - len(SPECIALS)]
        vocab = cls(list(SPECIALS) + kept)
        vocab.counts = counts
        return vocab

    pad_id, unk_id, bos_id, eos_id = 0, 1, 2, 3

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        preview = ", ".join(self.itos[len(SPECIALS): len(SPECIALS) + 8])
        return f"Vocab({len(self)} tokens: specials, then {preview}, ...)"

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids; unknown tokens become ``unk_id``."""
        if isinstance(tokens, str) and len(tokens) != 1:
            raise TypeError("encode takes a list of tokens; tokenise the string first (char_tokens / word_tokens)")
        ids = [self.stoi.get(t, self.unk_id) for t in tokens]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int], keep_specials: bool = False, stop_at_eos: bool = True) -> list[str]:
        """Tokens for ``ids``: stops at the first <eos> and drops <pad>/<bos>/<eos> by default."""
        out = []
        for i in (int(i) for i in ids):
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary (0..{len(self.itos) - 1})")
            if i == self.eos_id and stop_at_eos:
                if keep_specials:
                    out.append(self.itos[i])
                break
            if keep_specials or i not in (self.pad_id, self.bos_id, self.eos_id):
                out.append(self.itos[i])
        return out


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = 0, max_len: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Stack id lists of different lengths into one (batch, length) int64 array.

    Shorter sequences are padded with ``pad_id`` at the end; longer ones are cut to
    ``max_len``. Returns the array and the true lengths (after cutting).
    """
    if len(sequences) == 0:
        raise ValueError("cannot pad an empty batch")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    if max_len is not None:
        if max_len < 1:
            raise ValueError(f"max_len must be at least 1, got {max_len}")
        lengths = np.minimum(lengths, max_len)
    width = int(lengths.max()) if len(lengths) else 0
    if width == 0:
        raise ValueError("every sequence is empty")
    out = np.full((len(sequences), width), pad_id, dtype=np.int64)
    for row, (seq, n) in enumerate(zip(sequences, lengths)):
        out[row, :n] = np.asarray(list(seq)[:n], dtype=np.int64)
    return out, lengths
