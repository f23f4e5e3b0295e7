"""Personal API tokens: create (shown once) and authenticate (by SHA-256, compared in constant time)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.utils import timezone

from threadline.core.models import ApiToken, Membership

PREFIX = "tl_"
LAST_USED_PRECISION = dt.timedelta(minutes=5)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, membership: Membership, name: str) -> str:
    """Create a token for an agent and return it; only its hash is kept."""
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(membership=membership, name=name[:100], prefix=token[:10], token_hash=_hash(token))
    return token


def api_token_authenticate(token: str) -> Membership | None:
    """The active membership behind a token, or None."""
    if not token or not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _hash(token)
    row = (
        ApiToken.objects.select_related("membership__user", "membership__workspace")
        .filter(token_hash=digest, revoked_at__isnull=True)
        .first()
    )
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    membership = row.membership
    if not membership.is_active or not membership.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        # Not on every request: a write per API call or socket connect costs a commit for a coarse fact.
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return membership
