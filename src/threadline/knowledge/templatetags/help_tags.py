"""Template filters of the help center and search pages."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from threadline.search.text import highlight, query_terms

register = template.Library()


@register.filter
def marked(text: str, query: str) -> str:
    """``text`` escaped, with the words of ``query`` wrapped in <mark>."""
    return mark_safe(highlight(str(text), query_terms(query or "")))  # highlight() escapes everything else
