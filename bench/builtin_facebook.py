"""Rasa 3.6's own `facebook` channel, unchanged except that its Graph API host is configurable, so the
connector benchmark can point it at the local fake Messenger (FB_GRAPH_BASE) like ours."""
from __future__ import annotations

import os

import fbmessenger
from rasa.core.channels.facebook import FacebookInput

_original_init = fbmessenger.MessengerClient.__init__


def _patched_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    _original_init(self, *args, **kwargs)
    base = os.environ.get("FB_GRAPH_BASE")
    if base:
        self.graph_url = f"{base.rstrip('/')}/v{self.api_version}"


fbmessenger.MessengerClient.__init__ = _patched_init


class BuiltinFacebookInput(FacebookInput):
    """Rasa's FacebookInput under its usual name."""
