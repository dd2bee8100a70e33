"""Configure the course's JupyterLab inside the virtual environment (not in $HOME).

Run by `make setup`. It writes three files under sys.prefix:
- share/jupyter/kernels/python3/kernel.json: the course kernel, with Keras set to
  the PyTorch backend and its config kept in the course folder (no ~/.keras, no
  missing-TensorFlow surprise; the TensorFlow section switches its own kernel);
- share/jupyter/lab/settings/overrides.json: double-clicking a chapter's .md
  opens it as a notebook (jupytext), not in the text editor;
- etc/jupyter/jupyter_server_config.d/course.json: the server listens on
  127.0.0.1 only and always asks for a token, however it is started.
"""
import json
import sys
from pathlib import Path

prefix = Path(sys.prefix)

overrides = {
    "@jupyterlab/docmanager-extension:plugin": {
        "defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
    },
    # Render every cell (no virtual scrolling): find-in-page and "Run All" then see
    # the whole chapter, which is small enough to render at once.
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    # Keep widget state in the saved notebook: reopened, each widget shows its last figure.
    "@jupyter-widgets/jupyterlab-manager:plugin": {"saveState": True},
    # Offline course: JupyterLab must not try to fetch news or check for updates.
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
# No token is set here: Jupyter then makes a random one at each start
# (`make lab` passes its own random token explicitly).
server = {"ServerApp": {"ip": "127.0.0.1", "allow_remote_access": False}}

ROOT = Path(__file__).resolve().parent.parent
from ipykernel.kernelspec import get_kernel_dict  # noqa: E402  (the default spec of this Python)

kernel = get_kernel_dict()
kernel["env"] = {"KERAS_BACKEND": "torch", "KERAS_HOME": str(ROOT / "build" / "keras")}

targets = {
    prefix / "share/jupyter/kernels/python3/kernel.json": kernel,
    prefix / "share/jupyter/lab/settings/overrides.json": overrides,
    prefix / "etc/jupyter/jupyter_server_config.d/course.json": server,
}
for path, content in targets.items():
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=2) + "\n")
    print(f"wrote {path}")
