"""Custom Rasa NLU components and Vietnamese text helpers."""
