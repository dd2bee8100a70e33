"""The appendix pages C (glossary) and D (errata) are generated from the sections and match them.

- the committed pages are what ``tools/make_appendix.py`` writes now (no drift);
- every term a section marks, ``**English** (中文...)``, is in the glossary, with its Chinese
  and the section that introduces it, and no English term has two Chinese translations;
- the whitepaper's nine core keywords are in the glossary;
- every "Whitepaper correction" box of every section is in the errata, in course order;
- every link of the appendix pages points to a file that exists (and to a heading that
  exists, for a link to a heading).

The sections are read here independently of the script (through jupytext, Markdown cells
only), so a bug in the script's reading of the sections fails these tests too.
"""
from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
APPENDIX = CHAPTERS / "appendix"
PAGES = [APPENDIX / "index.md", APPENDIX / "tools.md", APPENDIX / "resources.md", APPENDIX / "glossary.md",
         APPENDIX / "errata.md", APPENDIX / "coverage.md"]
REGENERATE = ".venv/bin/python tools/make_appendix.py"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MARK = re.compile(r"\*\*([^*]+?)\*\*\s*[(（]([^()（）]*)[)）]")
# The whitepaper's 文章核心关键词, as it lists them.
CORE_KEYWORDS = ["AI大模型", "深度学习", "自然语言处理", "图像识别", "推荐系统", "算法原理",
                 "编程实现", "应用案例", "未来发展趋势"]


def load_script():
    spec = importlib.util.spec_from_file_location("make_appendix", ROOT / "tools" / "make_appendix.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def course_pages() -> list[str]:
    """The book's pages in course order, relative to chapters/, without the appendix."""
    toc = yaml.safe_load((CHAPTERS / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            docs.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc["parts"]:
        walk(part["chapters"])
    return [d for d in docs if not d.startswith("appendix/")]


def markdown_cells(doc: str) -> list[str]:
    path = CHAPTERS / f"{doc}.md"
    notebook = jupytext.read(path, fmt="md:myst")
    return [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]


def without_code_blocks(markdown: str) -> str:
    """A Markdown cell without its fenced code blocks (```python ...): prose and boxes stay."""
    out, code_fence, directives = [], None, []
    for line in markdown.split("\n"):
        m = re.match(r"^\s*(`{3,}|~{3,}|:{3,})\s*(\S*)", line)
        if code_fence:
            if m and line.strip() == code_fence:
                code_fence = None
            continue
        if m and m.group(2).startswith("{"):
            directives.append(m.group(1))  # a directive (an admonition): its text is prose
        elif m and not m.group(2) and directives and line.strip() == directives[-1]:
            directives.pop()
        elif m and m.group(1)[0] != ":":
            code_fence = m.group(1)
            continue
        out.append(line)
    return "\n".join(out)


def key(term: str) -> str:
    return re.sub(r"[\s\-‐‑–—$'’]", "", term).casefold()


def chinese_of(paren: str) -> str:
    """The Chinese term of a mark's parenthesis: its first part with Chinese characters."""
    head = re.split(r"[;；]", paren)[0]
    for part in re.split(r"[,，]", head):
        if CJK.search(part):
            return re.split(r"[:：]\s", part)[0].strip()
    return ""


def section_marks() -> list[tuple[str, str, str]]:
    """(page, term, Chinese) for every term mark, in course order."""
    found = []
    for doc in course_pages():
        for cell in markdown_cells(doc):
            for m in MARK.finditer(without_code_blocks(cell)):
                paren = " ".join(m.group(2).split())
                if CJK.search(paren):
                    found.append((doc, " ".join(m.group(1).split()), chinese_of(paren)))
    return found


def folded(marks) -> dict[str, list[tuple[str, str, str]]]:
    """Marks grouped by term, a plural with its singular when the singular is marked too."""
    keys = {key(term) for _, term, _ in marks}

    def singular(k):
        for ending in ("es", "s"):
            if k.endswith(ending) and k[:-len(ending)] in keys:
                return k[:-len(ending)]
        return k

    groups: dict[str, list] = {}
    for mark in marks:
        groups.setdefault(singular(key(mark[1])), []).append(mark)
    return groups


def table_rows(markdown: str) -> list[list[str]]:
    rows = []
    for line in markdown.split("\n"):
        if line.startswith("|") and not re.match(r"^\|[-|: ]+\|$", line):
            cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows.append(cells)
    return rows


def glossary_rows() -> dict[str, dict]:
    text = (APPENDIX / "glossary.md").read_text(encoding="utf-8")
    terms = text.split("## Terms from A to Z", 1)[1]
    rows = {}
    for cells in table_rows(terms):
        if cells[0] == "English":
            continue
        english, chinese, abbreviation, where = cells
        english = re.sub(r" \(\*[^*]*\*\)$", "", english)  # a synonym or remark, in italics
        first, _, also = where.partition("; also ")
        rows[key(english)] = {"english": english, "chinese": chinese, "first": first, "also": also}
    return rows


def link_target(link: str) -> str:
    """'[2.2 Calculus](../02_math/02_calculus.md)' -> '02_math/02_calculus'."""
    m = re.search(r"\]\(([^)]+)\)", link)
    path = (APPENDIX / m.group(1)).resolve().relative_to(CHAPTERS.resolve())
    return path.with_suffix("").as_posix()


# ------------------------------------------------------------------ tests
def test_committed_pages_are_what_the_script_generates():
    script = load_script()
    for path, text in script.render().items():
        rel = path.relative_to(ROOT)
        assert path.exists(), f"{rel} is missing: run {REGENERATE}"
        assert path.read_text(encoding="utf-8") == text, (
            f"{rel} is stale (the sections changed, or it was edited by hand): run {REGENERATE} "
            "and commit the result")
        assert text.startswith("<!-- Generated by tools/make_appendix.py") or (
            "<!-- versions: generated by tools/make_appendix.py" in text) or (
            "<!-- sections: generated by tools/make_appendix.py" in text), rel


def test_the_sections_mark_terms():
    marks = section_marks()
    assert len(marks) >= 300, f"only {len(marks)} term marks found: is the reading of the sections broken?"
    assert len(load_script().marks()) == len(marks), "the script and the test find different marks"


def test_every_marked_term_is_in_the_glossary_with_its_chinese_and_first_section():
    rows = glossary_rows()
    missing, wrong_chinese, wrong_first = [], [], []
    order = course_pages()
    for group_key, marks in folded(section_marks()).items():
        row = rows.get(group_key)
        if row is None:
            missing.extend(f"{term} ({doc})" for doc, term, _ in marks)
            continue
        for doc, term, chinese in marks:
            if row["chinese"] != chinese:
                wrong_chinese.append(f"{term} ({doc}): {chinese} in the section, {row['chinese']} in the glossary")
        first = min((doc for doc, _, _ in marks), key=order.index)
        if link_target(row["first"]) != first:
            wrong_first.append(f"{row['english']}: introduced in {first}, the glossary says {row['first']}")
        cited = {link_target(row["first"])} | {link_target(link) for link in re.findall(r"\[[^\]]*\]\([^)]+\)", row["also"])}
        uncited = {doc for doc, _, _ in marks} - cited
        assert not uncited, f"{row['english']}: marked in {sorted(uncited)}, not listed in the glossary"
    assert not missing, f"marked terms missing from the glossary (run {REGENERATE}): {missing}"
    assert not wrong_chinese, f"run {REGENERATE}: {wrong_chinese}"
    assert not wrong_first, wrong_first
    assert len(rows) == len(folded(section_marks())), "the glossary lists terms no section marks"


def test_no_english_term_has_two_chinese_translations():
    clashes = {}
    for group_key, marks in folded(section_marks()).items():
        translations = {chinese for _, _, chinese in marks}
        if len(translations) > 1:
            clashes[marks[0][1]] = sorted(f"{chinese} ({doc})" for doc, _, chinese in marks)
    assert not clashes, ("one English term, two Chinese translations; choose the standard one and "
                         f"make the sections agree: {clashes}")


def test_the_whitepapers_core_keywords_are_in_the_glossary():
    text = (APPENDIX / "glossary.md").read_text(encoding="utf-8")
    section = text.split("## The whitepaper's core keywords", 1)[1].split("\n## ", 1)[0]
    rows = [cells for cells in table_rows(section) if cells[0] != "核心关键词"]
    assert [cells[0] for cells in rows] == CORE_KEYWORDS
    for chinese, english, where in rows:
        assert re.search(r"[A-Za-z]", english), f"{chinese} has no English"
        assert re.search(r"\]\([^)]+\.md\)", where), f"{chinese}: no section covers it"


def section_boxes() -> list[tuple[str, str]]:
    """(page, text) of every whitepaper-correction box, in course order."""
    found = []
    for doc in course_pages():
        for cell in markdown_cells(doc):
            lines = cell.split("\n")
            for i, line in enumerate(lines):
                m = re.match(r"^(`{3,}|:{3,})\{admonition\}\s+Whitepaper correction\s*$", line)
                if not m:
                    continue
                body = []
                for following in lines[i + 1:]:
                    if following.strip() == m.group(1):
                        break
                    if not (not body and re.match(r"^\s*:[\w-]+:", following)):
                        body.append(following)
                found.append((doc, "\n".join(body)))
    return found


def comparable(text: str) -> str:
    """Whitespace collapsed, link targets dropped (the errata page rewrites them)."""
    return " ".join(re.sub(r"\]\([^)]*\)", "]", text).split())


def test_every_whitepaper_correction_box_is_in_the_errata_in_course_order():
    boxes = section_boxes()
    assert len(boxes) >= 20, f"only {len(boxes)} boxes found: is the reading of the sections broken?"
    errata = (APPENDIX / "errata.md").read_text(encoding="utf-8")
    entries = re.split(r"^### D\.\d+ ", errata, flags=re.M)[1:]
    assert len(entries) == len(boxes), (
        f"{len(boxes)} boxes in the sections, {len(entries)} entries in the errata: run {REGENERATE}")
    for n, ((doc, body), entry) in enumerate(zip(boxes, entries), 1):
        quoted = "\n".join(re.sub(r"^> ?", "", line) for line in entry.split("\n") if line.startswith(">"))
        assert comparable(body) in comparable(quoted), (
            f"D.{n}: the box of {doc} is not (or not in this place) in the errata: run {REGENERATE}")
        section = re.search(r"\*\*Section:\*\* (\[[^\]]*\]\([^)]+\))", entry)
        assert section and link_target(section.group(1)) == doc, f"D.{n} does not link to {doc}"


def test_every_correction_box_is_named_and_the_errata_link_to_the_box_itself():
    """A box's ``:name:`` gives it an id in the built page; its errata entry links there, so a
    reader lands on the box, beside the code that shows the correction (not only on its heading)."""
    unnamed, unlinked = [], []
    errata = (APPENDIX / "errata.md").read_text(encoding="utf-8")
    for doc in course_pages():
        for cell in markdown_cells(doc):
            for m in re.finditer(r"^(`{3,}|:{3,})\{admonition\}\s+Whitepaper correction\s*\n((?:\s*:[\w-]+:.*\n)*)",
                                 cell, re.M):
                name = re.search(r":name:\s*(\S+)", m.group(2))
                if not name:
                    unnamed.append(doc)
                elif f'{Path(doc).name}.html#{name.group(1)}"' not in errata:
                    unlinked.append(f"{doc}#{name.group(1)}")
    assert not unnamed, (f"correction boxes without a :name: in {sorted(set(unnamed))}: run "
                         ".venv/bin/python tools/make_appendix.py --name-boxes")
    assert not unlinked, f"the errata do not link to the boxes {unlinked}: run {REGENERATE}"


def heading_ids(doc: str) -> set[str]:
    """The ids docutils gives the headings of a page (as Sphinx builds it), and the ids of its
    directives that carry a ``:name:`` option (the errata link to the correction boxes)."""
    from docutils import nodes

    ids = set()
    for cell in markdown_cells(doc):
        for m in re.finditer(r"^:name:\s*(\S+)\s*$", cell, re.M):
            ids.add(nodes.make_id(m.group(1)))
        for m in re.finditer(r"^#{1,6}\s+(.+?)\s*$", without_code_blocks(cell), re.M):
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1))
            text = re.sub(r"[`$]|\*\*", "", text)
            ids.add(nodes.make_id(nodes.fully_normalize_name(text)))
    return ids


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_of_the_appendix_resolves(page):
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'href="([^"]+)"', text)
    assert targets, f"{page.name} has no links"
    toc = set(course_pages()) | {f"appendix/{p.stem}" for p in PAGES}
    broken = []
    for target in targets:
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):
            continue  # an external address (appendix B links courses and books on the web)
        path, _, anchor = target.partition("#")
        source = (page.parent / path).resolve()
        if source.suffix == ".html":  # a link to a heading in the built book: its source page
            source = source.with_suffix(".md")
        if not source.exists():
            broken.append(f"{target}: no file {source}")
            continue
        if source.suffix == ".md":
            doc = Path(os.path.relpath(source, CHAPTERS.resolve())).with_suffix("").as_posix()
            if doc not in toc:
                broken.append(f"{target}: {doc} is not a page of the book (_toc.yml)")
            elif anchor and anchor not in heading_ids(doc):
                broken.append(f"{target}: no heading or named box with the id {anchor!r} in {doc}")
    assert not broken, f"{page.name}: broken links {broken}"


def test_the_appendix_pages_are_plain_markdown_pages_in_the_book():
    for page in PAGES:
        head = page.read_text(encoding="utf-8")[:2000]
        assert "kernelspec:" not in head and "```{code-cell}" not in page.read_text(encoding="utf-8"), (
            f"{page.name} must be a plain Markdown page, not a notebook")
    toc = yaml.safe_load((CHAPTERS / "_toc.yml").read_text(encoding="utf-8"))
    last = toc["parts"][-1]
    assert last["caption"] == "Appendix"
    assert last["chapters"][0]["file"] == "appendix/index"
    assert [s["file"] for s in last["chapters"][0]["sections"]] == [
        "appendix/tools", "appendix/resources", "appendix/glossary", "appendix/errata", "appendix/coverage"]


# ------------------------------------------------------------------ appendix A: pinned versions
def test_the_versions_table_lists_every_pin_of_the_requirements():
    text = (APPENDIX / "tools.md").read_text(encoding="utf-8")
    table = dict((r[0].strip("`"), r[1]) for r in table_rows(text.split("<!-- versions")[1])
                 if r[0].startswith("`"))
    pins = {}
    for name in ("requirements.txt", "requirements-nodeps.txt"):
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            spec = line.split("#")[0].split(";")[0].strip()
            if spec:
                package, version = spec.split("==")
                pins[package] = version
    assert pins and table == pins, (f"appendix A's versions differ from the requirements: "
                                    f"{set(table.items()) ^ set(pins.items())}; run {REGENERATE}")


# ------------------------------------------------------------------ appendix B: one bibliography
# "Vaswani et al., 2017", "Koren and Volinsky (2008)", "(Lin 2004)"; read here independently of
# the script, from the Markdown cells of every section.
CITE = re.compile(r"(?<![\w.])([A-Z][\w'\-]+)(?: (?:and|&) [A-Z][\w'\-]+| et al\.)?,? \(?((?:1[89]|20)\d\d)[a-z]?\b")
NOT_NAMES = {"January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December", "In", "Since", "By", "From", "Until", "Before",
             "After", "Around", "Of", "To", "The", "And", "Table", "Figure", "Its", "Our", "This",
             "That", "Their", "On"}


def bib_entries() -> dict[str, tuple[int, str]]:
    from pybtex.database import parse_file

    data = parse_file(str(APPENDIX / "references.bib"), bib_format="bibtex")
    out = {}
    for key, entry in data.entries.items():
        assert entry.persons.get("author"), f"references.bib: {key} has no author"
        assert entry.fields.get("title") and entry.fields.get("year"), f"references.bib: {key} needs a title and a year"
        people = " ".join(str(p) for p in entry.persons["author"])
        out[key] = (int(entry.fields["year"]), people + " " + " ".join(map(str, entry.fields.values())))
    return out


def test_every_citation_in_the_sections_is_in_the_bibliography():
    bib = bib_entries()
    assert len(bib) >= 90
    missing, seen = [], 0
    for doc in course_pages():
        for cell in markdown_cells(doc):
            prose = " ".join(without_code_blocks(cell).split())
            for m in CITE.finditer(prose):
                name, year = m.group(1), int(m.group(2))
                if name in NOT_NAMES:
                    continue
                seen += 1
                word = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)")
                if not any(word.search(text) and (y == year or str(year) in text) for y, text in bib.values()):
                    missing.append(f"{doc}: {m.group(0)!r}")
    assert seen >= 100, f"only {seen} citations found: is the pattern still reading the sections?"
    assert not missing, ("cited in a section but not in chapters/appendix/references.bib "
                         f"(add an entry, with an `aka` field for a name such as 'Chinchilla'): {missing}")


def test_the_citation_check_catches_a_missing_reference():
    script = load_script()
    page = script.read_pages()[1]
    fake = script.Page(page.doc, page.path, page.title, page.number, "",
                       "As Nobodyknows et al. (2031) and Vaswani et al. (2017) showed.")
    assert [c.text for c in script.unresolved([fake])] == ["Nobodyknows et al. (2031"]


def test_the_book_renders_the_bibliography_with_sphinxcontrib_bibtex():
    config = yaml.safe_load((CHAPTERS / "_config.yml").read_text(encoding="utf-8"))
    assert config["bibtex_bibfiles"] == ["appendix/references.bib"]
    assert "```{bibliography}\n:all:\n```" in (APPENDIX / "resources.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------ chapter landing pages
def test_every_chapter_opens_with_a_landing_page_listing_its_sections_and_run_times():
    toc = yaml.safe_load((CHAPTERS / "_toc.yml").read_text(encoding="utf-8"))
    times = __import__("json").loads((CHAPTERS / "run_times.json").read_text(encoding="utf-8"))
    assert times["measured"] and len(times["seconds"]) >= 50
    chapters = [c for part in toc["parts"] for c in part["chapters"]
                if not c["file"].startswith(("appendix/", "classroom/"))]
    assert len(chapters) >= 7
    for chapter in chapters:
        landing = chapter["file"]
        assert landing.endswith("/index"), f"{landing}: a chapter opens with its landing page NN_topic/index.md"
        text = (CHAPTERS / f"{landing}.md").read_text(encoding="utf-8")
        assert re.match(r"^# \d+ \S", text), f"{landing}: title '# N Chapter name'"
        assert "**Whitepaper:**" in text and "**Prerequisites:**" in text, landing
        listed = re.findall(r"^\| \[[^\]]+\]\(([^)]+)\.md\)", text, re.M)
        folder = landing.rsplit("/", 1)[0]
        assert [f"{folder}/{name}" for name in listed] == [s["file"] for s in chapter["sections"]], landing
        for name in listed:
            doc = f"chapters/{folder}/{name}.md"
            if doc in times["seconds"]:
                assert f"{times['seconds'][doc]:.0f} s" in text, (landing, doc)
