"""Appointments at one-stop offices: the bookings table, reminders, look-ups and the dialogue's wording."""
