"""Appointment booking at one-stop offices: calendar, offices, database store, reminders, officer CLI."""
