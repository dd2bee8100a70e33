"""Sphinx extension for the course's book: nothing on a page may need the network.

It also adds the course's stylesheet (tools/book_static/course.css: a wider text
column, code that wraps instead of running off the page).

Jupyter Book 1 always loads sphinx-thebe, which puts a script pointing at a CDN
(and, in this version, declares its config twice, a console error) on every page.
The course has no live-code buttons, so the thebe scripts are dropped from each page.
"""


def _is_thebe(js) -> bool:
    filename = getattr(js, "filename", None) or str(js)
    body = (getattr(js, "attributes", None) or {}).get("body", "")
    return "thebe" in str(filename) or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"] = [js for js in context["script_files"] if not _is_thebe(js)]


def _add_course_css(app):
    from pathlib import Path

    app.config.html_static_path.append(str(Path(__file__).resolve().parent / "book_static"))
    app.add_css_file("course.css")


def setup(app):
    app.connect("builder-inited", _add_course_css)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
