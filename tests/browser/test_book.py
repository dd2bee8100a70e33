"""Open every page of the built book in headless Chromium and check what a reader sees.

Fails on: a missing image, a broken internal link (page or #anchor), unrendered
math (literal \\( or $$ in the text), a console error, or any request that leaves
127.0.0.1 (the book must work offline: MathJax and scripts are served locally); on
warning text in a cell's output (findfont, UserWarning, ...) or a stray
``CheckResult(...)`` repr under an exercise; on a code block that runs off the right
edge of the page at a 1280 px window; and on a figure shown so small that its text
would be under 7 px (estimated from the course style's 10.5 pt at 100 dpi).
"""
import re
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from .conftest import ROOT, SCREENSHOTS, serve_directory

HTML = ROOT / "build" / "book" / "_build" / "html"
PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if "_static" not in p.parts and "_sources" not in p.parts) if HTML.exists() else []
CONTENT_PAGES = [p for p in PAGES if p not in ("genindex.html", "search.html")]
OUTPUT_NOISE = re.compile(r"findfont|\w*Warning:|CheckResult\(|Traceback \(most recent call last\)")
STYLE_TEXT_PX = 10.5 * 100 / 72  # the course style's font at its display resolution
MIN_TEXT_PX = 7.0
MATH_LEFTOVERS = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac|\\mathbf")

# Text of the article without code (code may legitimately contain $$ or \( ).
ARTICLE_TEXT_JS = """() => {
  const main = document.querySelector('article') || document.body;
  const copy = main.cloneNode(true);
  copy.querySelectorAll('pre, code, script, style, mjx-container, .MathJax').forEach(e => e.remove());
  return copy.innerText;
}"""


def test_book_was_built():
    assert HTML.exists(), "build the book first: make book"
    assert "index.html" in PAGES and len(CONTENT_PAGES) >= 2, PAGES


@pytest.fixture(scope="module")
def site():
    with serve_directory(HTML) as base:
        yield base


@pytest.mark.parametrize("page", CONTENT_PAGES + ["search.html", "genindex.html"])
def test_page_renders_offline(browser, site, page):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    console_errors, outside_requests = [], []
    tab.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: console_errors.append(str(e)))

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", None):
            outside_requests.append(route.request.url)
            return route.abort()
        return route.continue_()

    tab.route("**/*", guard)
    tab.goto(f"{site}/{page}", wait_until="load")
    # MathJax typesets asynchronously: wait until it has finished.
    tab.wait_for_function("() => !window.MathJax || !window.MathJax.startup || "
                          "window.MathJax.startup.promise.then(() => true)")
    tab.wait_for_timeout(300)

    broken_images = tab.evaluate("""() => [...document.images]
        .filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'))""")
    assert broken_images == [], f"{page}: images that did not load: {broken_images}"

    text = tab.evaluate(ARTICLE_TEXT_JS)
    leftovers = sorted(set(MATH_LEFTOVERS.findall(text)))
    assert not leftovers, f"{page}: unrendered math {leftovers}"

    # Every internal link points to a page (and an anchor) that exists.
    hrefs = tab.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    for href in hrefs:
        url, fragment = urldefrag(href)
        parsed = urlparse(url)
        if parsed.hostname != "127.0.0.1":
            continue
        target = HTML / parsed.path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        assert target.exists(), f"{page}: broken link {href}"
        if fragment and target.suffix == ".html":
            html = target.read_text(encoding="utf-8")
            assert f'id="{fragment}"' in html, f"{page}: link to missing anchor {href}"

    if page.startswith("02_math/01_linear_algebra"):
        assert tab.locator("mjx-container").count() > 20, "MathJax did not typeset the formulas"
        assert tab.locator("article img").count() >= 8, "the section's figures are missing"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SCREENSHOTS / "book_linear_algebra.png"), full_page=False)
    if page == "search.html":
        tab.goto(f"{site}/search.html?q=eigenvector", wait_until="load")
        tab.wait_for_selector("#search-results li", timeout=10_000)
        assert tab.locator("#search-results li").count() >= 1, "search finds nothing for 'eigenvector'"

    outputs = tab.evaluate("() => [...document.querySelectorAll('.cell_output')].map(e => e.innerText)")
    noisy = [m.group(0) for text in outputs for m in OUTPUT_NOISE.finditer(text)]
    assert not noisy, f"{page}: warnings or stray reprs in cell outputs: {sorted(set(noisy))}"

    overflowing = tab.evaluate("""() => [...document.querySelectorAll('article pre')]
        .filter(p => p.scrollWidth > p.clientWidth + 2).map(p => p.innerText.slice(0, 60))""")
    assert overflowing == [], f"{page}: {len(overflowing)} code block(s) run off the page: {overflowing[:3]}"

    scales = tab.evaluate("""() => [...document.querySelectorAll('.cell_output img')]
        .filter(i => i.naturalWidth > 0).map(i => [i.getAttribute('alt') || i.src.slice(-30),
                                                   i.getBoundingClientRect().width / i.naturalWidth])""")
    tiny = [(alt, round(scale * STYLE_TEXT_PX, 1)) for alt, scale in scales if scale * STYLE_TEXT_PX < MIN_TEXT_PX]
    assert not tiny, f"{page}: figures whose text would show under {MIN_TEXT_PX} px: {tiny}"

    assert outside_requests == [], f"{page}: requests left the machine: {outside_requests}"
    assert console_errors == [], f"{page}: console errors: {console_errors}"
    context.close()
