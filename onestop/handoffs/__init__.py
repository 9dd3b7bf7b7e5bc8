"""Hand-offs to officers, their queued replies, call-back requests and the questions the bot could not answer.

The staff console and the command line use this facade; the Rasa actions (actions.handoff, actions.callbacks) and
the Zalo channel record hand-offs through ``record_handoff``.
"""
from onestop.handoffs.records import is_open, list_handoffs, record_handoff, set_status
from onestop.handoffs.replies import fetch_transcript, queue_reply, resume_conversation, send_officer_reply

__all__ = ["fetch_transcript", "is_open", "list_handoffs", "queue_reply", "record_handoff", "resume_conversation",
           "send_officer_reply", "set_status"]
