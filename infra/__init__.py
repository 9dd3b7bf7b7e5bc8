"""Shared infrastructure every package may use (database, masking of personal data, the Rasa API client).

It imports none of the capability or adapter packages above it, except vntext.patterns for recognising phone and ID
numbers in free text.
"""
