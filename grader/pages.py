"""The course's HTML pages: the feedback page's exporter (maths rendered to MathML when the
page is written, MathJax served locally as an enhancement, the learner's markdown cleaned
with nh3) and where their templates and MathJax lie.

Kept apart from :mod:`grader.nbgrader_setup` so that :mod:`grader.autograde` can render
feedback without importing nbgrader's set-up (which imports the grading pipeline back).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def local_mathjax() -> Path:
    """``MathJax.js`` (2.7, Apache-2.0) of the ``jupyter-server-mathjax`` package, which every
    Jupyter server of the course serves at ``{base_url}static/jupyter_server_mathjax/``."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static" / "MathJax.js"


def feedback_exporter():
    """The exporter of the course's feedback pages (template ``course_feedback``): nbconvert's
    lab page, sanitized, no script from a CDN. The markdown's maths is MathML in the page
    itself (:func:`tex_to_mathml`): browsers render it natively, so the page shows its maths
    opened from disk on any machine, offline. MathJax typesets it more finely where it can
    be loaded: from the Jupyter server showing the page, else from this installation."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="course_feedback", sanitize_html=True,
                        extra_template_basedirs=[str(TEMPLATES)],
                        mathjax_url=local_mathjax().as_uri(),
                        filters={"clean_html": clean_rendered_html,
                                 "markdown2html": markdown_with_mathml()})


def tex_to_mathml(tex: str, display: bool) -> str | None:
    """``tex`` as a MathML ``<math>`` element (``latex2mathml``, MIT), its TeX kept as the
    ``application/x-tex`` annotation; ``None`` where latex2mathml cannot convert it (the TeX
    is then left for MathJax)."""
    from latex2mathml.converter import convert

    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # an unsupported environment, unbalanced braces
        return None
    found = re.fullmatch(r"(<math\b[^>]*>)(.*)(</math>)", mathml, flags=re.S)
    if not found or re.search(r">\\[A-Za-z]", mathml):  # a command it kept as text
        return None
    start, inner, end = found.groups()
    return (f"{start}<semantics><mrow>{inner}</mrow><annotation encoding=\"application/x-tex\">"
            f"{html.escape(tex, quote=False)}</annotation></semantics>{end}")


@lru_cache(maxsize=1)
def markdown_with_mathml():
    """nbconvert's ``markdown2html`` filter (mistune, the cell's attachments) with the maths
    rendered by :func:`tex_to_mathml` instead of left as TeX for a script."""
    from jinja2 import pass_context
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    # The feedback page's markdown was cleaned as HTML first (grader.autograde's
    # sanitize_notebook: ``a < b`` is ``a &lt; b`` there): the maths is TeX again before it
    # is converted, or escaped once for MathJax.
    class MathMLRenderer(IPythonRenderer):
        def block_math(self, body: str) -> str:
            body = html.unescape(body)
            return tex_to_mathml(body, display=True) or super().block_math(body)

        def inline_math(self, body: str) -> str:
            body = html.unescape(body)
            return tex_to_mathml(body, display=False) or super().inline_math(body)

        def latex_environment(self, name: str, body: str) -> str:
            name, body = html.unescape(name), html.unescape(body)
            return (tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)
                    or super().latex_environment(name, body))

    @pass_context
    def markdown2html(context, source: str) -> str:
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = MathMLRenderer(escape=False, attachments=cell.get("attachments", {}),
                                  path=path)
        return MarkdownWithMath(renderer=renderer).render(source)

    return markdown2html


#: MathML Core's presentation elements and attributes (what latex2mathml writes), kept by
#: :func:`clean_rendered_html`: no ``href``, no ``style``, no scripting.
MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
    "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
    "mstyle", "mpadded", "mphantom", "menclose", "mtable", "mtr", "mtd", "merror",
    "mmultiscripts", "mprescripts", "none"}
MATHML_ATTRIBUTES = {
    "display", "xmlns", "encoding", "mathvariant", "mathcolor", "mathbackground", "mathsize",
    "stretchy", "fence", "form", "largeop", "movablelimits", "separator", "lspace", "rspace",
    "minsize", "maxsize", "symmetric", "accent", "accentunder", "linethickness",
    "displaystyle", "scriptlevel", "width", "height", "depth", "voffset", "notation",
    "columnalign", "columnlines", "columnspacing", "rowalign", "rowlines", "rowspacing",
    "columnspan", "rowspan"}


def clean_rendered_html(element) -> str:
    """nbconvert's ``clean_html`` with ``nh3``'s allowlist and MathML's presentation
    elements: nbconvert's own (bleach's short list) escaped every paragraph and heading of a
    learner's markdown into visible ``<p>`` tags. Scripts, event handlers and
    ``javascript:`` links are removed all the same."""
    import nh3

    def no_data_links(tag: str, attribute: str, value: str) -> str | None:
        # data: URLs only as the source of an image (a kept raster attachment)
        if value.strip().lower().startswith("data:") and (tag, attribute) != ("img", "src"):
            return None
        return value

    text = element.decode() if isinstance(element, bytes) else str(element)
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    attributes.update({tag: attributes.get(tag, set()) | MATHML_ATTRIBUTES
                       for tag in MATHML_TAGS})
    return nh3.clean(text, tags=set(nh3.ALLOWED_TAGS) | MATHML_TAGS,
                     attributes={**attributes, "*": {"class", "id"}},
                     url_schemes={"http", "https", "mailto", "data"},
                     attribute_filter=no_data_links)
