"""A small CLIP (section 9.5): digit images paired with templated texts, two encoders,
the symmetric InfoNCE loss with a learned temperature, and retrieval metrics.

    from utils import clip
    props = clip.measure_properties(images)            # thickness, width, slant per image
    bins = clip.PropertyBins.fit(props)                # terciles on the training images
    texts = clip.describe(labels, bins.words(props), rng)   # "a thick right-leaning seven"
    vocab = clip.WordVocab.build(texts)
    model = clip.ToyCLIP(len(vocab))
    clip.train_clip(model, images, vocab.encode(texts), epochs=6, lr=3e-3)

The texts are a toy: they are made by a template from the label and from properties
*measured* on each image, so everything a text says about an image is true of it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils.vision import MnistCNN

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# One word per tercile of a property; None: the middle third gets no word.
PROPERTY_WORDS = {
    "thickness": ("thin", None, "thick"),
    "width": ("narrow", None, "wide"),
    "slant": ("upright", None, "slanted"),
}
# Four ways to say the same thing; the zero-shot prompts reuse them without properties.
TEMPLATES = ("{art} {x}", "{art} handwritten {x}", "a picture of {art} {x}", "a scan of {art} {x}")
PAD, UNK = "<pad>", "<unk>"


def _as_images(images) -> np.ndarray:
    """(N, 28, 28) float64 numpy from numpy or torch, (N, 28, 28) or (N, 1, 28, 28)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3 or images.shape[0] == 0:
        raise ValueError(f"expected a non-empty batch of images (N, 28, 28) or (N, 1, 28, 28), got {images.shape}")
    return images


def measure_properties(images, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Three properties measured on each image, in pixels (no label is used).

    - ``thickness``: stroke width, ``2 * area / perimeter`` of the binarised digit
      (pixels above ``threshold``): a stroke of width w and length L has area w L and
      a perimeter of about 2 L.
    - ``slant``: the shear of the ink from its second moments, ``-mu11 / mu02`` (x
      change per row going up; positive when the top leans to the right).
    - ``width``: the horizontal standard deviation of the ink once the slant is
      removed, ``sqrt(mu20 - mu11^2 / mu02)``.
    """
    X = _as_images(images)
    on = X > threshold
    area = on.sum(axis=(1, 2)).astype(np.float64)
    padded = np.pad(on, ((0, 0), (1, 1), (1, 1)))
    perimeter = (np.abs(np.diff(padded.astype(np.int8), axis=1)).sum(axis=(1, 2))
                 + np.abs(np.diff(padded.astype(np.int8), axis=2)).sum(axis=(1, 2))).astype(np.float64)
    thickness = 2 * area / np.maximum(perimeter, 1)
    mass = X.sum(axis=(1, 2))
    if np.any(mass <= 0):
        raise ValueError("an image has no ink (all pixels 0): its properties are undefined")
    rows, cols = np.mgrid[0:X.shape[1], 0:X.shape[2]].astype(np.float64)
    my = (X * rows).sum(axis=(1, 2)) / mass
    mx = (X * cols).sum(axis=(1, 2)) / mass
    dy, dx = rows[None] - my[:, None, None], cols[None] - mx[:, None, None]
    mu02 = (X * dy * dy).sum(axis=(1, 2)) / mass
    mu20 = (X * dx * dx).sum(axis=(1, 2)) / mass
    mu11 = (X * dx * dy).sum(axis=(1, 2)) / mass
    slant = -mu11 / mu02
    width = np.sqrt(np.maximum(mu20 - mu11 ** 2 / mu02, 0.0))
    return {"thickness": thickness, "width": width, "slant": slant}


@dataclass(frozen=True)
class PropertyBins:
    """Tercile edges of each property, fitted on the training images only."""

    edges: dict

    @classmethod
    def fit(cls, props: dict) -> "PropertyBins":
        return cls({k: tuple(np.quantile(props[k], [1 / 3, 2 / 3])) for k in PROPERTY_WORDS})

    def bin(self, props: dict) -> dict[str, np.ndarray]:
        """0, 1 or 2 per image and property (lower, middle, upper third)."""
        return {k: np.searchsorted(np.asarray(self.edges[k]), props[k], side="right") for k in PROPERTY_WORDS}

    def words(self, props: dict) -> list[list[str]]:
        """The property words of each image, in a fixed order (thickness, width, slant)."""
        b = self.bin(props)
        n = len(next(iter(b.values())))
        return [[w for k in PROPERTY_WORDS for w in [PROPERTY_WORDS[k][b[k][i]]] if w] for i in range(n)]


def _article(next_word: str) -> str:
    return "an" if next_word[:1] in "aeiou" else "a"


def phrase(digit: int, words=(), template: str = TEMPLATES[0]) -> str:
    """One description: ``phrase(7, ["thick"], "a picture of {art} {x}")`` is
    'a picture of a thick seven'."""
    x = " ".join([*words, DIGIT_WORDS[int(digit)]])
    return template.format(art=_article(x), x=x)


def describe(labels, words, rng: np.random.Generator) -> list[str]:
    """A text per image: its digit and property words in a template drawn at random."""
    labels = np.asarray(labels)
    if len(labels) != len(words):
        raise ValueError(f"{len(labels)} labels but {len(words)} lists of property words")
    picks = rng.integers(0, len(TEMPLATES), size=len(labels))
    return [phrase(d, w, TEMPLATES[t]) for d, w, t in zip(labels, words, picks)]


def content_keys(labels, props_bins: dict) -> np.ndarray:
    """One integer per image for what its text says (digit and the three bins), template aside."""
    b = [np.asarray(props_bins[k]) for k in PROPERTY_WORDS]
    return np.asarray(labels) * 27 + b[0] * 9 + b[1] * 3 + b[2]


def tokenize(text: str) -> list[str]:
    return re.findall(r"[a-z0-9\-]+", text.lower())


class WordVocab:
    """Words to ids; 0 is padding, 1 stands for a word never seen in training."""

    def __init__(self, words):
        self.itos = [PAD, UNK, *words]
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, texts) -> "WordVocab":
        return cls(sorted({w for t in texts for w in tokenize(t)}))

    def __len__(self) -> int:
        return len(self.itos)

    def unknown(self, text: str) -> list[str]:
        return [w for w in tokenize(text) if w not in self.stoi]

    def encode(self, texts, length: int = 10) -> torch.Tensor:
        """(N, length) int64 ids, padded with 0; unknown words are dropped (see :meth:`unknown`)."""
        if isinstance(texts, str):
            texts = [texts]
        rows = []
        for t in texts:
            ids = [self.stoi[w] for w in tokenize(t) if w in self.stoi]
            if not ids:
                raise ValueError(f"{t!r} has no word the model knows; it knows: {', '.join(self.itos[2:])}")
            if len(ids) > length:
                raise ValueError(f"{t!r} has {len(ids)} known words, more than length={length}")
            rows.append(ids + [0] * (length - len(ids)))
        return torch.tensor(rows, dtype=torch.long)


class BagOfWords(nn.Module):
    """Text encoder: the mean of the word embeddings (padding excluded), then an MLP."""

    def __init__(self, vocab_size: int, dim: int = 32, hidden: int = 64):
        super().__init__()
        self.embed = nn.EmbeddingBag(vocab_size, hidden, mode="mean", padding_idx=0)
        self.mlp = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, ids):
        if ids.ndim != 2:
            raise ValueError(f"BagOfWords expects token ids of shape (batch, length), got {tuple(ids.shape)}")
        return self.mlp(self.embed(ids))


def clip_loss(image_emb, text_emb, log_scale):
    """Symmetric InfoNCE of Radford et al. (2021) for a batch of n matching pairs.

    Both embeddings are L2-normalised; ``logits[i, j] = exp(log_scale) * <img_i, txt_j>``
    (``exp(log_scale)`` is 1 / temperature). Pair i's image should pick text i among
    the n texts (rows) and text i should pick image i among the n images (columns):
    the loss is the mean of the two cross-entropies, written out with logsumexp.
    Returns ``(loss, logits)``.
    """
    if image_emb.shape != text_emb.shape or image_emb.ndim != 2:
        raise ValueError(f"image and text embeddings must both be (n, d), got {tuple(image_emb.shape)} "
                         f"and {tuple(text_emb.shape)}")
    img = F.normalize(image_emb, dim=1)
    txt = F.normalize(text_emb, dim=1)
    logits = log_scale.exp() * img @ txt.T
    diag = logits.diagonal()
    image_to_text = (torch.logsumexp(logits, dim=1) - diag).mean()  # each row: a softmax over texts
    text_to_image = (torch.logsumexp(logits, dim=0) - diag).mean()  # each column: a softmax over images
    return (image_to_text + text_to_image) / 2, logits


class ToyCLIP(nn.Module):
    """The image encoder of section 5.1 (:class:`MnistCNN`, ``dim`` outputs instead of 10
    classes), a bag-of-words text encoder, and the learned log inverse temperature."""

    def __init__(self, vocab_size: int, dim: int = 32, channels=(12, 24), hidden: int = 64,
                 dropout: float = 0.25, temperature: float = 0.07):
        super().__init__()
        self.image_encoder = MnistCNN(channels, hidden, dropout, num_classes=dim)
        self.text_encoder = BagOfWords(vocab_size, dim, hidden)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1 / temperature)))

    def encode_image(self, images):
        return F.normalize(self.image_encoder(images), dim=1)

    def encode_text(self, ids):
        return F.normalize(self.text_encoder(ids), dim=1)

    def forward(self, images, ids):
        return clip_loss(self.image_encoder(images), self.text_encoder(ids), self.log_scale)


MAX_LOG_SCALE = math.log(100.0)  # CLIP clips 1 / temperature at 100


def train_clip(model: ToyCLIP, images, ids, epochs: int, lr: float, batch_size: int = 128,
               seed: int = 0, weight_decay: float = 1e-4) -> list[float]:
    """Adam, cosine decay per epoch (as :func:`utils.train.fit` with the judge's recipe),
    shuffled batches of matching pairs; returns the mean loss per epoch."""
    if len(images) != len(ids):
        raise ValueError(f"{len(images)} images but {len(ids)} texts: they must be pairs")
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    g = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(images), generator=g)
        total, count = 0.0, 0
        for start in range(0, len(order) - batch_size + 1, batch_size):  # full batches only
            idx = order[start:start + batch_size]
            loss, _ = model(images[idx].to(device), ids[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.log_scale.clamp_(max=MAX_LOG_SCALE)
            total += loss.item() * len(idx)
            count += len(idx)
        scheduler.step()
        history.append(total / count)
    model.eval()
    return history


@torch.no_grad()
def embed_images(model: ToyCLIP, images, batch_size: int = 500) -> torch.Tensor:
    """Normalised image embeddings (eval mode), on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.encode_image(images[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def embed_texts(model: ToyCLIP, ids) -> torch.Tensor:
    """Normalised text embeddings (eval mode), on the CPU."""
    model.eval()
    return model.encode_text(ids.to(next(model.parameters()).device)).cpu()


def recall_at_k(sim, k: int) -> float:
    """Share of rows i whose own item i is among the k most similar (row i of ``sim``).

    Ties count against the row: the rank is the number of items strictly more similar,
    plus the number of other items equally similar.
    """
    sim = torch.as_tensor(sim)
    if sim.ndim != 2 or sim.shape[0] != sim.shape[1]:
        raise ValueError(f"sim must be a square (n, n) matrix of pairs, got {tuple(sim.shape)}")
    own = sim.diagonal().unsqueeze(1)
    rank = (sim > own).sum(1) + (sim == own).sum(1) - 1
    return (rank < k).double().mean().item()


def content_recall_at_k(sim, keys, k: int) -> float:
    """Share of rows whose top k (by ``sim``) hold an item whose key equals the row's own key:
    a retrieved text that says exactly the same thing counts as a hit."""
    sim = torch.as_tensor(sim)
    keys = torch.as_tensor(np.asarray(keys))
    top = sim.topk(k, dim=1).indices
    return (keys[top] == keys.unsqueeze(1)).any(1).double().mean().item()


def content_chance(keys, k: int) -> float:
    """The expected :func:`content_recall_at_k` of a random ranking: for a row with m items
    sharing its key among n, ``1 - C(n - m, k) / C(n, k)``."""
    keys = np.asarray(keys)
    n = len(keys)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    m = counts[inverse]
    return float(np.mean([1 - math.comb(n - mi, k) / math.comb(n, k) for mi in m]))


def oracle_recall(keys, k: int) -> float:
    """The best expected :func:`recall_at_k` of any model that sees only the content: the
    m items sharing a row's key are indistinguishable, so its own is in the top k with
    probability ``min(k, m) / m``."""
    keys = np.asarray(keys)
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    m = counts[inverse]
    return float(np.mean(np.minimum(k, m) / m))


def class_prompts(templates=TEMPLATES) -> list[list[str]]:
    """The zero-shot prompts: for each digit, one text per template, no property words."""
    return [[phrase(d, (), t) for t in templates] for d in range(10)]


def zero_shot_classifier(model: ToyCLIP, vocab: WordVocab, templates=TEMPLATES) -> torch.Tensor:
    """(10, d) class embeddings: per digit the mean of its prompts' normalised embeddings,
    normalised again (prompt ensembling); a single template gives single-prompt classes."""
    prompts = class_prompts(templates)
    emb = embed_texts(model, vocab.encode([p for row in prompts for p in row]))
    emb = emb.reshape(10, len(templates), -1).mean(1)
    return F.normalize(emb, dim=1)
