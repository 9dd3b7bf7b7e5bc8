"""The national catalogue tier: procedure records imported from the National Public Service Portal's export.

Curated guidance (``knowledge/procedures``) always wins; a catalogue entry answers only when the curated search
declines, and its answers say that they come from the national database and were not reviewed by staff.
Modules: ``parse`` (tolerant record parsing), ``store`` (import, the stored tier), ``search`` (its own hybrid
search and decline), ``answer`` (citizen-facing text), ``tiers`` (curated first, then the catalogue).
"""
