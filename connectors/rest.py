"""Rasa's REST channel with its own sender-id namespace: ``rest:<sender>``.

All channels share one tracker store, keyed by sender id. Zalo and Messenger key a conversation by the platform's
user id, which the platform vouches for (signed webhooks); the REST caller chooses its sender freely. Prefixing
every REST sender means a REST caller can never write into, or read the replies of, a Zalo or Messenger citizen's
conversation, whatever id it sends. Registered as ``connectors.rest.RestInput`` in bot/credentials*.yml; the URL
stays /webhooks/rest/webhook and the channel name ``rest``.
"""
from __future__ import annotations

from typing import Optional, Text

from rasa.core.channels.rest import RestInput as _RasaRestInput
from sanic.request import Request

PREFIX = "rest:"


def namespaced(sender: Optional[object]) -> Optional[str]:
    """``rest:<sender>`` (an already prefixed id is kept as it is); None when there is no sender."""
    if sender is None or str(sender) == "":
        return None
    text = str(sender)
    return text if text.startswith(PREFIX) else PREFIX + text


class RestInput(_RasaRestInput):
    """The REST channel, sender ids namespaced."""

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        return namespaced((req.json or {}).get("sender"))
