"""utils.privacy: DP-SGD pieces against references, the accountant, the attack's AUC,
and (9.9) federated averaging, anonymisation and fixed-point encoding."""
import copy
import math

import numpy as np
import pytest
import torch

from utils import privacy


def test_per_sample_grads_match_a_loop():
    torch.manual_seed(0)
    net = privacy.mlp(d_in=6, hidden=5, n_classes=3).double()
    X, y = torch.randn(4, 6, dtype=torch.float64), torch.tensor([0, 2, 1, 2])
    grads = privacy.per_sample_grads(net, X, y)
    for i in range(4):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(X[i:i + 1]), y[i:i + 1]).backward()
        for k, p in net.named_parameters():
            assert torch.allclose(grads[k][i], p.grad, atol=1e-12)


def test_per_sample_grads_refuse_bad_batches():
    net = privacy.mlp(d_in=3, hidden=2, n_classes=2)
    with pytest.raises(ValueError, match="empty"):
        privacy.per_sample_grads(net, torch.zeros(0, 3), torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="labels"):
        privacy.per_sample_grads(net, torch.zeros(3, 3), torch.zeros(2, dtype=torch.long))


def test_clip_and_sum_bounds_each_example():
    g = {"a": torch.tensor([[3.0, 4.0], [0.3, 0.4]]), "b": torch.zeros(2, 1)}
    summed, norms = privacy.clip_and_sum(g, 1.0)
    assert torch.allclose(norms, torch.tensor([5.0, 0.5]))
    assert torch.allclose(summed["a"], torch.tensor([0.6 + 0.3, 0.8 + 0.4]), atol=1e-6)
    with pytest.raises(ValueError, match="positive"):
        privacy.clip_and_sum(g, 0.0)


def test_dp_sgd_step_matches_opacus():
    from opacus import GradSampleModule
    from opacus.optimizers import DPOptimizer

    torch.manual_seed(1)
    net = privacy.mlp(d_in=8, hidden=6, n_classes=3).double()
    X, y = torch.randn(10, 8, dtype=torch.float64), torch.randint(0, 3, (10,))
    ours, theirs = copy.deepcopy(net), GradSampleModule(copy.deepcopy(net))
    opt = DPOptimizer(torch.optim.SGD(theirs.parameters(), lr=0.3), noise_multiplier=0.7, max_grad_norm=0.5,
                      expected_batch_size=10, generator=torch.Generator().manual_seed(3))
    torch.nn.functional.cross_entropy(theirs(X.clone().requires_grad_()), y).backward()
    opt.step()
    privacy.dp_sgd_step(ours, X, y, 0.5, 0.7, 10, 0.3, generator=torch.Generator().manual_seed(3))
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, atol=1e-12)


def test_accountant_matches_opacus_and_known_values():
    from opacus.accountants import RDPAccountant

    acc = RDPAccountant()
    acc.history = [(1.1, 0.02, 500)]
    assert abs(acc.get_epsilon(1e-5, alphas=list(privacy.ORDERS)) - privacy.dp_epsilon(0.02, 1.1, 500, 1e-5)) < 1e-9
    assert privacy.sgm_rdp(1.0, 2.0, 3) == pytest.approx(3 / 8)
    assert privacy.sgm_rdp(0.0, 1.0, 3) == 0.0
    assert privacy.dp_epsilon(0.05, 1.0, 100, 1e-5) < privacy.dp_epsilon(0.05, 1.0, 200, 1e-5)
    assert privacy.dp_epsilon(0.05, 2.0, 100, 1e-5) < privacy.dp_epsilon(0.05, 1.0, 100, 1e-5)
    with pytest.raises(ValueError, match="integer"):
        privacy.sgm_rdp(0.1, 1.0, 2.5)


def test_auc_and_bootstrap():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    pos, neg = rng.normal(0.5, 1, 200), rng.integers(0, 2, 150).astype(float)
    assert privacy.auc(pos, neg) == pytest.approx(roc_auc_score(np.r_[np.ones(200), np.zeros(150)], np.r_[pos, neg]))
    lo, hi = privacy.bootstrap_auc_ci(pos, neg, n_boot=200)
    assert lo < privacy.auc(pos, neg) < hi
    with pytest.raises(ValueError, match="at least one positive"):
        privacy.auc([], [1.0])


def test_dp_auc_bound():
    assert privacy.dp_auc_bound(0.0, 0.0) == pytest.approx(0.5, abs=1e-6)
    assert privacy.dp_auc_bound(1.0, 1e-5) < privacy.dp_auc_bound(2.0, 1e-5) < 1.0


def test_train_dp_sgd_runs_and_learns():
    torch.manual_seed(0)
    X = torch.randn(200, 5)
    y = (X[:, 0] > 0).long()
    net = privacy.train_dp_sgd(privacy.mlp(d_in=5, hidden=8, n_classes=2), X, y, q=0.1, sigma=0.5, C=1.0,
                               steps=100, lr=0.5)
    assert privacy.accuracy(net, X, y) > 0.8
    with pytest.raises(ValueError, match="sampling rate"):
        privacy.train_dp_sgd(net, X, y, q=0.0, sigma=1.0, C=1.0, steps=1, lr=0.1)


def test_split_clients():
    y = np.repeat(np.arange(10), 30)
    iid = privacy.split_clients(y, 10, iid=True)
    non = privacy.split_clients(y, 10, iid=False, shards_per_client=2)
    for parts in (iid, non):
        assert sorted(np.concatenate(parts).tolist()) == list(range(300))
    assert max(len(np.unique(y[p])) for p in non) <= 2 < min(len(np.unique(y[p])) for p in iid)
    with pytest.raises(ValueError, match="n_clients"):
        privacy.split_clients(y, 0)


def test_fedavg_with_one_client_is_sgd_and_averaging_is_weighted():
    states = [{"w": torch.tensor([0.0])}, {"w": torch.tensor([4.0])}]
    assert privacy.weighted_average(states, [3, 1])["w"].item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="no client"):
        privacy.weighted_average([], [])
    torch.manual_seed(0)
    X, y = torch.randn(60, 4), torch.randint(0, 2, (60,))
    a, b = privacy.mlp(4, 3, 2), privacy.mlp(4, 3, 2)
    b.load_state_dict(a.state_dict())
    privacy.fedavg(a, X, y, [np.arange(60)], rounds=2, lr=0.1, batch_size=60)
    opt = torch.optim.SGD(b.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(b(X), y).backward()
        opt.step()
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_batch_label_leak_single_example():
    torch.manual_seed(0)
    net = privacy.mlp(5, 4, 6)
    for label in range(6):
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.randn(1, 5)), torch.tensor([label])).backward()
        assert privacy.batch_label_leak(net[-1].bias.grad) == {label}


def test_anonymisation_helpers():
    import pandas as pd

    t = pd.DataFrame({"age": [21, 23, 37, 38, 70], "gender": list("MMFFM"), "zip_code": ["12345", "12399", "54321",
                                                                                        "54000", "99999"]})
    assert privacy.unique_share(t, ["age"]) == 1.0
    g = privacy.generalise(t, age_band=10, zip_digits=2)
    assert g["age"].tolist() == [20, 20, 30, 30, 70] and g["zip_code"].tolist()[0] == "12"
    assert privacy.k_anonymity(g, ["age", "gender", "zip_code"]) == 1
    assert privacy.unique_share(g, ["age", "gender", "zip_code"]) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="age_band"):
        privacy.generalise(t, age_band=0)
    with pytest.raises(ValueError, match="empty"):
        privacy.k_anonymity(t.iloc[:0], ["age"])


def test_linkage_attack_finds_a_unique_user():
    rng = np.random.default_rng(0)
    R = np.zeros((3, 5))
    T = np.zeros((3, 5))
    R[1, [0, 1, 2]] = [5, 3, 1]
    R[2, [0, 3]] = [5, 4]
    T[1, [0, 1, 2]] = [10, 20, 30]
    T[2, [0, 3]] = [10, 40]
    assert privacy.linkage_attack(R, T, 1, [1, 2], rng)
    assert not privacy.linkage_attack(R, T, 1, [0], rng, rating_tol=1, day_tol=1)  # user 2 matches as well


def test_quantise_roundtrip_and_paillier_sum():
    from phe import paillier

    x = np.array([0.5, -0.25, 1e-3])
    assert np.allclose(privacy.dequantise(privacy.quantise(x)), x, atol=2 ** -17)
    pub, priv = paillier.generate_paillier_keypair(n_length=512)
    a, b = privacy.quantise([0.1, -0.2]), privacy.quantise([-0.3, 0.4])
    enc = [pub.encrypt(u) + pub.encrypt(v) for u, v in zip(a, b)]
    assert [priv.decrypt(c) for c in enc] == [u + v for u, v in zip(a, b)]
