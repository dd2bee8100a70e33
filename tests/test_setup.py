"""The setup picks PyTorch's CPU build on a Linux machine without an NVIDIA GPU."""
import os
import platform
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "torch_index.sh"


def torch_args(tmp_path, build=None, fake_gpu=False):
    env = {k: v for k, v in os.environ.items() if k != "TORCH_BUILD"}
    if build is not None:
        env["TORCH_BUILD"] = build
    path = env.get("PATH", "")
    # hide any real nvidia-smi; optionally put a fake one first
    dirs = [d for d in path.split(os.pathsep) if not (Path(d) / "nvidia-smi").exists()]
    if fake_gpu:
        fake = tmp_path / "bin"
        fake.mkdir(exist_ok=True)
        (fake / "nvidia-smi").write_text("#!/bin/sh\nexit 0\n")
        (fake / "nvidia-smi").chmod(0o755)
        dirs.insert(0, str(fake))
    env["PATH"] = os.pathsep.join(dirs)
    proc = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
    return proc.returncode, proc.stdout.strip(), proc.stderr


@pytest.mark.skipif(platform.system() != "Linux", reason="the choice only matters on Linux")
def test_linux_without_gpu_gets_the_cpu_index(tmp_path):
    rc, out, _ = torch_args(tmp_path)
    assert rc == 0 and out == "--extra-index-url https://download.pytorch.org/whl/cpu"


def test_a_gpu_machine_or_an_explicit_choice_keeps_the_default_index(tmp_path):
    assert torch_args(tmp_path, fake_gpu=True)[1] == ""
    assert torch_args(tmp_path, build="default")[1] == ""
    assert torch_args(tmp_path, build="cpu", fake_gpu=True)[1].endswith("/whl/cpu")
    rc, _, err = torch_args(tmp_path, build="gpu")
    assert rc == 2 and "TORCH_BUILD must be" in err


def test_the_installed_torch_is_the_pinned_cpu_build_here():
    import torch

    pinned = next(line.split("==")[1].split()[0] for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("torch=="))
    assert torch.__version__.split("+")[0] == pinned
    if platform.system() == "Linux" and not torch.cuda.is_available():
        assert torch.version.cuda is None, f"a CUDA build of torch ({torch.__version__}) on a machine without a GPU"


def test_the_setup_reads_a_valid_torch_pin_from_the_requirements():
    """make setup extracts the torch pin with grep/sed (comments in requirements.txt must not reach pip)."""
    import re
    import subprocess

    line = next(l for l in (ROOT / "Makefile").read_text().splitlines() if "grep -E '^torch=='" in l)
    command = re.search(r'"\$\$\((grep -E .*?requirements\.txt[^)]*)\)"', line).group(1).replace("$$", "$")
    spec = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(r"torch==[0-9][0-9A-Za-z.+]*", spec), f"make setup would pass {spec!r} to pip"
