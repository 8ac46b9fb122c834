"""The formgrader's and the feedback pages' maths work offline (issue 20, item 5): no page
loads a script from a CDN; MathJax comes from ``jupyter-server-mathjax`` (a course
requirement). HTML checks here (part of ``make test``); that the maths really renders, with
the network cut off, is ``tests/test_browser.py::test_maths_renders_offline`` (``make
test-browser``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import nbformat
import pytest

from grader.config import REPO_ROOT

CDN_HOSTS = ("cdnjs", "jsdelivr", "unpkg", "googleapis", "cloudflare", "mathjax.org")
MATHS = r"Softmax: $\sigma(z)_i = e^{z_i} / \sum_j e^{z_j}$"


class Assets(HTMLParser):
    """Every URL a page loads: script src, link href, img src, iframe src."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href") if tag in ("script", "link", "img", "iframe") else ():
            if attrs.get(name) and not (tag == "link" and attrs.get("rel") not in
                                         ("stylesheet", "preload", "modulepreload", None)):
                self.urls.append(attrs[name])


def loaded_urls(page: str) -> list[str]:
    parser = Assets()
    parser.feed(page)
    return parser.urls


def assert_no_cdn(page: str) -> None:
    remote = [url for url in loaded_urls(page) if urlparse(url).scheme in ("http", "https")
              or url.startswith("//")]
    assert not remote, f"the page loads from the network: {remote}"
    for host in CDN_HOSTS:  # also in inline scripts (document.write, import)
        scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.S)
        assert not any(host in script for script in scripts), f"{host} in an inline script"


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(MATHS),
                                         nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def test_mathjax_is_installed_with_its_licence():
    from grader.nbgrader_setup import local_mathjax

    mathjax = local_mathjax()
    assert mathjax.is_file() and mathjax.stat().st_size > 10_000
    assert (mathjax.parent / "config" / "TeX-AMS-MML_HTMLorMML-full.js").is_file()
    assert "Apache License" in (mathjax.parent / "LICENSE").read_text()
    assert "jupyter-server-mathjax==" in (REPO_ROOT / "requirements.txt").read_text()


def test_feedback_page_loads_mathjax_locally_and_nothing_from_a_cdn():
    from grader.autograde import GRADING_METADATA_KEY, feedback_html
    from grader.nbgrader_setup import local_mathjax

    nb = _notebook()
    nb.metadata[GRADING_METADATA_KEY] = {"score": 1, "max_score": 2, "exercises": []}
    page = feedback_html(nb)
    assert_no_cdn(page)
    assert "data-feedback='1'" in page and "Score: 1 / 2" in page
    # Served by a Jupyter server: its /static/jupyter_server_mathjax/; from disk: this install.
    assert "/static/jupyter_server_mathjax/MathJax.js" in page
    fallback = re.search(r'"(file://[^"]+MathJax\.js)"', page)
    assert fallback, "no local fallback for a page opened from disk"
    assert Path(url2pathname(urlparse(fallback.group(1)).path)) == local_mathjax()
    assert "require.min.js" not in page and "mermaid" not in page.lower().split("</style>")[-1]


class Maths(HTMLParser):
    """The page's ``<math>`` elements as (tag, text) events, outside any ``<script>``."""

    def __init__(self):
        super().__init__()
        self.depth, self.in_script, self.maths = 0, False, []

    def handle_starttag(self, tag, attrs):
        self.in_script |= tag == "script"
        if tag == "math" and not self.in_script:
            self.depth += 1
            self.maths.append({"display": dict(attrs).get("display"), "tags": [], "text": "",
                               "tex": ""})
        elif self.depth:
            self.maths[-1]["tags"].append(tag)
            self.annotation = tag == "annotation"

    def handle_endtag(self, tag):
        self.in_script &= tag != "script"
        self.depth -= tag == "math" and self.depth > 0
        if tag == "annotation":
            self.annotation = False

    def handle_data(self, data):
        if self.depth:
            self.maths[-1]["tex" if getattr(self, "annotation", False) else "text"] += data


def test_feedback_page_shows_its_maths_without_any_script():
    """Opened from disk on another machine (no MathJax where the instructor's page points,
    offline), the feedback page's maths is still maths: MathML written into the page, which
    browsers render natively; the TeX stays as its annotation (and for MathJax, where it
    loads). A command latex2mathml does not know is left as TeX for MathJax."""
    from grader.autograde import GRADING_METADATA_KEY, feedback_html

    nb = _notebook()
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(
        "$$\\frac{\\partial L}{\\partial x_i} = p_i - y_i$$ and $a < b$, $\\notacommand{x}$"))
    nb.metadata[GRADING_METADATA_KEY] = {"score": 1, "max_score": 2, "exercises": []}
    page = feedback_html(nb)
    parser = Maths()
    parser.feed(page)
    maths = parser.maths
    assert [m["display"] for m in maths] == ["inline", "block", "inline"], maths
    softmax, gradient, less = maths
    assert softmax["tex"] == MATHS.split("$")[1]
    assert "σ" in softmax["text"] and "∑" in softmax["text"]
    assert {"msub", "msup", "mi", "mo"} <= set(softmax["tags"])
    assert "mfrac" in gradient["tags"] and "∂" in gradient["text"]
    assert less["text"] == "a<b" and less["tex"] == "a < b"  # escaped once, not twice
    # Everything a reader needs is in the page itself: no script from elsewhere draws it.
    for math in maths:
        assert "$" not in math["text"] and "\\" not in math["text"], math
    assert "$\\notacommand{x}$" in page  # not faked as MathML: left for MathJax
    assert_no_cdn(page)


def test_formgrade_page_loads_mathjax_from_the_server():
    from nbgrader.server_extensions.formgrader.formgrader import FormgradeExtension

    from grader.nbgrader_setup import formgrade_exporter, route_formgrader_mathjax

    resources = {"base_url": "/user/ta", "assignment_id": "week01-numpy",
                 "notebook_id": "numerics", "submission_id": "1", "index": 0, "total": 1,
                 "student": "ada", "last_name": "L", "first_name": "Ada",
                 "notebook_path": "work/submitted/ada/week01-numpy/numerics.ipynb"}
    page, _ = formgrade_exporter().from_notebook_node(_notebook(), resources=resources)
    assert_no_cdn(page)
    urls = loaded_urls(page)
    assert ("/user/ta/static/jupyter_server_mathjax/MathJax.js?config="
            "TeX-AMS-MML_HTMLorMML-full,Safe") in urls
    assert "/user/ta/formgrader/static/js/formgrade.js" in urls  # still nbgrader's page
    assert 'id="notebook"' in page and "Submission 1 / 1" in page

    route_formgrader_mathjax()  # what the course's nbgrader_config.py does, idempotent
    route_formgrader_mathjax()
    assert getattr(FormgradeExtension.init_tornado_settings, "course_mathjax", False)


@pytest.mark.parametrize("template", ["course_feedback", "course_formgrade"])
def test_templates_ship_with_the_package(template):
    """``pip install`` (not only ``-e``) carries the templates."""
    import tomllib

    from grader.nbgrader_setup import TEMPLATES

    assert (TEMPLATES / template / "index.html.j2").is_file()
    assert (TEMPLATES / template / "conf.json").is_file()
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = data["tool"]["setuptools"]["package-data"]["grader"]
    assert any(Path(f"templates/{template}/index.html.j2").match(p) for p in patterns)
