"""The staff console: a small aiohttp web application for officers (docs/console.md).

``python -m knowledge.console adduser NAME --role editor`` creates an account; ``python -m knowledge.console serve``
starts it. Nothing is created or loaded at import time: :func:`knowledge.console.app.create_app` builds the app.
"""
