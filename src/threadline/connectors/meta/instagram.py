"""Instagram messaging (Messenger API for Instagram): one inbox per Instagram professional account.

Same webhook and Send API shape as Messenger (``object: instagram``), with Instagram-scoped ids (IGSID),
echoes inside the ``messages`` field and read receipts naming a ``mid``. Inbound media are never stored:
Meta's app review rejects apps that keep Instagram media, so attachments stay links the agent's browser
loads from Instagram (``media_policy = "link"``). Reference: docs/channels/instagram.md; CHANNELS.md §1.5.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from threadline.connectors.base import (
    ChannelConfig,
    ConfigField,
    FetchedMedia,
    MediaRef,
    SendError,
)
from threadline.connectors.meta.messaging import MessagingConnector


class InstagramConnector(MessagingConnector):
    kind = "instagram"
    label = _("Instagram")
    secret_names = ("app_secret", "verify_token", "access_token")
    recipient_kinds = ("instagram_igsid",)
    identity_kind = "instagram_igsid"
    product_object = "instagram"
    account_setting = "instagram_account_id"
    config_fields = (
        ConfigField("instagram_account_id", _("Instagram account id"), help=_("The id of the Instagram professional account.")),
    )
    token_secret = "access_token"
    media_policy = "link"
    sends_metadata = False  # Instagram's Send API reference does not list ``message.metadata``: not relied on

    def fetch_media(self, media: MediaRef, config: ChannelConfig) -> FetchedMedia:
        raise SendError("Instagram media are shown from Instagram and never stored (Meta's policy).", transient=False)
