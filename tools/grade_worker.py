"""The untrusted side of `make grade`: runs inside the sandbox that tools/grade.py sets up.

Never run by hand. Two commands, each in its own sandboxed process with a fresh
scratch folder (a pristine copy of utils/, nothing else of the course):

- ``run``: execute one learner notebook in a fresh Jupyter kernel (nbclient) with a
  per-cell time limit, then save the learner's answers (the objects passed to
  ``check("id", answer)``, found by reading the notebook's own check calls) with
  cloudpickle to answers.pkl, and the executed notebook to executed.ipynb.
- ``check``: in a fresh interpreter, import the course's checkers (pristine: this
  process has run no learner code yet), fingerprint them, then load each answer and
  run its checker through ``utils.checks.evaluate``; after every exercise the
  fingerprints are compared again, and a checker, a comparison function or the verdict
  machinery that changed while the learner's code ran voids that exercise ("tampered").
  Each result line carries a nonce that the parent sent on stdin.
"""
from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

def capture_cell(pairs: list[tuple[str, str]]) -> str:
    """A last cell that saves the answers: the learner's own check() arguments, as code."""
    lines = ["import cloudpickle as __grader_cp", "__grader_out = {}"]
    for ex_id, expr in pairs:
        lines += [
            "try:",
            f"    __grader_value = ({expr})",
            "except Exception as __grader_err:",
            f"    __grader_out[{ex_id!r}] = ('missing', f'{{type(__grader_err).__name__}}: {{__grader_err}}')",
            "else:",
            "    try:",
            f"        __grader_out[{ex_id!r}] = ('ok', __grader_cp.dumps(__grader_value))",
            "    except Exception as __grader_err:",
            f"        __grader_out[{ex_id!r}] = ('unsaveable', f'{{type(__grader_err).__name__}}: {{__grader_err}}')",
        ]
    lines += ["with open('answers.pkl', 'wb') as __grader_f:", "    __grader_f.write(__grader_cp.dumps(__grader_out))"]
    return "\n".join(lines) + "\n"


def check_calls(source: str) -> list[tuple[str, str]]:
    """The ("2.1.1", "rotation_matrix") pairs of the check(...) calls in a code cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    calls = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "check"
                and len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            calls.append((node.args[0].value, ast.unparse(node.args[1])))
    return calls


def run(notebook: str, cell_timeout: int) -> int:
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    pairs = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            pairs += [p for p in check_calls(cell.source) if p[0] not in dict(pairs)]
    nb.cells.append(nbformat.v4.new_code_cell(capture_cell(pairs), metadata={"grader": True}))
    # ipc sockets in the scratch folder: the kernel needs no network interface at all
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path("kernel-ipc").resolve()))
    client = NotebookClient(nb, km=km, timeout=cell_timeout, allow_errors=True,
                            resources={"metadata": {"path": "."}}, record_timing=False)
    status = {"error": None}
    try:
        client.execute()
    except Exception as err:  # a dead kernel (memory limit), a cell over the time limit
        status["error"] = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
    nb.cells = [c for c in nb.cells if not c.metadata.get("grader")]
    nbformat.write(nb, "executed.ipynb")
    Path("run.json").write_text(json.dumps({"pairs": pairs, **status}))
    return 0


def fingerprint(modules) -> dict:
    """What the verdict depends on: every function of the checker modules, and numpy/torch's comparisons."""
    import numpy as np

    prints = {}
    for mod in modules:
        for name, obj in list(vars(mod).items()):
            code = getattr(obj, "__code__", None)
            prints[f"{mod.__name__}.{name}"] = (id(obj), hash(code.co_code) if code else None,
                                                 id(getattr(obj, "__globals__", None)))
    for name in ("allclose", "isclose", "array_equal", "all", "any", "abs", "asarray", "max", "linalg"):
        prints[f"numpy.{name}"] = id(getattr(np, name))
    for name in ("assert_allclose", "assert_array_equal"):
        prints[f"numpy.testing.{name}"] = id(getattr(np.testing, name))
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        for name in ("allclose", "isclose", "equal", "testing"):
            prints[f"torch.{name}"] = id(getattr(torch, name, None))
    import builtins
    for name in ("isinstance", "abs", "max", "min", "len", "float", "print", "callable", "type", "__import__"):
        prints[f"builtins.{name}"] = id(getattr(builtins, name))
    return prints


def check(spec_path: str) -> int:
    nonce = sys.stdin.readline().strip()
    sys.stdin.close()
    import cloudpickle

    import utils.checks as checks
    modules = [m for n, m in sorted(sys.modules.items()) if n == "utils.checks" or n.startswith("utils.checks.")]
    exercises = dict(checks.EXERCISES)
    evaluate, CheckResult = checks.evaluate, checks.CheckResult
    write = sys.__stdout__.write
    pristine = fingerprint(modules)

    def emit(record):
        write(f"{nonce} {json.dumps(record)}\n")
        sys.__stdout__.flush()

    emit({"ready": len(exercises)})  # the checkers imported: from here on, only learner code can fail

    tampered_by = None
    for item in json.loads(Path(spec_path).read_text()):
        try:
            answers = cloudpickle.loads(Path(item["answers"]).read_bytes())
        except Exception as err:
            emit({"key": item["key"], "error": f"answers could not be loaded: {type(err).__name__}: {err}"})
            continue
        for ex_id in item["ids"]:
            rec = {"key": item["key"], "id": ex_id}
            entry = answers.get(ex_id) if isinstance(answers, dict) else None
            if entry is None:
                rec.update(status="not attempted", message="no check(...) call for this exercise in the "
                           "notebook (the exercise cell was deleted?)")
            elif entry[0] != "ok":
                rec.update(status="not attempted" if entry[0] == "missing" else "failed",
                           message=f"the answer could not be read after the notebook ran: {entry[1]}")
            else:
                try:
                    answer = cloudpickle.loads(entry[1])
                    result = evaluate(ex_id, answer)
                    assert isinstance(result, CheckResult)
                    rec.update(status=result.status, message=result.message, title=result.title)
                except BaseException as err:  # noqa: BLE001 - anything the learner's object does
                    rec.update(status="failed", message=f"loading or checking the answer raised "
                               f"{type(err).__name__}: {err}")
            now = fingerprint(modules)
            changed = sorted(k for k in pristine if now.get(k) != pristine[k])
            if tampered_by:
                rec.update(status="tampered", message=f"not checked: the answer to {tampered_by} had already "
                           "changed the checkers in this process")
            elif changed or checks.EXERCISES != exercises or checks.evaluate is not evaluate:
                tampered_by = ex_id
                rec.update(status="tampered", message="the checker or the functions it compares with were "
                           "changed while this answer ran: " + ", ".join(changed[:6] or ["EXERCISES/evaluate"]))
            emit(rec)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], int(sys.argv[3])))
    if sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    sys.exit(f"grade_worker: unknown command {sys.argv[1:]}")
