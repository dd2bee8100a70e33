"""Shared fixtures for the unit tests (the notebook shim lives in the root conftest.py)."""
import matplotlib

matplotlib.use("Agg")  # this process only: the notebook kernels keep the inline backend

import sys

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _restore_subnormals():
    """utils.core.get_device() flushes denormal floats to zero (a speed fix for training);
    that processor state would outlive the test and break hypothesis' float strategies in
    whichever test runs next in the same worker."""
    yield
    if "torch" in sys.modules:
        sys.modules["torch"].set_flush_denormal(False)
