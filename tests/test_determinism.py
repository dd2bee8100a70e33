"""Running a notebook twice gives the same numbers (seeds set through utils.core).

Representative notebooks that train or sample are executed twice, each time in a
fresh kernel, and every printed or displayed text output is compared. Timings and
memory addresses are masked; everything else (losses, accuracies, samples) must be
identical character for character.
"""
import re
from pathlib import Path

import jupytext
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [
    "chapters/01_overview/02_history_and_applications.md",  # trains tiny MLPs
    "chapters/02_math/02_calculus.md",  # gradient descent, trains a neuron with the autograd engine
]
VOLATILE = re.compile(r"\d+(\.\d+)?\s*(s|ms|µs|seconds|sec)\b|0x[0-9a-f]+|\d+(\.\d+)? ?(it/s|s/it)")


def text_outputs(path: Path) -> list[str]:
    nb = jupytext.read(path, fmt="md:myst")
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    texts = []
    for i, cell in enumerate(nb.cells):
        # One string per cell: a kernel may split one print into several stream chunks.
        text = "".join(out.get("text") or out.get("data", {}).get("text/plain", "")
                       for out in cell.get("outputs", []))
        if text:
            texts.append(f"cell {i}: " + VOLATILE.sub("<t>", text))
    return texts


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_numbers_repeat_exactly(notebook):
    first, second = text_outputs(ROOT / notebook), text_outputs(ROOT / notebook)
    assert len(first) > 5, "the notebook printed almost nothing: nothing to compare"
    differences = [(a, b) for a, b in zip(first, second) if a != b]
    assert len(first) == len(second) and not differences, differences[:3]
