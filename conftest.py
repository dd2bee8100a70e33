"""Run the MyST Markdown notebooks (chapters/, solutions/) as tests with nbval.

nbval collects only .ipynb files. This shim lets it read our .md sources
through jupytext, so there is no conversion step and no .ipynb on disk. After
a notebook has run, it also
- records how long it took (build/timings/, read by tools/benchmark.py), and
- when every cell passed, stores the executed notebook in the book's
  jupyter-cache (build/jupyter_cache), so `make book` reuses these outputs
  instead of executing every chapter a second time, and
- writes the text of every output (build/outputs/), which tests/prose reads to check
  that each number in the prose came out of the notebook's own run.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path

import jupytext
import nbformat
import nbval.plugin as nbval_plugin

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build"
CACHE_DIR = BUILD / "jupyter_cache"
TIMINGS_DIR = BUILD / "timings"
OUTPUTS_DIR = BUILD / "outputs"
NOTEBOOK_DIRS = ("chapters", "solutions")

# Kernels inherit this process's environment: MPLBACKEND=Agg there would leave
# the executed notebooks (and the book) without figures.
os.environ.pop("MPLBACKEND", None)


class _NbformatReadingMyst:
    """Stand-in for the nbformat module inside nbval: .md files go through jupytext."""

    def __getattr__(self, name):
        return getattr(nbformat, name)

    @staticmethod
    def read(path, as_version=4):
        if str(path).endswith(".md"):
            return jupytext.read(path, fmt="md:myst")
        return nbformat.read(path, as_version=as_version)


nbval_plugin.nbformat = _NbformatReadingMyst()

_failed_notebooks: set[str] = set()


def is_myst_notebook(path: Path) -> bool:
    """A .md under chapters/ or solutions/ whose header declares a kernel (a notebook, not a page)."""
    if path.suffix != ".md" or not path.is_relative_to(ROOT):
        return False
    if path.relative_to(ROOT).parts[0] not in NOTEBOOK_DIRS:
        return False
    head = path.read_text(encoding="utf-8")[:2000]
    return head.startswith("---") and "kernelspec:" in head


class MystNotebook(nbval_plugin.IPyNbFile):
    def collect(self):
        self._cells = []
        for item in super().collect():
            self._cells.append(item)
            yield item

    def setup(self):
        self._start = time.perf_counter()
        super().setup()

    def teardown(self):
        super().teardown()
        seconds = time.perf_counter() - self._start
        rel = self.path.relative_to(ROOT).as_posix()
        passed = self.nodeid not in _failed_notebooks
        TIMINGS_DIR.mkdir(parents=True, exist_ok=True)
        (TIMINGS_DIR / (rel.replace("/", "__") + ".json")).write_text(
            json.dumps({"notebook": rel, "seconds": round(seconds, 2), "passed": passed,
                        "threads": os.environ.get("OMP_NUM_THREADS", "all")})
        )
        self._write_output_text(rel, passed)
        if passed and rel.startswith("chapters/"):
            self._store_in_book_cache(seconds)

    def _write_output_text(self, rel: str, passed: bool) -> None:
        """The text of every output, with the hash of the source it came from."""
        texts = []
        for item in self._cells:
            for out in item.test_outputs or []:
                if "text" in out:
                    texts.append(str(out["text"]))
                for mime in ("text/plain", "text/markdown", "text/html", "text/latex"):
                    if mime in out.get("data", {}):
                        texts.append(str(out["data"][mime]))
        OUTPUTS_DIR.mkdir(parents=True, exist_ok=True)
        (OUTPUTS_DIR / (rel.replace("/", "__") + ".json")).write_text(json.dumps({
            "notebook": rel, "passed": passed,
            "source_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest(),
            "text": "\n".join(texts)}))

    def _store_in_book_cache(self, seconds: float) -> None:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        nb = self.nb
        for count, item in enumerate(self._cells, start=1):
            outputs = []
            for out in item.test_outputs or []:
                out = nbformat.from_dict(dict(out))
                if out.output_type == "execute_result":
                    out.setdefault("metadata", {})
                    out.execution_count = count
                elif out.output_type == "display_data":
                    out.setdefault("metadata", {})
                outputs.append(out)
            item.cell.outputs = outputs
            item.cell.execution_count = count
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with open(BUILD / "jupyter_cache.lock", "w") as lock:  # two xdist workers share one database
            fcntl.flock(lock, fcntl.LOCK_EX)
            get_cache(str(CACHE_DIR)).cache_notebook_bundle(
                CacheBundleIn(nb, str(self.path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and is_myst_notebook(Path(file_path)):
        return MystNotebook.from_parent(parent, path=Path(file_path))
    return None


def pytest_runtest_logreport(report):
    if report.failed and ".md::" in report.nodeid:
        _failed_notebooks.add(report.nodeid.split("::", 1)[0])
