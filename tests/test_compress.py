"""utils.compress: quantisation, pruning, distillation, static int8, ONNX export, latency, FLOPs (section 9.7)."""
import copy
import tempfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from utils import compress
from utils.vision import MnistCNN


def small_cnn(seed=0):
    torch.manual_seed(seed)
    net = MnistCNN(channels=(4, 8), hidden=16).eval()
    with torch.no_grad():  # non-trivial batch-norm statistics, as after training
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return net


def images(n=16, seed=1):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_per_channel_error_is_at_most_half_a_step():
    w = torch.randn(6, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    w[1] = 0  # a channel of zeros
    for bits in (2, 4, 8, 12):
        q, s = compress.quantize_per_channel(w, bits)
        qmax = 2 ** (bits - 1) - 1
        assert q.dtype == (torch.int8 if bits <= 8 else torch.int16) and s.shape == (6,)
        err = (w - compress.dequantize_per_channel(q, s)).abs()
        assert (err <= s.reshape(-1, 1, 1, 1) / 2 * (1 + 1e-6)).all()
        assert q.abs().amax(dim=(1, 2, 3)).tolist() == [qmax, 0, qmax, qmax, qmax, qmax]
        assert s[1] == 1.0 and torch.equal(compress.dequantize_per_channel(q, s)[1], w[1])


def test_integers_equal_pytorch_quantize_per_channel():
    w = torch.randn(10, 20, generator=torch.Generator().manual_seed(2))
    q, s = compress.quantize_per_channel(w)
    assert torch.equal(q, compress.torch_int8_per_channel(w, s))


@pytest.mark.parametrize("bad, error", [(torch.zeros(0, 3), ValueError), (torch.arange(4), TypeError),
                                        ([1.0, 2.0], TypeError)])
def test_quantize_rejects_bad_input(bad, error):
    with pytest.raises(error):
        compress.quantize_per_channel(bad)


def test_quantize_rejects_bad_bits_and_scale_shapes():
    with pytest.raises(ValueError, match="bits"):
        compress.quantize_per_channel(torch.randn(3, 3), bits=1)
    with pytest.raises(ValueError, match="one entry per output channel"):
        compress.dequantize_per_channel(torch.zeros(3, 4, dtype=torch.int8), torch.ones(4))


def test_quantize_weights_copies_and_packs():
    net = MnistCNN().eval()
    before = copy.deepcopy(net.state_dict())
    q_net, packed = compress.quantize_weights(net)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())  # original untouched
    assert packed["features.0.weight.int"].dtype == torch.int8
    assert "features.1.running_mean" in packed and "classifier.2.bias" in packed
    assert compress.size_bytes(packed) < compress.size_bytes(net.state_dict()) / 2.5
    with torch.no_grad():
        assert (q_net(images()) - net(images())).abs().max() < 0.1


def test_global_masks_equal_torch_prune_and_count_exactly():
    net = small_cnn()
    for amount in (0.3, 0.75):
        ours = compress.magnitude_masks(net, amount)
        ref = copy.deepcopy(net)
        params = [(m, "weight") for m in ref.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount)
        for name, m in ref.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                assert torch.equal(ours[name], m.weight_mask)
        n = sum(m.numel() for m in ours.values())
        assert int(sum((m == 0).sum() for m in ours.values())) == round(amount * n)


def test_layer_scope_prunes_each_layer_equally_and_masks_apply():
    net = small_cnn()
    masks = compress.magnitude_masks(net, 0.5, scope="layer")
    for name, m in masks.items():
        assert (m == 0).sum() == round(0.5 * m.numel()), name
    compress.apply_masks(net, masks)
    assert abs(compress.sparsity(net) - 0.5) < 0.01
    with pytest.raises(ValueError, match="sparsity"):
        compress.magnitude_masks(net, 1.0)
    with pytest.raises(ValueError, match="scope"):
        compress.magnitude_masks(net, 0.5, scope="row")
    with pytest.raises(KeyError, match="no such layer"):
        compress.apply_masks(net, {"nope": torch.ones(1)})


def test_distillation_loss_limits_and_gradient_scale():
    g = torch.Generator().manual_seed(3)
    s, t = torch.randn(8, 10, generator=g, dtype=torch.float64), torch.randn(8, 10, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (8,), generator=g)
    assert torch.isclose(compress.distillation_loss(s, t, y, T=3.0, alpha=0.0), F.cross_entropy(s, y))
    assert compress.distillation_loss(t, t, y, T=3.0, alpha=1.0).abs() < 1e-12  # KL of a distribution with itself
    p, log_q = F.softmax(t / 2, 1), F.log_softmax(s / 2, 1)
    by_hand = 4 * (p * (p.log() - log_q)).sum(1).mean()
    assert torch.isclose(compress.distillation_loss(s, t, y, T=2.0, alpha=1.0), by_hand, atol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        compress.distillation_loss(s, t[:, :5], y)


def test_static_quantize_keeps_outputs_close_and_is_int8(capfd):
    net = small_cnn()
    torch.use_deterministic_algorithms(True, warn_only=True)  # as seed_everything sets it
    try:
        qnet, prepared = compress.static_quantize(net, images(64, seed=4))
        x = images(32, seed=5)
        with torch.no_grad():
            ref, out = net(x), qnet(x)
        assert torch.are_deterministic_algorithms_enabled()  # restored after the call
    finally:
        torch.use_deterministic_algorithms(False)
    assert "Warning" not in capfd.readouterr().err  # no C++ determinism alerts from the int8 kernels
    assert (out - ref).abs().max() < 0.1 * ref.abs().max() + 0.05
    assert qnet.features[0].weight().dtype == torch.qint8
    with pytest.raises(TypeError, match="features"):
        compress.static_quantize(nn.Linear(3, 3), images(4))
    with pytest.raises(ValueError, match="calibration"):
        compress.static_quantize(net, torch.zeros(0, 1, 28, 28))


def test_onnx_export_is_silent_and_matches_pytorch(capfd):
    net = small_cnn()
    with tempfile.TemporaryDirectory() as folder:
        path = compress.export_onnx(net, images(1), folder)
        session = compress.onnx_session(path, threads=1)
        x = images(5, seed=6)
        out = session.run(None, {"x": x.numpy()})[0]
        assert compress.size_bytes(path) > 0 and compress.zipped_bytes(path) < compress.size_bytes(path)
    with torch.no_grad():
        assert np.abs(out - net(x).numpy()).max() < 1e-4
    captured = capfd.readouterr()
    assert captured.out == "" and "torch.onnx" not in captured.err
    with pytest.raises(ValueError, match="does not exist"):
        compress.export_onnx(net, images(1), "/nonexistent/folder")


def test_latency_and_flops():
    net = small_cnn()
    lat = compress.latency_ms(net, images(1), repeats=20, warmup=2)
    assert set(lat) == {"median", "p99"} and 0 < lat["median"] <= lat["p99"]
    with pytest.raises(ValueError, match="repeats"):
        compress.latency_ms(net, images(1), repeats=5)
    expected = 2 * (4 * 28 * 28 * 9 + 8 * 14 * 14 * 4 * 9 + 392 * 16 + 16 * 10)
    assert compress.flops_per_example(net, images(1)) == expected
    with pytest.raises(ValueError, match="batch of one"):
        compress.flops_per_example(net, images(2))
