"""The registry: channel kind → connector. One explicit line per connector, nothing discovered by import."""

from __future__ import annotations

from threadline.connectors.api import ApiConnector
from threadline.connectors.base import Connector
from threadline.connectors.email.connector import EmailConnector
from threadline.connectors.livechat import LivechatConnector
from threadline.connectors.meta.instagram import InstagramConnector
from threadline.connectors.meta.messenger import MessengerConnector
from threadline.connectors.meta.whatsapp import WhatsappConnector
from threadline.connectors.telegram import TelegramConnector
from threadline.connectors.twilio import SmsConnector, TwilioWhatsappConnector
from threadline.connectors.voice import CtiConnector, TwilioVoiceConnector
from threadline.connectors.webform import WebformConnector

_CONNECTORS: dict[str, Connector] = {
    ApiConnector.kind: ApiConnector(),
    MessengerConnector.kind: MessengerConnector(),
    InstagramConnector.kind: InstagramConnector(),
    WhatsappConnector.kind: WhatsappConnector(),
    TelegramConnector.kind: TelegramConnector(),
    SmsConnector.kind: SmsConnector(),
    TwilioWhatsappConnector.kind: TwilioWhatsappConnector(),
    EmailConnector.kind: EmailConnector(),
    TwilioVoiceConnector.kind: TwilioVoiceConnector(),
    CtiConnector.kind: CtiConnector(),
    WebformConnector.kind: WebformConnector(),
    LivechatConnector.kind: LivechatConnector(),
}


class UnknownChannelKindError(LookupError):
    pass


def connector_for(kind: str) -> Connector:
    try:
        return _CONNECTORS[kind]
    except KeyError:
        raise UnknownChannelKindError(kind) from None


def channel_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every registered channel, for choices in forms and the API."""
    return [(kind, str(connector.label)) for kind, connector in _CONNECTORS.items()]
