"""render_pdf: Chinese text, embedded CJK fonts, page numbers, and no fetching outside static/."""
from __future__ import annotations

import re
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from incubator.core import pdf
from incubator.db import utcnow


def pdftotext(data: bytes, tmp_path) -> str:
    """The PDF's text without any whitespace (pdftotext spaces CJK text unpredictably)."""
    f = tmp_path / "x.pdf"
    f.write_bytes(data)
    text = subprocess.run(["pdftotext", str(f), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)


def pdffonts(data: bytes, tmp_path) -> str:
    f = tmp_path / "f.pdf"
    f.write_bytes(data)
    return subprocess.run(["pdffonts", str(f)], capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def pdf_templates(app):
    """Extra templates for these tests only (a DictLoader in front of the app's loader)."""
    from jinja2 import ChoiceLoader, DictLoader

    extra = DictLoader({})
    original = app.jinja_env.loader
    app.jinja_env.loader = ChoiceLoader([extra, original])
    yield extra.mapping
    app.jinja_env.loader = original


def test_harfbuzz_subset_is_available():
    from weasyprint.text import ffi

    assert ffi.harfbuzz_subset is not None
    pdf.check_pdf_stack()  # does not raise


def test_broken_pdf_stack_is_reported_clearly(monkeypatch):
    monkeypatch.setattr(pdf._weasy_ffi, "harfbuzz_subset", None)
    with pytest.raises(pdf.PdfStackBroken, match="libharfbuzz-subset0"):
        pdf.check_pdf_stack()


def test_selftest_template_renders_chinese_with_embedded_fonts(app, tmp_path):
    with app.app_context():
        data = pdf.render_pdf(
            "pdf/selftest.html",
            title="系统自检报告",
            doc_number="自检〔2026〕7号",
            checks=[{"name": "数据库", "ok": True, "detail": "连接正常"}],
            requested_by="张三<script>alert(1)</script>",
            job_id=7,
            generated_at=utcnow(),
            today=utcnow().date(),
        )
    assert data.startswith(b"%PDF")
    text = pdftotext(data, tmp_path)
    for phrase in ("系统自检报告", "洛阳市民政局", "自检〔2026〕7号", "第一章", "第一条", "第二条", "（盖章处）", "第1页/共", "张三<script>"):
        assert phrase in text, phrase
    fonts = pdffonts(data, tmp_path)
    assert "Noto-Serif-CJK-SC" in fonts and "Noto-Sans-CJK-SC" in fonts
    for line in fonts.splitlines()[2:]:
        assert " yes yes " in line, f"font not embedded and subset: {line}"


def test_static_files_are_served_to_the_renderer(app, pdf_templates, tmp_path):
    # A stylesheet via url_for and an image via a relative static path both resolve.
    pdf_templates["t_static.html"] = (
        '<html><head><link rel="stylesheet" href="{{ url_for(\'static\', filename=\'css/print.css\') }}"></head>'
        "<body><p>静态资源测试</p></body></html>"
    )
    fetched = []
    original = pdf.StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        fetched.append(url)
        return original(self, url, headers)

    with app.app_context():
        pdf.StaticOnlyFetcher.fetch = spy
        try:
            data = pdf.render_pdf("t_static.html")
        finally:
            pdf.StaticOnlyFetcher.fetch = original
    assert any(u.endswith("/static/css/print.css") for u in fetched)
    # print.css sets A4 and page numbers: they show up only if the stylesheet was applied.
    assert "第1页/共1页" in pdftotext(data, tmp_path)


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_nothing_outside_static_is_fetched(app, pdf_templates, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        pdf_templates["t_evil.html"] = f"""<html><head>
          <link rel="stylesheet" href="http://127.0.0.1:{port}/evil.css">
          <style>@import url("file:///etc/passwd"); body {{ background: url("http://127.0.0.1:{port}/bg.png"); }}</style>
          </head><body><p>外部资源测试</p>
          <img src="http://example.com/x.png"><img src="file:///etc/passwd"><img src="http://127.0.0.1:{port}/img.png">
          <img src="/static/../../../../etc/passwd"><img src="https://pdf.incubator.invalid/static/../incubator/config.py">
          <iframe src="file:///etc/passwd"></iframe><object data="file:///etc/hostname"></object>
          </body></html>"""
        with app.app_context():
            data = pdf.render_pdf("t_evil.html")
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.hits == []
    text = pdftotext(data, tmp_path)
    assert "外部资源测试" in text
    assert "root:" not in text
    assert b"root:x:" not in data


def test_fetcher_refuses_everything_but_static(app):
    fetcher = pdf.StaticOnlyFetcher(app.static_folder, "/static")
    for url in (
        "http://example.com/a.css",
        "file:///etc/passwd",
        "https://pdf.incubator.invalid/etc/passwd",
        "https://pdf.incubator.invalid/static/../../etc/passwd",
        "https://pdf.incubator.invalid/static/%2e%2e/%2e%2e/incubator/config.py",
        "https://evil.example/static/css/print.css",
        "ftp://pdf.incubator.invalid/static/css/print.css",
        "https://pdf.incubator.invalid/static/css/missing.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    ok = fetcher.fetch("https://pdf.incubator.invalid/static/css/print.css")
    assert b"@page" in ok.read()
    ok.close()


def test_render_pdf_inside_a_web_request_too(app, tmp_path):
    # In a request (not only in the worker) url_for still yields paths the fetcher serves.
    with app.test_request_context("/some/page", base_url="https://incubator.example.cn/"):
        data = pdf.render_pdf("pdf/selftest.html", title="测试", checks=[], requested_by="李四", job_id=1,
                              generated_at=utcnow(), today=utcnow().date())
    assert "第1页" in pdftotext(data, tmp_path)
