"""JupyterLab in a real browser, as a learner uses it (make lab-check).

Starts JupyterLab from the course's environment on 127.0.0.1 with a token, as
`make lab` does: on the learner's workspace (tools/workspace.py copies the course into
my_work/, here inside a scratch copy of the course, so saving never touches the
repository). Opens the pattern chapter by its .md path, and checks that it opens as a
notebook (not in the text editor), that Run All Cells finishes without an error output,
that moving a slider redraws the figure, and that after saving, the outputs are kept in
my_work/outputs/ and are back when the notebook is reopened, while the course's own
chapter is untouched.
"""
import difflib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import ROOT, SCREENSHOTS

CHAPTER = "chapters/02_math/01_linear_algebra.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "chapters", root / "chapters")
    shutil.copy(ROOT / "jupytext.toml", root / "jupytext.toml")
    subprocess.run([sys.executable, str(ROOT / "tools" / "workspace.py"), "sync", "--root", str(root)],
                   check=True, capture_output=True)
    return root


@pytest.fixture(scope="module")
def lab_root(course_copy):
    """The folder JupyterLab serves: the learner's workspace, as with `make lab`."""
    return course_copy / "my_work"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, lab_root):
    token, port = secrets.token_hex(16), free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path_factory.mktemp("runtime")))
    env.pop("MPLBACKEND", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={lab_root}", "--LabApp.news_url=None"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path_factory.mktemp("log") / "lab.log", "w+")
    proc = subprocess.Popen(cmd, cwd=lab_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        log.seek(0)
        pytest.fail("JupyterLab did not start:\n" + log.read()[-3000:])
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


def test_server_requires_the_token(lab):
    base, _ = lab
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{base}/api/contents", timeout=5)
    assert err.value.code == 403


def test_chapter_opens_as_notebook_runs_slider_redraws_outputs_persist(browser, lab, lab_root, course_copy):
    base, token = lab
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.goto(f"{base}/lab/tree/{CHAPTER}?token={token}", wait_until="domcontentloaded")
    # Opened by double-click semantics (the default viewer): a notebook panel, no text editor.
    notebook = tab.locator(".jp-NotebookPanel:visible")
    notebook.wait_for(timeout=60_000)
    assert tab.locator(".jp-FileEditor:visible").count() == 0, "the .md opened in the text editor"
    # All of the chapter's code cells are there (the .md was parsed into a full notebook),
    # and the kernel has started.
    tab.wait_for_function("() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                          ".jp-CodeCell').length > 20", timeout=60_000)
    tab.get_by_text("Python 3 (ipykernel) | Idle").first.wait_for(timeout=90_000)

    def run_all():
        tab.get_by_role("menuitem", name="Run", exact=True).click()
        tab.get_by_role("menuitem", name="Run All Cells", exact=True).click()

    first_prompt = ("() => /\\[(\\d+|\\*)\\]/.test(document.querySelector("
                    "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt').textContent)")
    run_all()
    try:  # a click that lands while the kernel connection is still settling can be lost
        tab.wait_for_function(first_prompt, timeout=20_000)
    except Exception:
        run_all()
    # Done when every code cell shows an execution count (no "[*]" or "[ ]" left).
    try:
        tab.wait_for_function(
            """() => {
              const prompts = [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
              return prompts.length > 20 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""",
            timeout=180_000,
        )
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / "lab_after_run_all.png"))
    errors = notebook.locator("[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, errors.first.inner_text()[:2000]

    # The first interactive figure: a slider and the image it draws.
    widget = notebook.locator(".widget-vbox").first
    widget.scroll_into_view_if_needed()
    image = widget.locator("img").first
    image.wait_for(timeout=30_000)
    before = image.get_attribute("src")
    handle = widget.locator(".noUi-handle").first
    box = handle.bounding_box()
    tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.mouse.down()
    tab.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
    tab.mouse.up()  # continuous_update=False: the figure is redrawn on release
    # The Output widget re-renders: query its image afresh until the picture differs.
    tab.wait_for_function(
        """(before) => {
          const img = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .widget-vbox img');
          return img && img.getAttribute('src') !== before;
        }""", arg=before, timeout=30_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    widget.screenshot(path=str(SCREENSHOTS / "lab_widget_after_slider.png"))

    # Save: jupytext writes the outputs to my_work/outputs/ (the .md keeps no outputs).
    notebook.locator(".jp-Cell").first.click()
    tab.keyboard.press("Control+s")
    paired = lab_root / "outputs" / CHAPTER.replace(".md", ".ipynb")
    saved = None
    for _ in range(60):  # wait until the file is there and completely written
        try:
            saved = json.loads(paired.read_text())
            break
        except (OSError, json.JSONDecodeError):
            tab.wait_for_timeout(500)
    assert saved is not None, f"saving did not write {paired}"
    assert any("image/png" in out.get("data", {}) for cell in saved["cells"] for out in cell.get("outputs", []))
    # Saving without edits leaves the learner's copy as it was (no outputs, no rewritten
    # header), and the course's own chapter is never written.
    saved_md, original_md = (lab_root / CHAPTER).read_text(), (ROOT / CHAPTER).read_text()
    assert saved_md == original_md, "".join(difflib.unified_diff(
        original_md.splitlines(True), saved_md.splitlines(True), "original", "saved"))[:3000]
    assert (course_copy / CHAPTER).read_text() == original_md

    # Reopen: the outputs are there before anything is run again.
    tab.reload(wait_until="domcontentloaded")
    reopened = tab.locator(".jp-NotebookPanel:visible")
    reopened.wait_for(timeout=60_000)
    # Plain figures come back from the .ipynb; each widget from its saved state.
    tab.wait_for_function(
        "() => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img')"
        ".length >= 8", timeout=60_000)
    tab.screenshot(path=str(SCREENSHOTS / "lab_reopened.png"))
    context.close()
