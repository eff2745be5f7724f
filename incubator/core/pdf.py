"""``render_pdf(template, **context) -> bytes`` through WeasyPrint (DESIGN: PDFs).

Templates extend ``pdf/_base.html`` (A4, Noto CJK fonts, page numbers, signature block) and get
plain values. The URL fetcher serves only the app's own ``static/`` files: a template (or a
value a user typed into it) that points at ``http://…``, ``file:///etc/passwd`` or anything else
gets nothing. Fonts come from fontconfig (Debian ``fonts-noto-cjk``), never from the network.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.text import ffi as _weasy_ffi
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join


class PdfStackBroken(RuntimeError):
    pass


def check_pdf_stack() -> None:
    """Fail loudly when WeasyPrint would silently be ~50× slower (STACK.md)."""
    if getattr(_weasy_ffi, "harfbuzz_subset", None) is None:
        raise PdfStackBroken(
            "WeasyPrint cannot find libharfbuzz-subset (Debian package libharfbuzz-subset0): "
            "Chinese PDFs would fall back to a pure-Python font subsetter and take ~50× longer. "
            "Install it with `apt-get install libharfbuzz-subset0`."
        )


check_pdf_stack()

# Documents are rendered as if served from this origin; only its /static/ paths resolve.
PDF_ORIGIN = "https://pdf.incubator.invalid"
PDF_BASE_URL = PDF_ORIGIN + "/"


class StaticOnlyFetcher(URLFetcher):
    """Serves ``{PDF_ORIGIN}{static_url_path}/…`` from the static folder (and ``data:`` URIs)."""

    def __init__(self, static_folder: str, static_url_path: str) -> None:
        super().__init__(allowed_protocols={"https", "data"}, allow_redirects=False, timeout=1)
        self.static_folder = static_folder
        self.static_prefix = static_url_path.rstrip("/") + "/"

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)  # inline bytes, nothing is fetched
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != PDF_ORIGIN or not parts.path.startswith(self.static_prefix):
            raise ValueError(f"PDF templates may only use the platform's static files, not {url!r}")
        relative = unquote(parts.path[len(self.static_prefix):])
        path = safe_join(self.static_folder, relative)
        if path is None or not Path(path).is_file():
            raise ValueError(f"no such static file: {relative!r}")
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, Path(path).read_bytes(), {"Content-Type": mime})


def render_html(template_name: str, **context) -> str:
    """The HTML a PDF is made from (also handy in tests and for previews)."""
    app = current_app._get_current_object()
    # url_for needs a request; a fixed one makes ``url_for('static', ...)`` give /static/... paths
    # that resolve against PDF_BASE_URL, in a web request and in the worker alike.
    with app.test_request_context("/", base_url=PDF_BASE_URL):
        return render_template(template_name, **context)


def render_pdf(template_name: str, **context) -> bytes:
    html = render_html(template_name, **context)
    app = current_app._get_current_object()
    fetcher = StaticOnlyFetcher(app.static_folder or "", app.static_url_path or "/static")
    return HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher).write_pdf()
