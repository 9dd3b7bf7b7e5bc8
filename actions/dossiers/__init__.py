"""``python -m actions.dossiers``: the dossier command line at the name scripts and evaluations already call.

The dossier capability lives in onestop.dossiers; this package only forwards its command line.
"""
