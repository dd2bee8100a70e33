"""Shared fixtures for the unit tests (the notebook shim lives in the root conftest.py)."""
import matplotlib

matplotlib.use("Agg")  # this process only: the notebook kernels keep the inline backend

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")
