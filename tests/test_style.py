"""Unit tests for utils.style (section 5.4, style transfer without pretrained weights)."""
import numpy as np
import pytest
import torch

from utils import style


def gram_loop(F):
    """The definition, one entry at a time: G[i, j] = mean over positions of F[i] * F[j]."""
    C, H, W = F.shape
    G = torch.zeros(C, C, dtype=F.dtype)
    for i in range(C):
        for j in range(C):
            total = 0.0
            for y in range(H):
                for x in range(W):
                    total += F[i, y, x] * F[j, y, x]
            G[i, j] = total / (H * W)
    return G


def test_gram_matches_an_explicit_loop():
    F = torch.randn(4, 3, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.allclose(style.gram_matrix(F), gram_loop(F), atol=1e-12)


def test_gram_batched_equals_one_by_one():
    F = torch.randn(2, 6, 7, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    G = style.gram_matrix(F)
    assert G.shape == (2, 6, 6)
    for b in range(2):
        assert torch.allclose(G[b], style.gram_matrix(F[b]))


def test_gram_is_symmetric_positive_semidefinite_and_size_free():
    F = torch.randn(8, 10, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    G = style.gram_matrix(F)
    assert torch.allclose(G, G.T)
    assert torch.linalg.eigvalsh(G).min() > -1e-12
    # the Gram matrix averages over positions: tiling the maps 2x2 does not change it
    assert torch.allclose(style.gram_matrix(F.repeat(1, 2, 2)), G)
    # and it forgets where things are: shuffling positions leaves it unchanged
    perm = torch.randperm(100, generator=torch.Generator().manual_seed(3))
    shuffled = F.reshape(8, 100)[:, perm].reshape(8, 10, 10)
    assert torch.allclose(style.gram_matrix(shuffled), G)


@pytest.mark.parametrize("bad", [torch.zeros(5), torch.zeros(3, 4), torch.zeros(1, 2, 3, 4, 5), torch.zeros(3, 0, 4)])
def test_gram_rejects_bad_shapes(bad):
    with pytest.raises(ValueError, match="shape"):
        style.gram_matrix(bad)


def test_gram_rejects_numpy():
    with pytest.raises(TypeError, match="torch.Tensor"):
        style.gram_matrix(np.zeros((3, 4, 4)))


def test_two_seeds_give_two_different_networks_and_one_seed_the_same():
    a, a2, b = style.RandomFeatureNet(0), style.RandomFeatureNet(0), style.RandomFeatureNet(1)
    for wa, wa2, wb in zip(a.weights, a2.weights, b.weights):
        assert torch.equal(wa, wa2)
        corr = torch.corrcoef(torch.stack([wa.flatten(), wb.flatten()]))[0, 1]
        assert abs(corr) < 0.1  # independent draws, not a shifted copy
    x = style.swirl_strokes(32)
    fa, fb = a(x), b(x)
    assert all(not torch.allclose(u, v) for u, v in zip(fa, fb))


def test_network_is_frozen_multiscale_and_blind_to_brightness():
    net = style.RandomFeatureNet(0, channels=8, scales=3)
    assert all(not p.requires_grad for p in net.parameters())
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    feats = net(x)
    assert [tuple(f.shape) for f in feats] == [(2, 8, 32, 32), (2, 8, 16, 16), (2, 8, 8, 8)]
    assert all((f >= 0).all() for f in feats)  # ReLU
    # zero-mean filters: adding a constant to the image changes nothing away from the border
    shifted = net(x + 0.1)
    assert torch.allclose(shifted[0][..., 2:-2, 2:-2], feats[0][..., 2:-2, 2:-2], atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(seed=-1), dict(seed=1.5), dict(channels=0), dict(kernel_size=4),
                                    dict(scales=0), dict(seed=True)])
def test_network_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        style.RandomFeatureNet(**kwargs)


def test_network_rejects_bad_images():
    net = style.RandomFeatureNet(0, channels=4, scales=4)
    with pytest.raises(ValueError, match="RGB"):
        net(torch.zeros(1, 32, 32))
    with pytest.raises(ValueError, match="too small"):
        net(torch.zeros(3, 4, 4))
    with pytest.raises(TypeError):
        net(np.zeros((3, 32, 32)))


def test_losses_are_zero_for_identical_inputs_and_positive_otherwise():
    net = style.RandomFeatureNet(0, channels=16)
    x, y = style.swirl_strokes(32, seed=0), style.swirl_strokes(32, seed=1)
    fx, fy = net(x), net(y)
    assert style.style_loss(fx, fx).item() == 0.0
    assert style.content_loss(fx, fx).item() == 0.0
    assert style.style_loss(fx, fy).item() > 0
    assert style.content_loss(fx, fy, layers=(0, 1)).item() > 0
    # the same texture at another position: style nearly identical, content not
    rolled = net(torch.roll(x, shifts=(9, 13), dims=(1, 2)))
    assert style.style_loss(rolled, fx) < 0.05 * style.content_loss(rolled, fx, layers=(0,))


def test_style_loss_is_relative_and_averages_scales():
    fs = [torch.ones(1, 2, 4, 4), 2 * torch.ones(1, 3, 2, 2)]
    fx = [2 * torch.ones(1, 2, 4, 4), 2 * torch.ones(1, 3, 2, 2)]
    # scale 0: G(x) = 4 G(s), so (4 - 1)^2 / 1 = 9; scale 1: 0. Mean over scales: 4.5
    assert np.isclose(style.style_loss(fx, fs).item(), 4.5)


def test_losses_reject_bad_inputs():
    net = style.RandomFeatureNet(0, channels=4)
    fx = net(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="one feature map per scale"):
        style.style_loss(fx, fx[:2])
    with pytest.raises(TypeError, match="lists"):
        style.style_loss(fx[0], fx[0])
    with pytest.raises(ValueError, match="layers"):
        style.content_loss(fx, fx, layers=(7,))
    with pytest.raises(ValueError, match="same size"):
        style.content_loss(fx, net(torch.rand(3, 64, 64)), layers=(0,))
    other = style.RandomFeatureNet(0, channels=5)(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="same network"):
        style.style_loss(fx, other)


def test_style_transfer_lowers_the_loss_and_keeps_the_network_fixed():
    net = style.RandomFeatureNet(0, channels=16, scales=3)
    before = [w.clone() for w in net.weights]
    content = style.swirl_strokes(32, seed=3).flip(0)  # other colours, other layout
    target = style.swirl_strokes(32, seed=4)
    image, history = style.style_transfer(content, target, net, style_weight=100.0, steps=30)
    assert image.shape == (3, 32, 32) and image.min() >= 0 and image.max() <= 1
    assert set(history) == {"content", "style", "total"} and len(history["style"]) <= 30
    assert history["content"][0] == 0.0  # it starts from the content image
    assert history["style"][-1] < 0.2 * history["style"][0]
    assert all(torch.equal(a, b) for a, b in zip(before, net.weights))
    adam_image, adam_history = style.style_transfer(content, target, net, 100.0, steps=20, lr=0.02, optimizer="adam")
    assert len(adam_history["total"]) == 20 and adam_history["total"][-1] < adam_history["total"][0]


def test_style_transfer_is_deterministic():
    net = style.RandomFeatureNet(0, channels=8, scales=3)
    c, s = style.swirl_strokes(32, seed=1), style.swirl_strokes(32, seed=2)
    a, _ = style.style_transfer(c, s, net, 10.0, steps=10)
    b, _ = style.style_transfer(c, s, net, 10.0, steps=10)
    assert torch.equal(a, b)


@pytest.mark.parametrize("kwargs, error", [
    (dict(content=torch.zeros(1, 16, 16)), ValueError),
    (dict(style=np.zeros((3, 16, 16))), TypeError),
    (dict(content=torch.full((3, 16, 16), float("nan"))), ValueError),
    (dict(steps=0), ValueError),
    (dict(style_weight=-1.0), ValueError),
    (dict(optimizer="sgd"), ValueError),
    (dict(net="vgg"), TypeError),
])
def test_style_transfer_rejects_bad_inputs(kwargs, error):
    args = dict(content=torch.rand(3, 16, 16), style=torch.rand(3, 16, 16),
                net=style.RandomFeatureNet(0, channels=4, scales=2), steps=2)
    args.update(kwargs)
    with pytest.raises(error):
        style.style_transfer(**args)


def test_load_image_gives_rgb_squares_in_unit_range():
    for name in ("chelsea", "brick"):
        x = style.load_image(name, 48)
        assert x.shape == (3, 48, 48) and x.dtype == torch.float32
        assert 0 <= x.min() and x.max() <= 1 and x.std() > 0.02
    grey = style.load_image("brick", 32)
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])  # grey -> RGB
    colour = style.load_image("chelsea", 32)
    assert not torch.equal(colour[0], colour[2])


def test_load_image_rejects_bad_inputs():
    with pytest.raises(ValueError, match="unknown"):
        style.load_image("mona_lisa", 64)
    with pytest.raises(ValueError, match="size"):
        style.load_image("chelsea", 2)


def test_swirl_strokes_is_deterministic_and_coloured():
    a, b, c = style.swirl_strokes(64, seed=0), style.swirl_strokes(64, seed=0), style.swirl_strokes(64, seed=1)
    assert a.shape == (3, 64, 64) and torch.equal(a, b) and not torch.equal(a, c)
    assert 0 <= a.min() and a.max() <= 1
    assert (a[2] - a[0]).mean() > 0.1  # mostly blue
    with pytest.raises(ValueError, match="palette"):
        style.swirl_strokes(32, palette=[[1, 0]])
