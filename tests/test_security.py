"""Security basics that a course handing files to learners must keep."""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("utils", "chapters", "solutions", "tools") for p in (ROOT / d).rglob("*")
           if p.suffix in (".py", ".md") and ".ipynb_checkpoints" not in p.parts]


def lines_matching(pattern: str):
    rx = re.compile(pattern)
    for path in SOURCES:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                yield f"{path.relative_to(ROOT)}:{number}: {line.strip()}"


def test_sources_were_found():
    assert len(SOURCES) > 20


def test_no_unsafe_deserialisation():
    # torch.load must say weights_only=True; pickle/joblib loads run arbitrary code.
    torch_loads = [l for l in lines_matching(r"torch\.load\(") if "weights_only=True" not in l]
    pickles = list(lines_matching(r"\b(pickle|joblib|dill)\.loads?\("))
    assert torch_loads == [] and pickles == [], torch_loads + pickles


def test_no_eval_of_text():
    # Widgets parse numbers with float(); nothing evaluates typed text.
    hits = [l for l in lines_matching(r"(?<![.\w])(eval|exec)\(") if "never eval" not in l]
    assert hits == [], hits


def test_jupyter_listens_on_localhost_with_a_token():
    makefile = (ROOT / "Makefile").read_text()
    assert "--ServerApp.ip=127.0.0.1" in makefile and "--IdentityProvider.token=" in makefile
    config = Path(sys.prefix) / "etc/jupyter/jupyter_server_config.d/course.json"
    assert json.loads(config.read_text())["ServerApp"]["ip"] == "127.0.0.1"
    assert "token" not in config.read_text()  # never an empty (disabled) token
