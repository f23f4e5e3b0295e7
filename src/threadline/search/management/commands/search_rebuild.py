"""``threadline search_rebuild [--workspace SLUG]``: rebuild the search index from articles, messages and
contacts (after a restore, an upgrade of the segmenter, or to repair a stale index)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from threadline.core.models import Workspace
from threadline.search.services import index_rebuild


class Command(BaseCommand):
    help = "Rebuild the search index (articles, messages, contacts)."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", help="only this workspace (its slug)")

    def handle(self, *args, workspace=None, **options):
        workspace_id = None
        if workspace:
            found = Workspace.objects.filter(slug=workspace).first()
            if found is None:
                raise CommandError(f"no workspace with slug {workspace!r}")
            workspace_id = found.pk
        counts = index_rebuild(workspace_id=workspace_id)
        self.stdout.write(
            f"indexed {counts['article']} article translations, {counts['message']} messages, {counts['contact']} contacts"
        )
