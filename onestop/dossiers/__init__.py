"""Dossier (hồ sơ) status: lookup by code, proof of ownership, status-change notifications.

Modules: `model` (Dossier, views), `backend` (SQLite demo store / one-stop REST API), `ownership`
(last-4-digits proof with lockout), `subscriptions` + `notifier` (tell citizens when a dossier changes).
Nothing here does I/O at import time: the action server imports every module of the `actions` package.
"""
