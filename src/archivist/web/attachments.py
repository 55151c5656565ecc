"""Serving what an email brought (CONTRACT §15), shared by the API and the pages: attachments as
downloads that never render on our origin, and the HTML part as a sandboxed frame's document."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, status
from fastapi.responses import StreamingResponse

from archivist.archive.models import EmailAttachment
from archivist.blobs import BlobNotFound, BlobStore
from archivist.web.streaming import OPAQUE_TYPE

# What an attachment is served as: its own type only where a browser shows it as inert data;
# anything else (HTML, SVG, script, XML) as opaque bytes, so no email can run code on our origin.
INERT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"})
ATTACHMENT_GONE = "This email has no such attachment (or it was deleted)"
# The email's document may load nothing: no script, no frame, no remote image, font or style.
FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def attachment_response(attachment: EmailAttachment | None, blobs: BlobStore) -> StreamingResponse:
    """The attachment as a download (``Content-Disposition: attachment``, ``nosniff``); 404 when gone."""
    if attachment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, ATTACHMENT_GONE)
    try:
        stream = blobs.open_range(attachment.blob_key)
    except BlobNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, ATTACHMENT_GONE) from None
    media_type = attachment.content_type if attachment.content_type in INERT_TYPES else OPAQUE_TYPE
    return StreamingResponse(
        stream,
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "Content-Length": str(attachment.size_bytes),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in ASCII (RFC 6266) and, when it has more, in UTF-8 (RFC 5987)."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\;' else "_" for c in filename) or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def frame_document(sanitized_html: str) -> str:
    """The document of the frame that shows an email's (already sanitised) HTML: its own CSP first,
    so that even markup the sanitiser let through could load and run nothing."""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{FRAME_CSP}">'
        "<style>body{font-family:sans-serif;margin:.5rem}</style></head>"
        f"<body>{sanitized_html}</body></html>"
    )
