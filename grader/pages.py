"""The course's HTML pages: the feedback page's exporter (MathJax served locally, the
learner's markdown cleaned with nh3) and where their templates and MathJax lie.

Kept apart from :mod:`grader.nbgrader_setup` so that :mod:`grader.autograde` can render
feedback without importing nbgrader's set-up (which imports the grading pipeline back).
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def local_mathjax() -> Path:
    """``MathJax.js`` (2.7, Apache-2.0) of the ``jupyter-server-mathjax`` package, which every
    Jupyter server of the course serves at ``{base_url}static/jupyter_server_mathjax/``."""
    import jupyter_server_mathjax

    return Path(jupyter_server_mathjax.__file__).resolve().parent / "static" / "MathJax.js"


def feedback_exporter():
    """The exporter of the course's feedback pages (template ``course_feedback``): nbconvert's
    lab page, sanitized, MathJax from the Jupyter server showing it (else from this
    installation, opened from disk), no script from a CDN."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="course_feedback", sanitize_html=True,
                        extra_template_basedirs=[str(TEMPLATES)],
                        mathjax_url=local_mathjax().as_uri(),
                        filters={"clean_html": clean_rendered_html})


def clean_rendered_html(element) -> str:
    """nbconvert's ``clean_html`` with ``nh3``'s allowlist: nbconvert's own (bleach's short
    list) escaped every paragraph and heading of a learner's markdown into visible ``<p>``
    tags. Scripts, event handlers and ``javascript:`` links are removed all the same."""
    import nh3

    def no_data_links(tag: str, attribute: str, value: str) -> str | None:
        # data: URLs only as the source of an image (a kept raster attachment)
        if value.strip().lower().startswith("data:") and (tag, attribute) != ("img", "src"):
            return None
        return value

    text = element.decode() if isinstance(element, bytes) else str(element)
    attributes = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
    return nh3.clean(text, attributes={**attributes, "*": {"class", "id"}},
                     url_schemes={"http", "https", "mailto", "data"},
                     attribute_filter=no_data_links)
