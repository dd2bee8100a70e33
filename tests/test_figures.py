"""figures/ holds only figures that tools/make_figures.py makes, and they are current.

The course map is drawn from the sections themselves (their titles, and the links under
**Prerequisites.**), so a new section or a changed prerequisite makes the committed figure
stale and this test fails until `make figures` is run.
"""
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script():
    spec = importlib.util.spec_from_file_location("make_figures", ROOT / "tools" / "make_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_figures_are_what_make_figures_draws():
    rendered = load_script().render()
    for path, data in rendered.items():
        rel = path.relative_to(ROOT)
        assert path.exists(), f"{rel} is missing: run make figures"
        assert path.read_bytes() == data, f"{rel} is stale (the sections changed): run make figures and commit"
    made = {p.name for p in rendered}
    orphans = sorted(p.name for p in (ROOT / "figures").iterdir() if p.name not in made)
    assert not orphans, f"figures/ holds files no code in the repo makes: {orphans}"


def test_the_figures_do_not_depend_on_the_callers_matplotlib_style():
    import matplotlib.pyplot as plt

    script = load_script()
    plain = script.render()
    with plt.rc_context({"savefig.bbox": "tight", "font.size": 14, "figure.dpi": 50}):
        assert script.render() == plain


def test_the_course_map_shows_every_numbered_section_and_its_prerequisites():
    script = load_script()
    sections = script.sections()
    docs = {s["doc"] for s in sections}
    assert len(sections) >= 26 and "02_math/01_linear_algebra" in docs
    svg = (ROOT / "figures" / "course_map.svg").read_text(encoding="utf-8")
    for s in sections:
        assert f"{s['chapter']}.{s['section']}" in svg, s["doc"]
    edges = [(n, s["doc"]) for s in sections for n in s["needs"]]
    assert ("02_math/01_linear_algebra", "02_math/02_calculus") in edges  # 2.2 lists 2.1
    assert all(n in docs for n, _ in edges), [n for n, _ in edges if n not in docs]


def test_every_figure_the_readme_and_start_page_embed_exists():
    for page in (ROOT / "README.md", ROOT / "chapters" / "index.md"):
        text = page.read_text(encoding="utf-8")
        images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
        assert any("course_map.svg" in i for i in images), f"{page.name} should show the course map"
        if page.name == "README.md":
            assert any("learning_path.svg" in i for i in images), "the README should show the learning path"
        for image in images:
            assert (page.parent / image).resolve().exists(), f"{page.name}: {image} does not exist"


def test_the_learning_path_steps_forward_and_skips_implied_steps():
    script = load_script()
    chapters = script.chapters_of(script.sections())
    assert [c["chapter"] for c in chapters] == list(range(1, len(chapters) + 1))
    for c in chapters:
        assert all(n < c["chapter"] for n in c["needs"]), c  # the path only points forward
        assert c["sections"] >= 1 and c["exercises"] >= c["sections"], c
    svg = (ROOT / "figures" / "learning_path.svg").read_text(encoding="utf-8")
    for c in chapters:
        assert f"{c['sections']} sections" in svg
    needs = {c["chapter"]: c["needs"] for c in chapters}
    assert 2 in needs[3] and 3 in needs[4], needs  # algorithms build on the math, frameworks on both
