"""The registry: channel kind → connector. One explicit line per connector, nothing discovered by import."""

from __future__ import annotations

from threadline.connectors.api import ApiConnector
from threadline.connectors.base import Connector

_CONNECTORS: dict[str, Connector] = {
    ApiConnector.kind: ApiConnector(),
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
