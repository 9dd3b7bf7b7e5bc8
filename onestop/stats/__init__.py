"""Statistics for the staff console's dashboard (issue 16): the per-turn event record and the dashboard's queries.

``events`` holds the one table the Rasa event broker (cluster.stats_broker) fills - timestamps, hashed senders,
channels, intent and action names, procedure and aspect slot values, never a message text - and ``queries``
reads it together with the bookings, hand-off, unanswered, feedback and notification tables. Rasa-free.
"""
