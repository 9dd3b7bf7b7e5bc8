"""Local stand-ins for external systems (one-stop API, Rasa server, ...), spoken to over real HTTP."""
