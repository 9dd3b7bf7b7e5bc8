"""Custom actions of the one-stop office assistant (run by `python -m rasa_sdk --actions actions`)."""
