"""Safe rendering: WeasyPrint reads nothing but `data:` URLs and Haven's PDF folder; case data that looks
like HTML is printed as text, fetches nothing, and adds no attachment or image."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from casework.summaries import render
from casework.summaries.fetcher import ResourceRefused, SafeURLFetcher, pdf_base_url, pdf_static_root
from casework.summaries.render import SummaryRenderRefused, summary_render
from tests.summaries.helpers_render import NOW, fill_case, make_summary, normalise, pdftotext, world  # noqa: F401

HOSTILE_NOTE = (
    '<img src="file:///etc/passwd"> <img src="http://127.0.0.1:9/x.png"> '
    '<link rel=stylesheet href="http://169.254.169.254/">'
)


def test_hostile_note_is_printed_literally_and_fetches_nothing(world):  # noqa: F811
    case = fill_case(world, contacts=1, note=HOSTILE_NOTE)
    summary = make_summary(case, world.caseworker, purpose="legal_partner")
    fetcher = SafeURLFetcher()

    result = summary_render(summary=summary, now=NOW, url_fetcher=fetcher)

    root = pdf_static_root()
    assert fetcher.requested == [(root / "summary.css").as_uri()]
    squeezed = normalise(pdftotext(result.pdf_bytes)).replace(" ", "")
    for piece in (
        '<imgsrc="file:///etc/passwd">',
        '<imgsrc="http://127.0.0.1:9/x.png">',
        '<linkrel=stylesheethref="http://169.254.169.254/">',
    ):
        assert piece in squeezed, piece
    reader = PdfReader(io.BytesIO(result.pdf_bytes))
    catalog = reader.trailer["/Root"]
    assert "/EmbeddedFiles" not in catalog.get("/Names", {})
    assert "/AF" not in catalog
    for page in reader.pages:
        assert list(page.images) == []
        for annotation in page.get("/Annots", []) or []:
            assert annotation.get_object().get("/Subtype") != "/FileAttachment"
        xobjects = page["/Resources"].get("/XObject", {})
        for xobject in xobjects.values():
            assert xobject.get_object().get("/Subtype") != "/Image"
    assert b"root:x:0:0" not in result.pdf_bytes


def test_a_refused_url_fails_the_render_closed(world, monkeypatch):  # noqa: F811
    case = fill_case(world, contacts=0)
    summary = make_summary(case, world.caseworker)
    original = render.summary_html

    def with_an_image(**kwargs):  # type: ignore[no-untyped-def]
        return original(**kwargs).replace("</main>", '<img src="http://127.0.0.1:9/x.png" alt=""></main>')

    monkeypatch.setattr(render, "summary_html", with_an_image)
    fetcher = SafeURLFetcher()

    with pytest.raises(SummaryRenderRefused):
        summary_render(summary=summary, now=NOW, url_fetcher=fetcher)
    assert fetcher.requested[-1] == "http://127.0.0.1:9/x.png"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "https://example.org/a.css",
        "http://169.254.169.254/",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "file://otherhost/etc/passwd",
        "gopher://127.0.0.1:70/",
        "javascript:alert(1)",
        "//example.org/x.png",
    ],
)
def test_fetcher_refuses(url):
    with pytest.raises(ResourceRefused):
        SafeURLFetcher().fetch(url)


def test_fetcher_refuses_paths_that_leave_the_folder(tmp_path: Path):
    root = tmp_path / "pdf"
    root.mkdir()
    (root / "ok.css").write_text("p { color: black; }")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.css").symlink_to(secret)
    (root / "sub").mkdir()
    fetcher = SafeURLFetcher(root=root)

    assert fetcher.fetch((root / "ok.css").as_uri()).read() == b"p { color: black; }"
    for url in (
        secret.as_uri(),
        (root / "link.css").as_uri(),
        root.as_uri() + "/../secret.txt",
        root.as_uri() + "/%2e%2e/secret.txt",
        (root / "sub").as_uri(),
        (root / "missing.css").as_uri(),
    ):
        with pytest.raises(ResourceRefused):
            fetcher.fetch(url)


def test_fetcher_answers_data_urls_and_the_stylesheet():
    fetcher = SafeURLFetcher()

    data = fetcher.fetch("data:text/plain;base64,SGF2ZW4=")
    stylesheet = fetcher.fetch(pdf_base_url() + "summary.css")

    assert data.read() == b"Haven"
    assert stylesheet.content_type == "text/css"
    assert b"@page" in stylesheet.read()


def test_weasyprint_with_the_fetcher_never_opens_a_socket(monkeypatch):
    import socket

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    fetcher = SafeURLFetcher()
    html = '<p>x</p><img src="http://127.0.0.1:9/x.png">'

    with pytest.raises(FatalURLFetchingError):
        HTML(string=html, base_url=pdf_base_url(), url_fetcher=fetcher).write_pdf()
    assert fetcher.requested == ["http://127.0.0.1:9/x.png"]
