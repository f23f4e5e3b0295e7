"""Printed guides: an article or a whole category as PDF, rendered by WeasyPrint from the same HTML and
print stylesheet the browser uses. Thai needs a Thai font on the machine (Debian: fonts-thai-tlwg).

WeasyPrint would fetch every URL in the page; our fetcher serves only the help center's own stylesheet
and uploaded images from local storage and refuses everything else, so a PDF never reaches the network.
"""

from __future__ import annotations

import logging
import re

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from threadline.knowledge.models import ArticleImage

_IMAGE = re.compile(r"/help/[^/]+/images/(\d+)(?:/|$)")
STYLESHEET = "knowledge/help.css"
# WeasyPrint reports every rendering step at INFO; keep the application's log for what matters.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def _local_resource(url: str) -> tuple[bytes, str]:
    """The bytes and type of the help center's stylesheet or an uploaded image; LookupError otherwise."""
    if url.split("?")[0].endswith("/" + STYLESHEET):
        path = finders.find(STYLESHEET)
        with open(path, "rb") as handle:
            return handle.read(), "text/css"
    match = _IMAGE.search(url)
    image = ArticleImage.objects.filter(pk=int(match.group(1))).first() if match else None
    if image is None:
        raise LookupError("external resources are not fetched for PDFs")
    with image.file.open("rb") as handle:
        return handle.read(), _mime(image.file.name)


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            body, mime_type = _local_resource(url)
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime_type})

    return LocalOnlyFetcher()


def _mime(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml"}.get(extension, "image/jpeg")


class PdfUnavailableError(RuntimeError):
    """WeasyPrint cannot load its system libraries (Pango) on this machine."""


def render_pdf(context: dict, *, base_url: str) -> bytes:
    """A PDF of the print template (one or more articles under a heading). Raises PdfUnavailableError."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango missing: apt-get install libpango-1.0-0 libpangoft2-1.0-0
        raise PdfUnavailableError(str(exc)) from exc

    document = render_to_string("knowledge/help/print.html", context)
    return HTML(string=document, base_url=base_url, url_fetcher=_fetcher()).write_pdf()
