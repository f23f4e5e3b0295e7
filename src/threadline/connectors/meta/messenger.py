"""The Facebook Messenger channel: one inbox per Facebook Page. Reference: docs/channels/messenger.md.

Inbound: Meta POSTs ``object: page`` webhooks signed with the app secret (X-Hub-Signature-256); the
subscription is confirmed by a GET handshake with the inbox's verify token. Outbound: the Send API
(``POST /me/messages``) with the Page access token; outside the 24-hour window only with the HUMAN_AGENT
tag, for up to 7 days. Customers are PSIDs, which belong to one Page. Contract: CHANNELS.md §1.1–1.4.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import ConfigField
from threadline.connectors.meta.messaging import MessagingConnector


class MessengerConnector(MessagingConnector):
    kind = "messenger"
    label = _("Messenger")
    secret_names = ("app_secret", "verify_token", "page_access_token")
    recipient_kinds = ("messenger_psid",)
    identity_kind = "messenger_psid"
    product_object = "page"
    account_setting = "page_id"
    config_fields = (ConfigField("page_id", _("Facebook Page id"), help=_("The numeric id of the Page this inbox answers for.")),)
    token_secret = "page_access_token"
    media_policy = "store"  # Messenger CDN URLs expire (the ``oe=`` parameter): download at once
