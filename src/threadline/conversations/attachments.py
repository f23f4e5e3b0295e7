"""Attachments an agent sends, and the signed public link providers fetch them through.

Stored files stay private (``MEDIA_ROOT`` is not served). A provider that takes outbound media by URL
(Meta, Twilio) gets ``/media/a/<token>/<name>``: the token signs the attachment id with a timestamp, so the
link works for one file, for ``PUBLIC_LINK_MAX_AGE`` seconds (long enough for provider fetch retries), and
cannot be altered to reach another file. Agents keep using the permission-checked ``web:attachment`` URL.

Uploads are checked here (count, size, type sniffed from the first bytes; executables refused) before
``conversations.services.message_reply`` stores them in the same transaction as the message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from threadline.conversations.models import Attachment

PUBLIC_LINK_MAX_AGE = 24 * 3600
_SALT = "threadline.attachment.public"

MAX_REPLY_FILES = 5
MAX_REPLY_FILE_BYTES = 10 * 1024 * 1024
INLINE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")

# Leading bytes → the type we store (the browser's claim is never trusted).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
# Leading bytes of programs and scripts a customer could be tricked into running.
_EXECUTABLES = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
_EXECUTABLE_EXTENSIONS = {
    ".exe", ".dll", ".com", ".bat", ".cmd", ".msi", ".scr", ".ps1", ".vbs", ".js", ".jar", ".sh", ".app",
    ".apk", ".html", ".htm", ".svg", ".hta", ".lnk",
}
_TEXT_TYPES = {".txt": "text/plain", ".csv": "text/csv"}


class AttachmentError(ValueError):
    """An upload was refused; the message is safe to show to the agent."""


@dataclass(frozen=True)
class CheckedFile:
    filename: str
    content_type: str
    content: bytes


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def attachment_public_url(attachment: Attachment) -> str:
    """An absolute, expiring link to one stored file, for providers that fetch media by URL."""
    token = _signer().sign(str(attachment.pk))
    name = quote(get_valid_filename(attachment.filename or "") or "file")
    return f"{settings.PUBLIC_URL}/media/a/{quote(token, safe=':')}/{name}"


def attachment_from_public_token(token: str, *, max_age: int = PUBLIC_LINK_MAX_AGE) -> Attachment | None:
    """The stored attachment a signed link names, or None (forged, altered, expired, gone or never fetched).

    The signer compares the signature in constant time.
    """
    try:
        attachment_id = _signer().unsign(token, max_age=max_age)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not attachment_id.isdigit():
        return None
    attachment = Attachment.objects.filter(pk=int(attachment_id)).first()
    if attachment is None or not attachment.file:
        return None
    return attachment


def _sniff(name: str, head: bytes) -> str | None:
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    extension = os.path.splitext(name)[1].lower()
    if extension in _TEXT_TYPES and b"\x00" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as error:
            if error.start < len(head) - 4:  # a multibyte character cut at the end of the sample is fine
                return None
        return _TEXT_TYPES[extension]
    return None


def reply_files_check(files) -> list[CheckedFile]:
    """Validate uploaded files (Django ``UploadedFile`` objects) for a reply; raise AttachmentError if any fails."""
    files = list(files or [])
    if len(files) > MAX_REPLY_FILES:
        raise AttachmentError(_("Attach at most %(count)d files.") % {"count": MAX_REPLY_FILES})
    checked = []
    for upload in files:
        name = os.path.basename(getattr(upload, "name", "") or "file")[:200] or "file"
        if (upload.size or 0) > MAX_REPLY_FILE_BYTES:
            raise AttachmentError(
                _("%(name)s is larger than %(size)d MB.") % {"name": name, "size": MAX_REPLY_FILE_BYTES // (1024 * 1024)}
            )
        upload.seek(0)
        content = upload.read()
        if len(content) > MAX_REPLY_FILE_BYTES:
            raise AttachmentError(
                _("%(name)s is larger than %(size)d MB.") % {"name": name, "size": MAX_REPLY_FILE_BYTES // (1024 * 1024)}
            )
        if not content:
            raise AttachmentError(_("%(name)s is empty.") % {"name": name})
        extension = os.path.splitext(name)[1].lower()
        if extension in _EXECUTABLE_EXTENSIONS or content.startswith(_EXECUTABLES):
            raise AttachmentError(_("%(name)s looks like a program and cannot be sent.") % {"name": name})
        content_type = _sniff(name, content[:512])
        if content_type is None:
            raise AttachmentError(
                _("%(name)s: this type of file cannot be sent (images, PDF, text and CSV can).") % {"name": name}
            )
        checked.append(CheckedFile(filename=name, content_type=content_type, content=content))
    return checked
