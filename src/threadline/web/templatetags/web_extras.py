"""Small template helpers of the agent workspace."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ counts|get_item:key }}``: a dict lookup with a variable key."""
    if not mapping:
        return None
    return mapping.get(key)
