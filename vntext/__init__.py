"""Vietnamese text without Rasa: normalisation and folding, patterns (codes, phones, ids), dates and times."""
