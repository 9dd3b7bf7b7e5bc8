"""Dossier lookup as a conversation: the code, the public status, proof of ownership, status-change messages.

The public status (the status and the dates) is shown to anyone holding the code, as public portals do; the
procedure, office, documents to supplement, fee, the applicant's name and masked phone only after the last 4 digits
of the phone on the dossier are given, and only while the server-side proof lasts (onestop.dossiers.proofs).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from onestop.dossiers.backend import BackendUnavailable, get_backend
from onestop.dossiers.limits import LIMITED, limiter
from onestop.dossiers.model import canonical_code, is_valid_code, render_private_vi, render_public_vi
from onestop.dossiers.ownership import OwnershipGuard, ProofResult
from onestop.dossiers.subscriptions import SubscriptionStore

log = logging.getLogger(__name__)

UNAVAILABLE = ("Xin lỗi, hệ thống tra cứu hồ sơ đang tạm gián đoạn. Anh/chị vui lòng thử lại sau ít phút, "
               "hoặc tra cứu trên Cổng Dịch vụ công quốc gia: https://dichvucong.gov.vn")
WRONG_PROOF = "Thông tin xác minh không khớp với hồ sơ, nên tôi không thể hiển thị thông tin cá nhân."
# issue 13: the lockout points to the one-stop office (the proof is per code across senders, too).
LOCKED_PROOF = ("Thông tin xác minh không khớp quá nhiều lần nên chi tiết của hồ sơ này đã bị tạm khóa để bảo vệ hồ "
                "sơ. Anh/chị vui lòng thử lại sau 30 phút, hoặc mang giấy tiếp nhận và hẹn trả kết quả cùng giấy tờ "
                "tùy thân đến bộ phận một cửa nơi đã nộp hồ sơ để được hỗ trợ.")
NOT_PROVED = "Anh/chị cần xác minh lại 4 số cuối của số điện thoại đã đăng ký thì tôi mới hiển thị được chi tiết hồ sơ."
CODE_FORMAT = ("Mã hồ sơ gồm mã đơn vị, ngày tiếp nhận và số thứ tự, ví dụ 000.00.11.H26-241115-0007 "
               "(in trên giấy tiếp nhận và hẹn trả kết quả).")

_guard: Optional[OwnershipGuard] = None
_subscriptions: Optional[SubscriptionStore] = None


def guard() -> OwnershipGuard:
    """The process-wide ownership guard (Redis-backed when REDIS_URL is set)."""
    global _guard
    if _guard is None:
        _guard = OwnershipGuard.from_env(get_backend())
    return _guard


def subscriptions() -> SubscriptionStore:
    """The process-wide subscription store."""
    global _subscriptions
    if _subscriptions is None:
        _subscriptions = SubscriptionStore()
    return _subscriptions


def _channel(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


class ValidateDossierForm(FormValidationAction):
    """Check the code's format and that the dossier exists before showing it."""

    def name(self) -> Text:
        return "validate_dossier_form"

    async def extract_dossier_code(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """A mistyped code or an ID number in the message that starts the lookup is answered, not ignored."""
        from onestop.dossiers.codes import has_id_number, malformed_code

        text = str(tracker.latest_message.get("text") or "")
        if tracker.get_slot("requested_slot") or tracker.get_slot("dossier_code") or text.startswith("/") or \
                any(e.get("entity") == "dossier_code" for e in tracker.latest_message.get("entities") or []):
            return {}
        return {"dossier_code": text} if malformed_code(text) or has_id_number(text) else {}

    async def validate_dossier_code(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        """Normalise the code (spaces, case, missing dots); refuse unknown formats and unknown dossiers."""
        from onestop.dossiers.codes import ID_NOT_A_CODE, PROOF_NOT_A_CODE, explain_malformed, has_id_number
        from onestop.dossiers.codes import proof_digits

        code = canonical_code(str(slot_value or ""))
        if not is_valid_code(code):
            raw = str(slot_value or "")
            # Say what the answer is instead (an ID number, the proof digits, a code with a wrong part).
            why = ID_NOT_A_CODE if has_id_number(raw) else PROOF_NOT_A_CODE if proof_digits(raw) else \
                explain_malformed(raw) or "Mã này chưa đúng định dạng. " + CODE_FORMAT
            dispatcher.utter_message(text=why)
            return {"dossier_code": None}
        # --- issue 13: codes must not be enumerated (lookups per conversation are limited; fails closed)
        try:
            allowed = await limiter().allow(tracker.sender_id)
        except BackendUnavailable:
            allowed = False
        if not allowed:
            dispatcher.utter_message(text=LIMITED)
            return {"dossier_code": None}
        # --- end issue 13
        try:
            dossier = await get_backend().get(code)
        except BackendUnavailable:
            # Keep the code: action_show_dossier explains the outage instead of asking again and again.
            return {"dossier_code": code}
        if dossier is None:
            dispatcher.utter_message(
                text=f"Tôi không tìm thấy hồ sơ có mã {code}. Anh/chị vui lòng kiểm tra lại mã trên giấy hẹn, "
                     "hoặc nhắn \"thôi\" để dừng tra cứu.")
            return {"dossier_code": None}
        return {"dossier_code": code}


class ActionShowDossier(Action):
    """Show the public status of the dossier and offer details and status messages."""

    def name(self) -> Text:
        return "action_show_dossier"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code = tracker.get_slot("dossier_code")
        reset = [SlotSet("dossier_code", None)]
        if not code:
            dispatcher.utter_message(response="utter_ask_dossier_code")
            return reset
        try:
            dossier = await get_backend().get(code)
        except BackendUnavailable as exc:
            log.warning("dossier backend unavailable: %s", exc)
            dispatcher.utter_message(text=UNAVAILABLE)
            return reset
        if dossier is None:
            dispatcher.utter_message(text=f"Tôi không tìm thấy hồ sơ có mã {code}. " + CODE_FORMAT)
            return reset
        dispatcher.utter_message(text=render_public_vi(dossier))
        from onestop.dossiers.codes import asks_private

        if asks_private(str(tracker.latest_message.get("text") or "")):
            # "tra hồ sơ X kèm tên người nộp": the status, then the proof before any personal detail.
            return reset + [SlotSet("last_dossier_code", dossier.code), SlotSet("fallback_count", 0.0),
                            FollowupAction("dossier_proof_form")]
        dispatcher.utter_message(
            text="Anh/chị có muốn nhận tin nhắn khi hồ sơ này thay đổi trạng thái không?",
            buttons=[{"title": "Có, báo cho tôi", "payload": "/affirm"},
                     {"title": "Không cần", "payload": "/deny"},
                     {"title": "Xem chi tiết", "payload": "/dossier_details"}],
        )
        try:
            await subscriptions().touch(tracker.sender_id, channel=_channel(tracker))
        except Exception:  # the messaging-window clock must never break a lookup
            log.exception("could not record the user's last interaction")
        return reset + [SlotSet("last_dossier_code", dossier.code), SlotSet("fallback_count", 0.0)]


class ValidateDossierProofForm(FormValidationAction):
    """Check the last 4 digits of the phone number; three wrong answers lock the code for this sender."""

    def name(self) -> Text:
        return "validate_dossier_proof_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        """Nothing to ask when there is no dossier to prove."""
        return domain_slots if tracker.get_slot("last_dossier_code") else []

    async def extract_proof_last4(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[Text, Any]:
        """Digits sent just before the form opened ("0737" after a lookup) are the answer to it."""
        from onestop.dossiers.codes import proof_digits

        text = str(tracker.latest_message.get("text") or "")
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if tracker.get_slot("requested_slot") or intent != "inform" or text.startswith("/"):
            return {}
        digits = proof_digits(text)
        return {"proof_last4": digits} if digits else {}

    async def validate_proof_last4(self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        """Turn the citizen's digits into a proof result; the digits themselves are not kept in the slot."""
        from onestop.dossiers.codes import proof_digits

        code = tracker.get_slot("last_dossier_code")
        digits = proof_digits(str(slot_value or "")) or str(slot_value or "")  # "4 số cuối là 2519", "à 2580"
        try:
            result = await guard().check(tracker.sender_id, code, digits)
        except BackendUnavailable:
            dispatcher.utter_message(text=UNAVAILABLE)
            return {"proof_last4": "unavailable"}
        if result is ProofResult.INVALID:
            dispatcher.utter_message(text="Anh/chị vui lòng nhập đúng 4 chữ số cuối của số điện thoại, ví dụ 5678.")
            return {"proof_last4": None}
        if result is ProofResult.WRONG:  # asked again until the lock; the same words whatever the guess
            dispatcher.utter_message(text=WRONG_PROOF)
            return {"proof_last4": None}
        return {"proof_last4": result.value}


class ActionShowDossierDetails(Action):
    """After the proof: the applicant's details, or a refusal that reveals nothing."""

    def name(self) -> Text:
        return "action_show_dossier_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code = tracker.get_slot("last_dossier_code")
        result = tracker.get_slot("proof_last4")
        events: List[EventType] = [SlotSet("proof_last4", None)]
        if not code:
            dispatcher.utter_message(text="Anh/chị vui lòng tra cứu hồ sơ trước (gửi mã hồ sơ cho tôi).")
            return events
        # --- issue 13: the slot is only a hint for the wording; the server-side proof decides.
        try:
            proved = await guard().is_proved(tracker.sender_id, code)
        except BackendUnavailable:
            dispatcher.utter_message(text=UNAVAILABLE)
            return events
        if proved and result == ProofResult.OK.value:
            try:
                dossier = await get_backend().get(code)
            except BackendUnavailable:
                dispatcher.utter_message(text=UNAVAILABLE)
                return events
            if dossier:
                dispatcher.utter_message(text=render_private_vi(dossier))
                return events
        if result == ProofResult.LOCKED.value:
            dispatcher.utter_message(text=LOCKED_PROOF)
        elif result == ProofResult.OK.value:  # "ok" in the slot without a proof on the server: refused
            log.warning("details asked with an ok slot but no server-side proof (crafted tracker?)")
            dispatcher.utter_message(text=NOT_PROVED)
        # --- end issue 13
        return events


class ActionDossierSubscribe(Action):
    """Record the citizen's consent to status messages for the dossier just shown."""

    def name(self) -> Text:
        return "action_dossier_subscribe"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        code = tracker.get_slot("last_dossier_code")
        if not code:
            dispatcher.utter_message(text="Anh/chị vui lòng gửi mã hồ sơ để tôi tra cứu trước nhé.")
            return []
        try:
            dossier = await get_backend().get(code)
            status = dossier.status.value if dossier else ""
            await subscriptions().subscribe(tracker.sender_id, _channel(tracker), code, status)
        except Exception:
            log.exception("subscription failed")
            dispatcher.utter_message(text="Xin lỗi, tôi chưa ghi nhận được yêu cầu. Anh/chị vui lòng thử lại sau.")
            return []
        dispatcher.utter_message(
            text=f"Đã ghi nhận. Khi hồ sơ {code} thay đổi trạng thái, tôi sẽ nhắn cho anh/chị qua kênh này "
                 "(trong thời gian nền tảng cho phép gửi tin).")
        return []


class ActionDossierStatusChanged(Action):
    """Triggered by the notifier: tell the citizen the new status of a dossier they follow."""

    def name(self) -> Text:
        return "action_dossier_status_changed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        codes = [e.get("value") for e in tracker.latest_message.get("entities", []) if e.get("entity") == "dossier_code"]
        code = codes[0] if codes else None
        if not code:
            return []
        try:
            dossier = await get_backend().get(code)
        except BackendUnavailable:
            return []  # the notifier retries on its next round
        if dossier:
            dispatcher.utter_message(text="Hồ sơ của anh/chị vừa được cập nhật.\n" + render_public_vi(dossier))
        return []
