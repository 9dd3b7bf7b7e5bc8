"""Messages sent outside a conversation: which route (chat, ZNS, Messenger tag or none), consent, ZNS templates.

Modules: `consent` (who agreed to receive ZNS messages at which phone), `templates` (the ZNS template registry,
deploy/zns_templates.yml), `zns` (the ZNS HTTP client), `records` (the notifications table: one row per
event, the dedupe), `deliver` (the routing decision). See docs/notifications.md.
"""
