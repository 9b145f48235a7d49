"""The only way WeasyPrint may read anything while rendering a case summary (SPEC.md §5, §6).

WeasyPrint's default fetcher follows any URL in the document: to an internal server, to `file:///etc/passwd`
(which it then embeds as a PDF attachment), through redirects. `SafeURLFetcher` denies by default: it
answers `data:` URLs and regular files under Haven's own PDF static folder (core/static/core/pdf/), and
refuses everything else by raising, before any socket or file outside that folder is touched. In
WeasyPrint 70 a fetcher must be a `weasyprint.urls.URLFetcher` subclass (a plain function crashes there):
WeasyPrint calls the instance, which calls `fetch`.

A refusal is fatal for the render (`fail_on_errors=True`): our templates never point anywhere else, so a
refused URL means something got into the document that should not have, and the render fails closed.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib import request
from urllib.parse import unquote, urlsplit

from django.apps import apps
from weasyprint.urls import URLFetcher, URLFetcherResponse, path2url

ALLOWED_SCHEMES = ("data", "file")


class ResourceRefused(ValueError):
    """WeasyPrint asked for something outside the allowed set; the message names the scheme only."""


def pdf_static_root() -> Path:
    """Haven's folder of PDF assets (stylesheet); the only folder a render may read from."""
    return (Path(apps.get_app_config("core").path) / "static" / "core" / "pdf").resolve()


def pdf_base_url() -> str:
    """The base URL relative references in the PDF templates resolve against (with a trailing slash)."""
    return path2url(str(pdf_static_root()) + "/")


class SafeURLFetcher(URLFetcher):
    """Deny-by-default fetcher: `data:` URLs and regular files under the PDF static folder, nothing else.

    `requested` records every URL WeasyPrint asked for (allowed or not), so tests can check that nothing
    else was ever asked for.
    """

    def __init__(self, *, root: Path | None = None) -> None:
        # No redirects, a short timeout, only two schemes: belt and braces, since `fetch` below never
        # hands a URL to urllib's openers anyway.
        super().__init__(
            timeout=2, allowed_protocols=ALLOWED_SCHEMES, allow_redirects=False, fail_on_errors=True
        )
        self.root = (root or pdf_static_root()).resolve()
        self.requested: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:  # type: ignore[override]
        self.requested.append(url)
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return self._data(url)
        if scheme == "file":
            return self._file(url)
        raise ResourceRefused(f"Refused a {scheme or 'relative'!s} URL while rendering a PDF.")

    def _data(self, url: str) -> URLFetcherResponse:
        # urllib's DataHandler parses the URL itself; it opens nothing.
        response = request.DataHandler().data_open(request.Request(url))  # noqa: S310 (data: only)
        return URLFetcherResponse(url="data:", body=response.read(), headers=dict(response.headers.items()))

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ResourceRefused("Refused a file URL on another host while rendering a PDF.")
        try:
            path = Path(request.url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError):
            raise ResourceRefused("Refused a missing file while rendering a PDF.") from None
        # resolve() has followed every symlink and "..": the real file must sit inside the folder.
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ResourceRefused("Refused a file outside Haven's PDF folder while rendering a PDF.")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        headers = {"Content-Type": content_type}
        if content_type.startswith("text/"):
            headers["Content-Type"] = f"{content_type}; charset=utf-8"
        return URLFetcherResponse(url=path2url(str(path)), body=path.read_bytes(), headers=headers)
