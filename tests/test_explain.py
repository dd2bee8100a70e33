"""utils.explain: attribution maps checked against their mathematics, captum and scipy."""
import numpy as np
import pytest
import torch
from torch import nn

from utils import explain


def small_net(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(3 * 4 * 4, 5)).double().eval()
    return net


def images(n=3, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("method", explain.METHODS)
def test_path_weights_integrate_polynomials(method):
    alphas, weights = explain.path_weights(method, 8)
    assert alphas.min() >= 0 and alphas.max() <= 1
    total = 1 - 1 / 8 if method == "captum_trapezoid" else 1.0
    assert weights.sum().item() == pytest.approx(total, abs=1e-12)
    if method in ("middle", "trapezoid"):  # exact for straight lines, second order for a parabola
        assert (weights * alphas).sum().item() == pytest.approx(0.5, abs=1e-12)
        assert abs((weights * alphas ** 2).sum().item() - 1 / 3) < 1 / 8 ** 2
    if method == "gausslegendre":
        assert (weights * alphas ** 7).sum().item() == pytest.approx(1 / 8, abs=1e-12)


def test_path_weights_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        explain.path_weights("simpson", 8)
    with pytest.raises(ValueError, match="steps"):
        explain.path_weights("middle", 1)


def test_ig_is_exact_for_a_linear_model():
    torch.manual_seed(1)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(64, 4)).double()
    X = images()
    ig = explain.integrated_gradients(lin, X, 2, steps=2, method="left")
    expected = (lin[1].weight[2].view(1, 1, 8, 8) * X).detach()
    torch.testing.assert_close(ig, expected, rtol=0, atol=1e-12)


def test_ig_completeness_shrinks_with_steps_and_matches_captum():
    net, X = small_net(), images()
    target = net(X).argmax(1)
    errs = [explain.completeness_gap(net, X, target, explain.integrated_gradients(net, X, target, steps=m))
            .abs().max().item() for m in (4, 256)]
    assert errs[1] < errs[0] / 4
    from captum.attr import IntegratedGradients

    ours = explain.integrated_gradients(net, X, target, steps=16, method="middle", max_batch=5)
    theirs = IntegratedGradients(net).attribute(X, baselines=torch.zeros_like(X), target=target, n_steps=16,
                                                method="riemann_middle")
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-12)


def test_saliency_matches_finite_differences():
    net, X = small_net(), images(1)
    grad, t = explain.saliency(net, X)
    h, i = 1e-6, (0, 0, 3, 4)
    bump = torch.zeros_like(X)
    bump[i] = h
    with torch.no_grad():
        numeric = (net(X + bump)[0, t] - net(X - bump)[0, t]) / (2 * h)
    assert grad[i].item() == pytest.approx(numeric.item(), rel=1e-5, abs=1e-9)


def test_occlusion_matches_captum():
    net, X = small_net(), images(2)
    target = torch.tensor([1, 3])
    occ = explain.occlusion(net, X, target, size=4, stride=2, max_batch=3)
    from captum.attr import Occlusion

    ref = Occlusion(net).attribute(X, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0,
                                   target=target)
    assert ref.dtype == torch.float32  # captum accumulates occlusion in float32, even for a float64 model
    torch.testing.assert_close(occ, ref.double(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="size"):
        explain.occlusion(net, X, 0, size=9)


def test_rank_correlation_equals_scipy_with_ties_and_mask():
    from scipy.stats import spearmanr

    g = np.random.default_rng(0)
    A = g.integers(0, 4, (3, 20)).astype(float)
    B = A + g.normal(size=(3, 20))
    got = explain.rank_correlation(A, B)
    assert np.allclose(got, [spearmanr(a, b).statistic for a, b in zip(A, B)], atol=1e-12)
    mask = A > 0
    got = explain.rank_correlation(A, B, mask=mask)
    assert np.allclose(got, [spearmanr(a[m], b[m]).statistic for a, b, m in zip(A, B, mask)], atol=1e-12)
    assert explain.rank_correlation(np.ones((1, 5)), np.arange(5.0)[None])[0] == 0.0
    with pytest.raises(ValueError, match="same shape"):
        explain.rank_correlation(A, B[:, :5])


def test_randomized_copies_cascade_and_leave_the_original():
    net = small_net()
    before = [p.clone() for p in net.parameters()]
    copies = explain.randomized_copies(net, ["4", "0"], seed=3)
    assert [name for name, _ in copies] == ["4", "0"]
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))
    last, first = copies[0][1], copies[1][1]
    assert not torch.equal(last[4].weight, net[4].weight) and torch.equal(last[0].weight, net[0].weight)
    assert torch.equal(first[4].weight, last[4].weight) and not torch.equal(first[0].weight, net[0].weight)
    again = explain.randomized_copies(net, ["4", "0"], seed=3)
    assert torch.equal(again[1][1][0].weight, first[0].weight)  # seeded
    with pytest.raises(ValueError, match="no layer"):
        explain.randomized_copies(net, ["7"])


def test_deletion_and_insertion_curves():
    net, X = small_net(), images(2)
    target = net(X).argmax(1)
    attribution = torch.randn(X.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    probs, frac = explain.deletion_curves(net, X, target, attribution, steps=8, max_batch=4)
    assert probs.shape == (2, 9) and frac[0] == 0 and frac[-1] == 1
    with torch.no_grad():
        p = torch.softmax(net(X), 1).gather(1, target.view(-1, 1)).squeeze(1)
        p0 = torch.softmax(net(torch.zeros_like(X)), 1).gather(1, target.view(-1, 1)).squeeze(1)
    torch.testing.assert_close(probs[:, 0], p)
    torch.testing.assert_close(probs[:, -1], p0)
    # step 1 deletes exactly the 8 most attributed pixels
    order = attribution.flatten(1).argsort(1, descending=True)[:, :8]
    Z = X.flatten(1).clone()
    Z.scatter_(1, order, 0.0)
    with torch.no_grad():
        p1 = torch.softmax(net(Z.view_as(X)), 1).gather(1, target.view(-1, 1)).squeeze(1)
    torch.testing.assert_close(probs[:, 1], p1)
    start = explain.gaussian_blur(X, 1.0)
    ins, _ = explain.deletion_curves(net, X, target, attribution, steps=8, insertion=True, start=start)
    torch.testing.assert_close(ins[:, -1], p)
    assert explain.area_under(np.ones((2, 9)), frac).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="shape of X"):
        explain.deletion_curves(net, X, target, attribution[:1])


def test_ranking_breaks_ties_at_random_but_keeps_the_order():
    A = torch.tensor([[0.0, 0.0, 0.0, 5.0, 1.0, 0.0]])
    order = explain.ranking(A, torch.Generator().manual_seed(0))[0].tolist()
    assert order[:2] == [3, 4] and sorted(order[2:]) == [0, 1, 2, 5]


def test_edge_map_and_blur():
    X = torch.zeros(1, 1, 8, 8, dtype=torch.float64)
    X[..., :, 4:] = 1.0
    e = explain.edge_map(X)
    assert e[0, 0, 4, 3] > 0 and e[0, 0, 4, 1] == 0
    b = explain.gaussian_blur(torch.ones(1, 1, 15, 15, dtype=torch.float64), 1.0)
    assert b[0, 0, 7, 7].item() == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="sigma"):
        explain.gaussian_blur(X, 0)


def test_bad_input_is_refused_clearly():
    net = small_net()
    with pytest.raises(TypeError, match="torch tensor"):
        explain.saliency(net, np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="non-empty"):
        explain.integrated_gradients(net, torch.zeros(0, 1, 8, 8, dtype=torch.float64), 0)
    with pytest.raises(ValueError, match="target"):
        explain.integrated_gradients(net, images(2), torch.tensor([0, 1, 2]))
