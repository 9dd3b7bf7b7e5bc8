"""Running several Rasa servers behind one Redis: the atomic lock store, health and metrics, the local cluster."""
