"""Every run-dependent number in the prose comes out of the notebook's own run.

For each chapter and solution notebook, this takes the numbers written in its Markdown
cells that a run produces (decimals such as 0.981 or 1.87, and numbers with a unit of
measurement: 84 s, 42%, 348x) and fails unless the notebook itself shows that number:
in an output of its last run (``build/outputs/``, written by the test run of the
notebook), or in its own code (a setting or a bar that the code uses). A prose number
matches a shown one when they agree to the prose's own precision (0.98 matches 0.9813;
42% matches 0.4213). Numbers inserted with myst-nb's ``glue`` are not literal prose and
need nothing.

Not taken: numbers inside math, inline code, code blocks and links; section and exercise
numbers ("section 3.1", "exercise 2.3.4"); versions (2.13.0); plain integers with no unit
(dataset sizes, counts); and sentences that carry a citation ("Kaplan et al. 2020",
"(Rendle, 2020)", {cite}), whose numbers are the cited work's. The few remaining
exceptions are listed, each with its reason, in ``allowlist.txt`` beside this file.

Run after the notebooks have run (``make test`` does: the notebooks first, then this):
    pytest tests/prose                 # every notebook
    pytest tests/prose -k 04_small_gpt # one section
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ROOT / "build" / "outputs"
ALLOWLIST = Path(__file__).with_name("allowlist.txt")


def notebooks() -> list[Path]:
    found = []
    for folder in ("chapters", "solutions"):
        for path in sorted((ROOT / folder).rglob("*.md")):
            head = path.read_text(encoding="utf-8")[:2000]
            if head.startswith("---") and "kernelspec:" in head and "_build" not in path.parts:
                found.append(path)
    return found


# ---------------------------------------------------------------- reading the prose
_FENCE = re.compile(r"^(```+|~~~+|:::+)(.*)$")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][-−]?\d+)?"
_UNIT = r"\s?(?:%|×|x(?![\w])|s\b|ms\b|µs\b|us\b|min\b|dB\b)"
_TOKEN = re.compile(rf"(?<![\w.\-/])({_NUMBER})({_UNIT})?")
_REFERENCE_WORDS = re.compile(
    r"(?:section|sections|chapter|chapters|exercise|exercises|§|figure|table|step|steps|eq\.|equation|part)"
    r"\s*(?:[\d.]+\s*(?:,|and|or|to|–|-)\s*)*$", re.IGNORECASE)
_CITATION = re.compile(
    r"et al|\{cite|arXiv|\(\s*[A-Z][^()]*\b(?:19|20)\d\d[a-z]?\s*\)|[A-Z][A-Za-z-]+,? \(?(?:19|20)\d\d\b")


def _strip_markup(source: str) -> str:
    """Prose only: drop code blocks, math, inline code, links, HTML, directive options."""
    lines, fences = [], []  # open fences: (marker, is_code)
    for line in source.splitlines():
        m = _FENCE.match(line.strip())
        if m:
            marker, info = m.group(1), m.group(2).strip()
            if fences and not info and marker == fences[-1][0]:
                fences.pop()  # closes the innermost block
            else:  # ```{note} and :::{note} hold prose; ```python and a bare ``` hold code
                fences.append((marker, not info.startswith("{")))
            continue
        if any(is_code for _, is_code in fences) or re.match(r"^\s*:[\w-]+:", line):
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"\\\(.*?\\\)", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", " ", text)  # links and images, text included
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"^\s*#+\s*[\d.]*\s*", "", text, flags=re.M)  # heading numbers
    return text


def _sentences(text: str):
    return re.split(r"(?<=[.!?;:])\s+(?=[A-Z(*])|\n\s*\n|\n\s*[-*|]\s", text)


def _section_ids() -> set[str]:
    """'3.1' for chapters/03_algorithms/01_neural_networks.md, and so on (plus planned 6.6)."""
    ids = {"6.6"}
    for path in (ROOT / "chapters").glob("[0-9][0-9]_*/[0-9][0-9]_*.md"):
        ids.add(f"{int(path.parent.name[:2])}.{int(path.name[:2])}")
    return ids


SECTION_IDS = _section_ids()
_MEASURE_WORD = re.compile(r"\s*(?:nats|bits|dB|points|times|per|of|on|mm|cm|GB|MB|kB|seconds)\b")


def prose_numbers(source: str):
    """The run-dependent numbers of one Markdown cell: (token as written, value, decimals, unit)."""
    for sentence in _sentences(_strip_markup(source)):
        if _CITATION.search(sentence):
            continue
        for m in _TOKEN.finditer(sentence):
            number, unit = m.group(1), (m.group(2) or "").strip()
            before = sentence[:m.start()]
            after = sentence[m.end():m.end() + 2]
            if re.match(r"\.\d", after):  # a version or a section such as 2.13.0 or 2.3.4
                continue
            if _REFERENCE_WORDS.search(before[-40:]):
                continue
            if number in SECTION_IDS and not unit and not _MEASURE_WORD.match(sentence[m.end():]):
                continue  # "as in 4.1": a section, not a measurement
            is_decimal = "." in number or "e" in number.lower()
            if not is_decimal and not unit:
                continue
            if not is_decimal and unit and re.fullmatch(r"(?:19|20)\d\d", number):
                continue
            value = float(number.replace(",", "").replace("−", "-"))
            decimals = len(number.split(".")[1]) if "." in number and "e" not in number.lower() else None
            yield m.group(0).strip(), value, decimals, unit


# ------------------------------------------------------------- what the notebook shows
_SHOWN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.?\d+(?:[eE][-+−]?\d+)?")


def shown_numbers(text: str) -> list[float]:
    values = []
    for m in _SHOWN.finditer(text):
        try:
            values.append(abs(float(m.group(0).replace(",", "").replace("−", "-"))))
        except ValueError:
            pass
    return values


def matches(value: float, decimals: int | None, unit: str, shown: list[float]) -> bool:
    value = abs(value)
    candidates = [(value, decimals)]
    if unit == "%" and decimals is not None:
        candidates.append((value / 100, decimals + 2))  # 42% shown as 0.42
    for target, places in candidates:
        # scientific notation (1e-10): same order of magnitude and leading digit
        tol = abs(target) * 0.5 if places is None else 0.5 * 10 ** -places + 1e-12
        if any(abs(x - target) <= tol for x in shown):
            return True
    return False


def load_allowlist() -> set[tuple[str, str]]:
    entries = set()
    for line in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        assert len(parts) == 3 and parts[2], f"allowlist line needs 'path | number | reason': {line!r}"
        entries.add((parts[0], parts[1]))
    return entries


NOTEBOOKS = notebooks()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.relative_to(ROOT).as_posix() for p in NOTEBOOKS])
def test_prose_numbers_come_from_the_run(path: Path):
    rel = path.relative_to(ROOT).as_posix()
    nb = jupytext.read(path, fmt="md:myst")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    output_text = ""
    if code.strip():  # a page with no code (the table of contents) has no outputs to vouch
        record_path = OUTPUTS / (rel.replace("/", "__") + ".json")
        if not record_path.exists():
            pytest.fail(f"{rel} has no recorded outputs: run it first "
                        f"(pytest --nbval-lax {rel}, or make test)")
        record = json.loads(record_path.read_text())
        if record["source_sha256"] != hashlib.sha256(path.read_bytes()).hexdigest():
            pytest.fail(f"the recorded outputs of {rel} are from an older version of it: run it again")
        assert record["passed"], f"{rel} did not pass its own run; its outputs cannot vouch for the prose"
        output_text = record["text"]
    shown = shown_numbers(output_text + "\n" + code)
    allowed = load_allowlist()
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for token, value, decimals, unit in prose_numbers(cell.source):
            if (rel, token) in allowed:
                continue
            if not matches(value, decimals, unit, shown):
                line = next((ln for ln in cell.source.splitlines() if token.split()[0] in ln), "")
                missing.append(f"  cell {index}: {token!r} in: {line.strip()[:140]}")
    assert not missing, (
        f"{rel}: {len(missing)} number(s) in the prose appear nowhere in the notebook's own "
        "outputs or code (print them, glue them, or reword):\n" + "\n".join(missing))


def test_allowlist_is_short_and_current():
    entries = load_allowlist()
    assert len(entries) <= 40, f"{len(entries)} allowlisted numbers: the allowlist is for a few exceptions"
    for rel, token in entries:
        path = ROOT / rel
        assert path.exists(), f"allowlist names a missing notebook: {rel}"
        assert token in path.read_text(encoding="utf-8"), f"allowlist entry {token!r} no longer in {rel}"
