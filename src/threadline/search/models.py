"""The search index: one row per searchable thing (an article translation, a message, a contact).

Rows are written only by ``search.services``. Next to the plain text each row keeps the segmented words
(``title_words``/``body_words``: folded words separated by spaces, Thai already cut into words) and the
folded text (``folded``). The database-specific indexes over them live outside the ORM and are created by
migration 0002: FTS5 tables on SQLite, a tsvector column and a pg_trgm index on PostgreSQL.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from threadline.core.models import Workspace


class DocumentKind(models.TextChoices):
    ARTICLE = "article", _("Article")
    MESSAGE = "message", _("Message")
    CONTACT = "contact", _("Contact")


class SearchDocument(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    # The indexed row: an ArticleTranslation, a Message or a Contact.
    object_id = models.BigIntegerField()
    # Its parent: the Article of a translation, the Conversation of a message.
    parent_id = models.BigIntegerField(null=True, blank=True)
    locale = models.CharField(max_length=8, blank=True)
    # Permissions: a message is visible to whoever sees this inbox (the conversation's first inbox).
    inbox_id = models.BigIntegerField(null=True, blank=True)
    contact_id = models.BigIntegerField(null=True, blank=True)
    # Articles: published at all, and published for the public (not internal).
    is_published = models.BooleanField(default=False)
    is_public = models.BooleanField(default=False)
    title = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    title_words = models.TextField(blank=True)
    body_words = models.TextField(blank=True)
    folded = models.TextField(blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "search_document"
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="searchdocument_unique_object")]
        indexes = [models.Index(fields=["workspace", "kind", "is_public"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"
