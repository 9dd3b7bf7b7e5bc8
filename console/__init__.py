"""The staff console: a small aiohttp web application for officers (docs/console.md).

``python -m console adduser NAME --role editor`` creates an account; ``python -m console serve``
starts it. Nothing is created or loaded at import time: :func:`console.app.create_app` builds the app.
"""
