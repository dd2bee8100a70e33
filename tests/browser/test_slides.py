"""Open every slide deck offline in headless Chromium and step through it.

The decks are built afresh by tools/slides.py into a temporary folder (from the
chapters and the tests' cache, as `make slides` does) and opened from file:// URLs,
with no server, as a teacher opens them from a USB stick. For each deck: the number
of slides reveal.js shows equals the number the rule gives (a title slide plus one per
`##` heading, counted here from the source independently of the builder), every slide
can be reached with "next", every figure loads, every formula was typeset by the local
MathJax (no raw TeX left on a slide), no console error, and no request leaves the
machine (anything but file: and data: URLs is aborted and fails the test).

Run with `make slides` first for the decks themselves; this test needs only the
chapters, node_modules (reveal.js, MathJax) and, for figures, `make test`'s cache.
"""
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("slides", ROOT / "tools" / "slides.py")
slides = importlib.util.module_from_spec(spec)
sys.modules.setdefault("slides", slides)  # dataclasses look their module up there
spec.loader.exec_module(slides)

SOURCES = slides.section_notebooks()
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\frac|\\mathbf")


def count_h2(source: Path) -> int:
    """`##` headings outside code: the slides the rule promises, besides the title."""
    text = source.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^(`{3,}|~{3,}).*?^\1\s*$", "", text)  # code cells and directives
    return len(re.findall(r"(?m)^## \S", text))


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    built = slides.build(SOURCES, out)
    return {d.source: (d, p) for d, p in built}


def test_every_section_has_a_deck(decks):
    assert len(SOURCES) >= 20, SOURCES
    assert set(decks) == set(SOURCES)
    assert sum(1 for d, _ in decks.values() if d.outputs_from) >= len(SOURCES) // 2, \
        "most decks were built without outputs: run `make test` first (it fills build/jupyter_cache)"


@pytest.mark.parametrize("source", SOURCES, ids=[s.relative_to(ROOT).as_posix() for s in SOURCES])
def test_deck_offline(browser, decks, source):
    deck, path = decks[source]
    expected = 1 + count_h2(source)
    assert len(deck.slides) == expected, f"{source.name}: planned {len(deck.slides)} slides, rule gives {expected}"

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    errors, outside = [], []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            return route.continue_()
        outside.append(url)
        return route.abort()

    tab.route("**/*", guard)
    tab.goto(path.as_uri(), wait_until="load")
    tab.wait_for_function("() => window.Reveal && Reveal.isReady()")
    tab.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise"
                          " && MathJax.startup.promise.then(() => true)")

    total = tab.evaluate("() => Reveal.getTotalSlides()")
    assert total == expected, f"{source.name}: reveal.js shows {total} slides, the rule gives {expected}"
    for i in range(1, total):  # step through with "next", as the presenter's arrow key does
        tab.evaluate("() => Reveal.next()")
        assert tab.evaluate("() => Reveal.getIndices().h") == i
    assert tab.evaluate("() => Reveal.isLastSlide()")

    images = tab.evaluate("""() => [...document.querySelectorAll('.slides img')]
        .map(i => ({ok: i.complete && i.naturalWidth > 0, alt: i.alt}))""")
    assert len(images) == deck.figure_count
    assert all(i["ok"] for i in images), f"{source.name}: figures that did not load"

    typeset = tab.evaluate("() => document.querySelectorAll('.slides span.math mjx-container, "
                           ".slides div.math mjx-container').length")
    assert typeset == deck.math_count, f"{source.name}: {typeset} of {deck.math_count} formulas typeset"
    merror = tab.evaluate("() => document.querySelectorAll('.slides [data-mjx-error], .slides merror').length")
    assert merror == 0, f"{source.name}: MathJax reported {merror} TeX error(s)"
    text = tab.evaluate("""() => { const c = document.querySelector('.slides').cloneNode(true);
        c.querySelectorAll('pre, code, mjx-container').forEach(e => e.remove()); return c.innerText; }""")
    assert not RAW_TEX.findall(text), f"{source.name}: raw TeX on a slide: {set(RAW_TEX.findall(text))}"

    assert outside == [], f"{source.name}: requests that left the machine: {outside}"
    assert errors == [], f"{source.name}: console errors {errors}"
    context.close()
