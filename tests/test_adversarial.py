"""utils.adversarial: the attacks keep their threat model and match their formulas."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from utils import adversarial as adv


def linear_model(seed=0, d=12, k=3):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(d, k)).double()
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def batch(n=6, d=12, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 1, d, generator=g, dtype=torch.float64)
    X[:, :, :2] = 0.0
    X[:, :, -1] = 1.0
    return X, torch.randint(0, k, (n,), generator=g)


def test_input_gradient_is_the_softmax_formula():
    net, (X, y) = linear_model(), batch()
    loss, grad = adv.input_gradient(net, X, y)
    W = net[1].weight
    p = F.softmax(net(X), dim=1)
    expected = (p - F.one_hot(y, 3).double()) @ W
    assert torch.allclose(grad.flatten(1), expected, atol=1e-12)
    assert torch.allclose(loss, F.cross_entropy(net(X), y, reduction="none"))
    assert all(p.grad is None for p in net.parameters())


def test_fgsm_is_eps_sign_grad_then_clip():
    net, (X, y) = linear_model(), batch()
    _, grad = adv.input_gradient(net, X, y)
    X_adv = adv.fgsm(net, X, y, 0.1)
    assert torch.equal(X_adv, (X + 0.1 * grad.sign()).clamp(0, 1))
    assert (X_adv - X).abs().max() <= 0.1 + 1e-12
    assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_fgsm_raises_the_loss_of_a_linear_model_by_the_first_order_amount():
    net, (X, y) = linear_model(1), batch(seed=1)
    X = 0.3 + 0.4 * X  # inside (0, 1): no clipping
    loss, grad = adv.input_gradient(net, X, y)
    new = F.cross_entropy(net(adv.fgsm(net, X, y, 1e-6)), y, reduction="none")
    assert torch.allclose(new - loss, 1e-6 * grad.abs().flatten(1).sum(1), rtol=1e-4)


def test_pgd_stays_in_the_ball_and_beats_fgsm():
    net, (X, y) = linear_model(2), batch(n=40, seed=2)
    X_pgd = adv.pgd(net, X, y, 0.2, alpha=0.05, steps=10, generator=torch.Generator().manual_seed(0))
    assert (X_pgd - X).abs().max() <= 0.2 + 1e-12
    assert X_pgd.min() >= 0 and X_pgd.max() <= 1
    loss = lambda Z: F.cross_entropy(net(Z), y).item()
    assert loss(X_pgd) >= loss(adv.fgsm(net, X, y, 0.2)) - 1e-9 > loss(X)


def test_pgd_is_repeatable_and_eps_zero_changes_nothing():
    net, (X, y) = linear_model(), batch()
    a = adv.pgd(net, X, y, 0.1, alpha=0.02, steps=3, generator=torch.Generator().manual_seed(4))
    b = adv.pgd(net, X, y, 0.1, alpha=0.02, steps=3, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert torch.equal(adv.pgd(net, X, y, 0.0, alpha=0.01, steps=2), X)


def test_project_linf_is_the_nearest_point_of_both_boxes():
    X, _ = batch()
    far = X + torch.linspace(-1, 1, X.numel(), dtype=torch.float64).reshape(X.shape)
    P = adv.project_linf(far, X, 0.1)
    assert torch.equal(P, torch.clamp(torch.clamp(far, X - 0.1, X + 0.1), 0, 1))
    assert torch.equal(adv.project_linf(X, X, 0.1), X)


def test_random_sign_noise_has_the_same_size():
    X, _ = batch(n=20)
    N = adv.random_sign_noise(X, 0.05, torch.Generator().manual_seed(0))
    inside = (X > 0.05) & (X < 0.95)
    assert torch.allclose((N - X)[inside].abs(), torch.full_like(X[inside], 0.05))
    assert N.min() >= 0 and N.max() <= 1


def test_robust_mask_is_the_per_image_worst_case():
    net, (X, y) = linear_model(3), batch(n=30, seed=3)
    a1 = lambda m, Z, t: adv.fgsm(m, Z, t, 0.3)
    a2 = lambda m, Z, t: adv.random_sign_noise(Z, 0.3, torch.Generator().manual_seed(0))
    clean = adv.robust_mask(net, X, y)
    m1, both = adv.robust_mask(net, X, y, a1), adv.robust_mask(net, X, y, [a1, a2])
    assert clean.dtype == torch.bool and len(clean) == 30
    assert not (m1 & ~clean).any() and not (both & ~m1).any()
    assert adv.attack_accuracy(net, X, y, [a1, a2]) == pytest.approx(both.float().mean().item())


def test_adversarial_fit_same_batches_and_learns():
    X, y = batch(n=64, seed=5)
    X = X.float()
    nets = []
    for eps in (0.0, 0.0):
        torch.manual_seed(0)
        net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
        losses = adv.adversarial_fit(net, X, y, epochs=5, batch_size=16, lr=0.05, eps=eps, device=torch.device("cpu"))
        nets.append(net)
        assert losses[-1] < losses[0]
    assert torch.equal(nets[0][1].weight, nets[1][1].weight)  # deterministic
    torch.manual_seed(0)
    robust = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    adv.adversarial_fit(robust, X, y, epochs=2, batch_size=16, eps=0.1, device=torch.device("cpu"))
    assert robust.training and all(torch.isfinite(p).all() for p in robust.parameters())


@pytest.mark.parametrize("call, message", [
    (lambda net, X, y: adv.fgsm(net, X, y, 1.5), "eps must be a number in [0, 1]"),
    (lambda net, X, y: adv.fgsm(net, X, y[:2], 0.1), "one label per image"),
    (lambda net, X, y: adv.fgsm(net, X.long(), y, 0.1), "floating-point"),
    (lambda net, X, y: adv.pgd(net, X, y, 0.1, alpha=0.01, steps=0), "steps must be a positive int"),
    (lambda net, X, y: adv.pgd(net, X, y, 0.1, alpha=-1, steps=2), "alpha"),
    (lambda net, X, y: adv.project_linf(X[:2], X, 0.1), "same shape"),
    (lambda net, X, y: adv.adversarial_fit(net, X, y, epochs=0), "epochs must be a positive int"),
])
def test_bad_input_gets_a_clear_message(call, message):
    net, (X, y) = linear_model(), batch()
    with pytest.raises((ValueError, TypeError), match=None) as info:
        call(net, X, y)
    assert message in str(info.value)
