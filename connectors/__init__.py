"""Zalo OA and Messenger channels (Rasa custom channels)."""
