"""`make doctor`: check the course environment and say how to fix what is wrong.

Runs with the system Python (it must work when the virtual environment is broken).
Prints OK / FAIL / WARN per requirement, with a fix for each FAIL; exits 1 on a FAIL.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
results: list[tuple[str, str, str]] = []


def report(status: str, what: str, fix: str = "") -> None:
    results.append((status, what, fix))
    line = f"[{status:4}] {what}"
    if fix and status != "OK":
        line += f"\n       fix: {fix}"
    print(line)


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version, for the lines whose environment marker applies here."""
    try:
        from packaging.markers import Marker
    except ImportError:
        from pip._vendor.packaging.markers import Marker
    out = {}
    for line in path.read_text().splitlines():
        requirement, _, marker = line.split("#", 1)[0].partition(";")
        m = re.match(r"^([A-Za-z0-9_.\-]+)==(\S+)$", requirement.strip())
        if m and (not marker.strip() or Marker(marker.strip()).evaluate()):
            out[m.group(1).lower()] = m.group(2)
    return out


def venv(code: str) -> str:
    return subprocess.run([str(VENV_PY), "-c", code], capture_output=True, text=True, timeout=120).stdout.strip()


def main() -> int:
    v = sys.version_info
    if v >= (3, 11):
        report("OK", f"Python {v.major}.{v.minor}.{v.micro}")
    else:
        report("FAIL", f"Python {v.major}.{v.minor} (the course needs 3.11 or newer)",
               "install Python 3.11+ and run `make setup PYTHON=python3.11`")

    if not VENV_PY.exists():
        report("FAIL", "virtual environment .venv", "run `make setup` (creates .venv from requirements.txt)")
        return finish()
    if not (ROOT / ".venv" / ".installed").exists():
        report("FAIL", "the setup has not finished (.venv exists, but .venv/.installed does not)",
               "wait for `make setup` to finish, or run it again if it stopped; then run `make doctor`")
        return finish()
    report("OK", "virtual environment .venv")

    wanted = pins(ROOT / "requirements.txt") | pins(ROOT / "requirements-nodeps.txt")
    installed = json.loads(venv(
        "import json, importlib.metadata as md; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in md.distributions()}))") or "{}")
    installed = {k.replace("_", "-"): val for k, val in installed.items()}
    for name, version in wanted.items():
        have = installed.get(name.replace("_", "-"))
        if have is None:
            report("FAIL", f"package {name} is missing", "run `make setup`")
        elif have.split("+")[0] != version:
            report("FAIL", f"package {name} {have} (course pins {version})", "run `make setup` (reinstalls the pins)")
    if all(installed.get(n.replace("_", "-"), "").split("+")[0] == ver for n, ver in wanted.items()):
        report("OK", f"all {len(wanted)} pinned packages at their pinned versions")

    torch_info = venv("import torch; print(torch.__version__, torch.cuda.is_available())")
    if not torch_info:
        report("FAIL", "torch does not import", "run `make setup`; see README 'Installing elsewhere' for the CPU wheel")
    else:
        version, cuda = torch_info.split()
        kind = "CUDA available" if cuda == "True" else ("CPU build" if "+cpu" in version else "no GPU in use")
        report("OK", f"torch {version} ({kind})")

    kernel = ROOT / ".venv/share/jupyter/kernels/python3/kernel.json"
    try:
        env = json.loads(kernel.read_text())["env"]
        assert env["KERAS_BACKEND"] == "torch"
        backend = venv("import os; os.environ.update(KERAS_BACKEND='torch'); import keras; print(keras.backend.backend())")
        assert backend == "torch", backend
        report("OK", "Keras 3 runs on the PyTorch backend in the course kernel")
    except (OSError, KeyError, AssertionError, json.JSONDecodeError) as err:
        report("FAIL", f"Keras backend not configured ({err or 'kernel spec'})", "run `.venv/bin/python tools/setup_jupyter.py`")

    overrides = ROOT / ".venv/share/jupyter/lab/settings/overrides.json"
    try:
        viewers = json.loads(overrides.read_text())["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
        assert viewers.get("markdown") == "Jupytext Notebook"
        report("OK", "JupyterLab opens chapters (.md) as notebooks (jupytext default viewer)")
    except (OSError, KeyError, AssertionError, json.JSONDecodeError):
        report("FAIL", "jupytext is not the default viewer for .md files", "run `.venv/bin/python tools/setup_jupyter.py`")

    server = ROOT / ".venv/etc/jupyter/jupyter_server_config.d/course.json"
    try:
        assert json.loads(server.read_text())["ServerApp"]["ip"] == "127.0.0.1"
        report("OK", "Jupyter server listens on 127.0.0.1 only")
    except (OSError, KeyError, AssertionError, json.JSONDecodeError):
        report("FAIL", "Jupyter server is not restricted to 127.0.0.1", "run `.venv/bin/python tools/setup_jupyter.py`")

    if (ROOT / "node_modules/mathjax/es5/tex-chtml.js").exists():
        report("OK", "MathJax 3 served locally for the book")
    else:
        report("FAIL", "MathJax is missing (the book would show raw formulas)", "run `npm ci` (Node.js and npm needed)")

    if Path("/usr/bin/chromium").exists():
        report("OK", "Chromium for the browser tests")
    else:
        report("WARN", "Chromium not found (only `make book-check` needs it)", "run `bash tools/install_browser.sh` as root")

    free_gb = shutil.disk_usage(ROOT).free / 1e9
    if free_gb >= 3:
        report("OK", f"free disk {free_gb:.0f} GB")
    else:
        report("FAIL", f"only {free_gb:.1f} GB free disk", "free at least 3 GB (the environment needs about 2 GB)")
    return finish()


def finish() -> int:
    failed = [r for r in results if r[0] == "FAIL"]
    print(f"\n{len(results) - len(failed)} OK/WARN, {len(failed)} FAIL")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
