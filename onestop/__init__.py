"""The one-stop office capabilities, without Rasa: appointments, dossiers, hand-offs and unanswered questions."""
