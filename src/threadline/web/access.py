"""Decorators every agent page uses: signed in, member of a workspace, admin where required."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from threadline.core.permissions import is_admin


def agent_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.membership is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    @wraps(view)
    @agent_required
    def wrapper(request, *args, **kwargs):
        if not is_admin(request.membership):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper
