"""Public help-center paths, in one place so pages, the sitemap, search hits and the bot agree."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings


def help_home_path(workspace_slug: str, locale: str) -> str:
    return f"/help/{workspace_slug}/{locale}/"


def article_path(workspace_slug: str, locale: str, article_id: int, slug: str) -> str:
    return f"/help/{workspace_slug}/{locale}/articles/{article_id}-{quote(slug)}"


def category_path(workspace_slug: str, locale: str, category_id: int, slug: str) -> str:
    return f"/help/{workspace_slug}/{locale}/categories/{category_id}-{quote(slug)}"


def absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path
