"""One reveal.js deck per section, built from the section's own notebook: `make slides`.

The rule that picks the slides (the chapters carry no slide tags, so the slides are
derived from their structure and cannot drift from the text):

- a title slide: the section's ``#`` title and its first paragraph (the motivation);
- one slide per ``##`` heading, in order: the heading, the first block of prose under
  it (a paragraph or a list, with its math; a paragraph that ends in ":" brings the
  display equation that follows it), and the first figure that the code of that
  part drew (a PNG output); where the part drew no figure, the first short text output;
- the ``## Exercises`` slide lists the exercises by their bold lead-in ("Exercise 2.1.1
  (warm-up)") and first sentence.

Outputs come from the tests' cache (build/jupyter_cache, filled by `make test`): a
deck uses them only when the cache holds a run of exactly this source (jupyter-cache
matches the code cells), so a figure can never come from an older version of the
text. Without such a run the deck is built without outputs and its title slide says so.

reveal.js (npm package, pinned in package.json) and MathJax (node_modules/mathjax/es5)
are copied next to the decks into build/slides/assets/, and figures are embedded in
the HTML: the folder works from a USB stick, with no network and no server.

    python tools/slides.py                      # every section -> build/slides/
    python tools/slides.py chapters/02_math/01_linear_algebra.md --out /tmp/decks
"""
from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
CACHE_DIR = ROOT / "build" / "jupyter_cache"
OUT_DIR = ROOT / "build" / "slides"
NODE = ROOT / "node_modules"
REVEAL_FILES = ("dist/reveal.js", "dist/reveal.css", "dist/theme/white.css", "LICENSE")
MAX_TEXT_LINES = 14


def is_notebook(path: Path) -> bool:
    """A chapter .md whose header declares a kernel (a notebook, not a plain page)."""
    head = path.read_text(encoding="utf-8")[:2000]
    return path.suffix == ".md" and head.startswith("---") and "kernelspec:" in head


def section_notebooks(root: Path = CHAPTERS) -> list[Path]:
    return sorted(p for p in root.glob("[0-9][0-9]_*/*.md") if is_notebook(p))


@dataclass
class Slide:
    title: str
    prose_html: str = ""
    figure: str | None = None  # base64 PNG
    text_output: str | None = None
    kind: str = "part"  # "title" | "part"
    note: str = ""


@dataclass
class Deck:
    source: Path
    title: str
    slides: list[Slide] = field(default_factory=list)
    outputs_from: str | None = None  # when the cached run was made; None: no outputs

    @property
    def math_count(self) -> int:
        return sum(s.prose_html.count('class="math') for s in self.slides)

    @property
    def figure_count(self) -> int:
        return sum(1 for s in self.slides if s.figure)


# --- Markdown -> HTML ----------------------------------------------------------------

def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark").use(dollarmath_plugin, double_inline=True)
    esc = html.escape

    def inline(self, tokens, idx, options, env):
        return f'<span class="math">\\({esc(tokens[idx].content)}\\)</span>'

    def block(self, tokens, idx, options, env):
        return f'<div class="math">\\[{esc(tokens[idx].content)}\\]</div>\n'

    md.add_render_rule("math_inline", inline)
    md.add_render_rule("math_inline_double", block)
    md.add_render_rule("math_block", block)
    md.add_render_rule("math_block_label", block)
    return md


_MD = None
_ROLE = re.compile(r"\{[a-z:]+\}`([^`<]*?)(?:\s*<[^`]*>)?`")  # {cite}`x`, {doc}`t <p>` -> text


def _clean_myst(text: str) -> str:
    return _ROLE.sub(lambda m: m.group(1), text)


def _blocks(markdown: str):
    """Top-level blocks of a Markdown cell: (kind, token slice) in order."""
    global _MD
    _MD = _MD or _markdown()
    tokens = _MD.parse(_clean_myst(markdown))
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.nesting == 1:  # an opening token: find its closing partner at level 0
            depth, j = 0, i
            while j < len(tokens):
                depth += tokens[j].nesting
                if depth == 0:
                    break
                j += 1
            yield tok.type, tokens[i:j + 1]
            i = j + 1
        else:
            yield tok.type, tokens[i:i + 1]
            i += 1


def _render(tokens) -> str:
    return _MD.renderer.render(tokens, _MD.options, {})


def _first_prose(cells_md: list[str]) -> str:
    """The first paragraph or list of a part (headings, code and directives skipped)."""
    found = ""
    for text in cells_md:
        for kind, toks in _blocks(text):
            if found:  # a paragraph that ends in ":" keeps the display equation it announces
                return found + (_render(toks) if kind.startswith("math_block") else "")
            if kind in ("paragraph_open", "bullet_list_open", "ordered_list_open"):
                found = _render(toks)
                if not found.rstrip().endswith(":</p>"):
                    return found
    return found


def _exercise_list(cells_md: list[str]) -> str:
    items = []
    for text in cells_md:
        for kind, toks in _blocks(text):
            if kind != "paragraph_open":
                continue
            raw = toks[1].content if len(toks) > 1 else ""
            if not raw.startswith("**Exercise"):
                continue
            first = re.split(r"(?<=[.?!])\s", raw.split("**", 2)[-1].strip(), maxsplit=1)[0]
            lead = raw.split("**")[1]
            items.append(f"<li><strong>{html.escape(lead)}</strong> "
                         f"{_render(_MD.parse(first))[3:-5]}</li>")
    return "<ul>" + "\n".join(items) + "</ul>" if items else ""


# --- Outputs -------------------------------------------------------------------------

def cached_run(nb):
    """The executed notebook in the tests' cache for exactly this source, or None."""
    if not (CACHE_DIR / "global.db").exists():
        return None, None
    from jupyter_cache import get_cache

    cache = get_cache(str(CACHE_DIR))
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        return None, None
    return cache.get_cache_bundle(record.pk).nb, record.created


def _first_figure(code_cells) -> tuple[str | None, str | None]:
    text = None
    for cell in code_cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                return data["image/png"].replace("\n", ""), None
            if text is None:
                raw = out.get("text") if out.get("output_type") == "stream" else data.get("text/plain")
                if raw and out.get("name") != "stderr":
                    raw = "".join(raw) if isinstance(raw, list) else raw
                    lines = raw.rstrip("\n").splitlines()
                    if lines and "CheckResult(" not in raw:
                        text = "\n".join(lines[:MAX_TEXT_LINES]) + ("\n…" if len(lines) > MAX_TEXT_LINES else "")
    return None, text


# --- Planning a deck -----------------------------------------------------------------

def plan_deck(path: Path, use_cache: bool = True) -> Deck:
    import jupytext

    nb = jupytext.read(path, fmt="md:myst")
    executed, when = cached_run(nb) if use_cache else (None, None)
    cells = nb.cells
    if executed is not None:  # the cache keeps the code cells only: give ours their outputs
        ran = [c for c in executed.cells if c.cell_type == "code"]
        mine = [c for c in cells if c.cell_type == "code"]
        if len(ran) == len(mine):
            for c, r in zip(mine, ran):
                c.outputs = r.get("outputs", [])
        else:
            executed, when = None, None

    parts: list[tuple[str, list]] = [("", [])]  # (## heading, cells) ; the first is the intro
    title = path.stem
    for cell in cells:
        if cell.cell_type == "markdown":
            src = cell.source
            chunks = re.split(r"(?m)^(?=#{1,2} )", src)
            for chunk in chunks:
                m = re.match(r"(#{1,2}) (.*)", chunk)
                if m and len(m.group(1)) == 1 and not parts[0][1] and title == path.stem:
                    title = m.group(2).strip()
                    chunk = chunk[m.end():]
                elif m and len(m.group(1)) == 2:
                    parts.append((m.group(2).strip(), []))
                    chunk = chunk[m.end():]
                if chunk.strip():
                    parts[-1][1].append(("md", chunk))
        elif cell.cell_type == "code":
            parts[-1][1].append(("code", cell))

    deck = Deck(source=path, title=title, outputs_from=str(when)[:16] if when else None)
    for heading, content in parts:
        md = [c for k, c in content if k == "md"]
        code = [c for k, c in content if k == "code"]
        if not heading:
            slide = Slide(title=title, prose_html=_first_prose(md), kind="title")
            slide.note = (f"Figures and outputs from the tests' run of {deck.outputs_from} (build/jupyter_cache)."
                          if executed is not None else
                          "Built without outputs: the tests' cache holds no run of this version of the "
                          "section (run `make test`, then `make slides`).")
            deck.slides.append(slide)
            continue
        if heading.lower().startswith("exercises"):
            prose = _exercise_list(md) or _first_prose(md)
            deck.slides.append(Slide(title=heading, prose_html=prose))
            continue
        figure, text = _first_figure(code) if executed is not None else (None, None)
        deck.slides.append(Slide(title=heading, prose_html=_first_prose(md), figure=figure,
                                 text_output=None if figure else text))
    return deck


# --- Writing -------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<meta name="slides-count" content="{count}">
<meta name="slides-figures" content="{figures}">
<meta name="slides-math" content="{math}">
<link rel="stylesheet" href="{assets}/reveal/dist/reveal.css">
<link rel="stylesheet" href="{assets}/reveal/dist/theme/white.css">
<style>
.reveal {{ font-size: 28px; }}
.reveal h1 {{ font-size: 1.7em; }} .reveal h2 {{ font-size: 1.25em; }}
.reveal section p, .reveal section li {{ text-align: left; line-height: 1.3; }}
.reveal section.part {{ text-align: left; }}
.reveal .cols {{ display: flex; gap: 1.2em; align-items: flex-start; }}
.reveal .cols > div {{ flex: 1 1 0; min-width: 0; }}
.reveal img.figure {{ max-height: 470px; max-width: 100%; margin: 0; }}
.reveal pre.output {{ font-size: 0.6em; box-shadow: none; width: 100%; }}
.reveal .note {{ font-size: 0.55em; color: #666; }}
.reveal .source {{ font-size: 0.5em; color: #666; }}
</style>
</head>
<body>
<div class="reveal"><div class="slides">
{slides}
</div></div>
<script src="{assets}/reveal/dist/reveal.js"></script>
<script>
window.MathJax = {{
  tex: {{ inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']] }},
  svg: {{ fontCache: 'global' }},
  options: {{ enableMenu: false }},
  startup: {{ typeset: true }}
}};
Reveal.initialize({{ hash: true, controls: true, progress: true, slideNumber: 'c/t', center: false,
                    width: 1280, height: 720, margin: 0.04 }});
</script>
<script src="{assets}/mathjax/tex-svg.js" async></script>
</body>
</html>
"""


def _slide_html(s: Slide, deck: Deck) -> str:
    if s.kind == "title":
        rel = deck.source.relative_to(ROOT).as_posix() if deck.source.is_relative_to(ROOT) else deck.source.name
        return (f'<section class="title">\n<h1>{html.escape(s.title)}</h1>\n{s.prose_html}\n'
                f'<p class="source">From <code>{html.escape(rel)}</code></p>\n'
                f'<p class="note">{html.escape(s.note)}</p>\n</section>')
    body = s.prose_html
    if s.figure:
        body = (f'<div class="cols"><div>{body}</div>'
                f'<div><img class="figure" alt="first figure of this part" '
                f'src="data:image/png;base64,{s.figure}"></div></div>')
    elif s.text_output:
        body += f'\n<pre class="output"><code>{html.escape(s.text_output)}</code></pre>'
    return f'<section class="part">\n<h2>{html.escape(s.title)}</h2>\n{body}\n</section>'


def write_deck(deck: Deck, out: Path, assets: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(PAGE.format(
        title=html.escape(deck.title), count=len(deck.slides), figures=deck.figure_count,
        math=deck.math_count, assets=assets,
        slides="\n".join(_slide_html(s, deck) for s in deck.slides)), encoding="utf-8")
    return out


def copy_assets(out_dir: Path) -> None:
    """reveal.js and MathJax from node_modules into out_dir/assets (skipped when current)."""
    reveal, mathjax = NODE / "reveal.js", NODE / "mathjax" / "es5"
    missing = [p for p in (reveal / "dist" / "reveal.js", mathjax / "tex-svg.js") if not p.exists()]
    if missing:
        raise SystemExit(f"slides: {missing[0]} is missing: run `make setup` (npm ci installs reveal.js "
                         "and MathJax from package-lock.json)")
    dest = out_dir / "assets"
    for rel in REVEAL_FILES:
        target = dest / "reveal" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(reveal / rel, target)
    version = json.loads((NODE / "mathjax" / "package.json").read_text())["version"]
    stamp = dest / "mathjax" / ".version"
    if not (stamp.exists() and stamp.read_text() == version):
        shutil.rmtree(dest / "mathjax", ignore_errors=True)
        shutil.copytree(mathjax, dest / "mathjax")
        stamp.write_text(version)


def deck_path(source: Path, out_dir: Path) -> Path:
    return out_dir / source.parent.name / (source.stem + ".html")


def build(sources: list[Path], out_dir: Path = OUT_DIR, use_cache: bool = True) -> list[tuple[Deck, Path]]:
    copy_assets(out_dir)
    built = []
    for src in sources:
        deck = plan_deck(src, use_cache=use_cache)
        built.append((deck, write_deck(deck, deck_path(src, out_dir), "../assets")))
    rows = "\n".join(
        f'<li><a href="{p.relative_to(out_dir).as_posix()}">{html.escape(d.title)}</a> '
        f'({len(d.slides)} slides{"" if d.outputs_from else ", without outputs"})</li>' for d, p in built)
    (out_dir / "index.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slides</title></head>'
        f"<body><h1>Slides, one deck per section</h1><ul>\n{rows}\n</ul>"
        f"<p>Open a deck, then use the arrow keys; F for full screen, Esc for an overview.</p>"
        f"</body></html>\n", encoding="utf-8")
    return built


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sections", nargs="*", type=Path, help="section .md files (default: every section)")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    args = ap.parse_args(argv)
    sources = [p.resolve() for p in args.sections] or section_notebooks()
    bad = [p for p in sources if not p.exists() or not is_notebook(p)]
    if bad:
        print(f"slides: not a section notebook (a chapters/ .md with a kernelspec header): {bad[0]}",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    built = build(sources, args.out)
    seconds = time.perf_counter() - t0
    without = [d.source.relative_to(ROOT).as_posix() if d.source.is_relative_to(ROOT) else str(d.source)
               for d, _ in built if not d.outputs_from]
    n = sum(len(d.slides) for d, _ in built)
    print(f"slides: {len(built)} decks, {n} slides, {sum(d.figure_count for d, _ in built)} figures "
          f"in {seconds:.1f} s -> {args.out}/index.html")
    if without:
        print(f"slides: {len(without)} deck(s) built without outputs (no cached run of this source; "
              f"run `make test` first): " + ", ".join(without))
    return 0


if __name__ == "__main__":
    sys.exit(main())
