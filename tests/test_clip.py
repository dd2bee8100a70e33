"""utils.clip: measured properties, texts, vocabulary, the loss, metrics and zero-shot classes."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from utils import clip


def _bar(shear=0.0, thick=2, height=20):
    """A vertical bar `thick` pixels wide, its top shifted right by `shear` pixels per row."""
    img = np.zeros((28, 28))
    for r in range(4, 4 + height):
        c = int(round(12 + shear * (4 + height - r)))
        img[r, c:c + thick] = 1.0
    return img


def test_thickness_of_bars():
    p = clip.measure_properties(np.stack([_bar(thick=1), _bar(thick=3), _bar(thick=5)]))
    assert np.all(np.diff(p["thickness"]) > 0)
    # 2 A / P for a w x h rectangle is 2wh / (2w + 2h): exact
    assert p["thickness"][1] == pytest.approx(2 * 3 * 20 / (2 * 3 + 2 * 20))


def test_slant_sign_and_mirror():
    right, left = _bar(shear=0.3), _bar(shear=-0.3)
    p = clip.measure_properties(np.stack([right, left, _bar()]))
    assert p["slant"][0] > 0.2 and p["slant"][1] < -0.2 and abs(p["slant"][2]) < 1e-12
    mirrored = clip.measure_properties(right[:, ::-1].copy())
    assert mirrored["slant"][0] == pytest.approx(-p["slant"][0], abs=1e-12)


def test_properties_accept_torch_and_channel_dim():
    x = torch.from_numpy(np.stack([_bar(0.2), _bar(thick=3)])).float().unsqueeze(1)
    a, b = clip.measure_properties(x), clip.measure_properties(x.numpy()[:, 0])
    assert all(np.allclose(a[k], b[k]) for k in a)


def test_properties_reject_bad_input():
    with pytest.raises(ValueError, match="no ink"):
        clip.measure_properties(np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="batch of images"):
        clip.measure_properties(np.ones(5))


def test_bins_words_and_texts():
    props = {"thickness": np.array([1.0, 2.0, 3.0]), "width": np.array([3.0, 1.0, 2.0]),
             "slant": np.array([0.0, 0.1, 0.5])}
    bins = clip.PropertyBins.fit(props)
    words = bins.words(props)
    assert words[0] == ["thin", "wide", "upright"]
    assert words[1] == ["narrow"]
    assert words[2] == ["thick", "slanted"]
    assert clip.phrase(8) == "an eight"
    assert clip.phrase(7, ["thick"], clip.TEMPLATES[2]) == "a picture of a thick seven"
    assert clip.phrase(1, ["upright"]) == "an upright one"
    texts = clip.describe([0, 1, 2], words, np.random.default_rng(0))
    assert texts[0].endswith("thin wide upright zero") and texts[2].endswith("thick slanted two")
    keys = clip.content_keys([0, 1, 2], bins.bin(props))
    assert len(set(keys.tolist())) == 3


def test_vocab_encodes_pads_and_reports_unknown_words():
    vocab = clip.WordVocab.build(["a thick seven", "an eight"])
    ids = vocab.encode(["a photo of a thick seven", "an eight"], length=6)
    assert ids.shape == (2, 6) and ids[0, 4:].eq(0).all() and ids[0, :4].gt(1).all()
    assert vocab.unknown("a photo of a seven") == ["photo", "of"]
    with pytest.raises(ValueError, match="no word the model knows"):
        vocab.encode("photo album")


def test_clip_loss_equals_cross_entropy_both_ways_and_log_n():
    g = torch.Generator().manual_seed(0)
    img, txt = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(7, 3, generator=g, dtype=torch.float64)
    s = torch.tensor(2.5, dtype=torch.float64)
    loss, logits = clip.clip_loss(img, txt, s)
    t = torch.arange(7)
    assert loss.item() == pytest.approx(((F.cross_entropy(logits, t) + F.cross_entropy(logits.T, t)) / 2).item(),
                                        abs=1e-12)
    assert clip.clip_loss(img, txt, torch.tensor(-50.0, dtype=torch.float64))[0].item() == pytest.approx(math.log(7))
    with pytest.raises(ValueError, match="must both be"):
        clip.clip_loss(img, txt[:, :2], s)


def test_recall_and_content_recall():
    sim = torch.tensor([[0.9, 0.1, 0.0], [0.8, 0.5, 0.2], [0.0, 0.3, 0.1]])
    assert clip.recall_at_k(sim, 1) == pytest.approx(1 / 3)
    assert clip.recall_at_k(sim, 2) == pytest.approx(1.0)
    assert clip.recall_at_k(sim.T, 1) == pytest.approx(2 / 3)
    assert clip.content_recall_at_k(sim, [0, 0, 1], 1) == pytest.approx(2 / 3)
    assert clip.recall_at_k(torch.zeros(3, 3), 2) == 0.0  # all ties: counted against the row
    with pytest.raises(ValueError, match="square"):
        clip.recall_at_k(torch.zeros(2, 3), 1)
    assert clip.content_chance([0, 1, 2, 3], 1) == pytest.approx(0.25)
    assert clip.content_chance([0, 0, 1, 1], 4) == pytest.approx(1.0)
    assert clip.oracle_recall([0, 1, 2], 1) == 1.0
    assert clip.oracle_recall([0, 0, 0, 1], 1) == pytest.approx((3 * (1 / 3) + 1) / 4)
    assert clip.oracle_recall([0, 0, 0, 1], 2) == pytest.approx((3 * (2 / 3) + 1) / 4)
    keys = np.array([0, 0, 1, 2, 2, 2])
    rng = np.random.default_rng(0)
    hits = [clip.content_recall_at_k(torch.as_tensor(rng.random((6, 6))), keys, 2) for _ in range(3000)]
    assert np.mean(hits) == pytest.approx(clip.content_chance(keys, 2), abs=0.02)


def test_toy_clip_learns_a_tiny_task_and_zero_shot_classes_are_unit_vectors():
    torch.manual_seed(0)
    labels = np.repeat(np.arange(10), 4)
    images = torch.zeros(40, 1, 28, 28)
    for i, d in enumerate(labels):  # digit d: a bright square at a place of its own
        images[i, 0, 2 * d + 2:2 * d + 6, 2 * d + 2:2 * d + 6] = 1.0
    texts = [clip.phrase(d) for d in labels]
    vocab = clip.WordVocab.build(texts)
    model = clip.ToyCLIP(len(vocab))
    history = clip.train_clip(model, images, vocab.encode(texts), epochs=10, lr=3e-3, batch_size=10)
    assert history[-1] < history[0] / 2
    assert model.log_scale.item() <= clip.MAX_LOG_SCALE + 1e-6
    classes = clip.zero_shot_classifier(model, vocab)
    assert classes.shape == (10, 32) and torch.allclose(classes.norm(dim=1), torch.ones(10))
    acc = (clip.embed_images(model, images) @ classes.T).argmax(1).eq(torch.as_tensor(labels)).float().mean()
    assert acc > 0.8


def test_train_clip_rejects_unpaired_data():
    model = clip.ToyCLIP(5)
    with pytest.raises(ValueError, match="pairs"):
        clip.train_clip(model, torch.zeros(4, 1, 28, 28), torch.ones(3, 10, dtype=torch.long), epochs=1, lr=1e-3)
