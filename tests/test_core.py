import numpy as np
import pytest
import torch

from utils import core


def test_seed_everything_repeats_numpy_and_torch():
    rng = core.seed_everything(123)
    a, t = rng.normal(size=3), torch.randn(3)
    rng = core.seed_everything(123)
    assert np.array_equal(a, rng.normal(size=3))
    assert torch.equal(t, torch.randn(3))


def test_seed_everything_differs_between_seeds():
    assert not np.array_equal(core.seed_everything(1).normal(size=3), core.seed_everything(2).normal(size=3))


@pytest.mark.parametrize("bad", [1.5, "0", None, True])
def test_seed_rejects_non_integers(bad):
    with pytest.raises(TypeError, match="seed must be an integer"):
        core.seed_everything(bad)


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seed_rejects_out_of_range(bad):
    with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*32\)"):
        core.seed_everything(bad)


def test_get_device_is_cpu_here_and_sets_threads(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    device = core.get_device()
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert torch.get_num_threads() == 1
    assert core.get_device("cpu").type == "cpu"


def test_get_device_bad_input():
    with pytest.raises(ValueError, match="prefer must be None, 'cpu' or 'cuda'"):
        core.get_device("gpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            core.get_device("cuda")


def test_num_threads_defaults_to_all_cores(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    import os

    assert core.num_threads() == os.cpu_count()
    monkeypatch.setenv("OMP_NUM_THREADS", "junk")
    assert core.num_threads() == os.cpu_count()


def test_versions_lists_the_key_packages():
    v = core.versions()
    assert v["torch"].startswith("2.13.0") and v["numpy"][0].isdigit()
