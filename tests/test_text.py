import numpy as np
import pytest

from utils import text


def test_char_and_word_tokens():
    assert text.char_tokens("我很 好") == ["我", "很", " ", "好"]
    assert text.word_tokens("O'er the Moon, 42 times!") == ["o'er", "the", "moon", ",", "42", "times", "!"]
    with pytest.raises(TypeError, match="expected a string"):
        text.word_tokens(["a"])


def test_vocab_orders_by_frequency_and_roundtrips():
    seqs = [list("abracadabra"), list("cab")]
    v = text.Vocab.build(seqs)
    assert v.itos[:4] == list(text.SPECIALS)
    assert v.itos[4:] == ["a", "b", "c", "r", "d"]  # a:6, b:3, c:2, r:2 (alphabetical tie), d:1
    ids = v.encode(list("bad"), add_bos=True, add_eos=True)
    assert ids[0] == v.bos_id and ids[-1] == v.eos_id and len(ids) == 5
    assert v.decode(ids) == list("bad")
    assert v.decode(ids, keep_specials=True) == ["<bos>", "b", "a", "d", "<eos>"]
    assert v.decode([v.stoi["a"], v.eos_id, v.stoi["b"]]) == ["a"]  # stops at <eos>
    assert v.encode(list("az")) == [v.stoi["a"], v.unk_id]


def test_vocab_min_freq_max_size_and_errors():
    seqs = [list("aaabbc")]
    assert len(text.Vocab.build(seqs, min_freq=2)) == 6
    assert text.Vocab.build(seqs, max_size=5).itos[4:] == ["a"]
    with pytest.raises(TypeError, match="tokenise first"):
        text.Vocab.build(["hello", "world"])
    with pytest.raises(TypeError, match="list of token lists"):
        text.Vocab.build("hello")
    with pytest.raises(ValueError, match="no sequences"):
        text.Vocab.build([])
    with pytest.raises(TypeError, match="tokenise the string first"):
        text.Vocab.build(seqs).encode("abc")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        text.Vocab.build(seqs).decode([99])
    with pytest.raises(ValueError, match="first tokens"):
        text.Vocab(["a", "b"])


def test_pad_batch():
    batch, lengths = text.pad_batch([[5, 6, 7], [8]], pad_id=0)
    assert batch.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    assert batch.dtype == np.int64
    batch, lengths = text.pad_batch([[5, 6, 7], [8]], max_len=2)
    assert batch.tolist() == [[5, 6], [8, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(ValueError, match="empty batch"):
        text.pad_batch([])
    with pytest.raises(ValueError, match="every sequence is empty"):
        text.pad_batch([[], []])
