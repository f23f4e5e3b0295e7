"""Web form services: accept a visitor's submission, confirm it by email, and edit a form's settings.

A submission that passes the spam checks is signed with the inbox's ``form_secret`` and stored as a raw
delivery *before* the visitor sees "thank you"; from there the common ingest path (``delivery_process`` →
``message_receive``) opens the conversation, exactly as for a provider webhook, with retries. The form's
nonce names the delivery and the message, so a double submit is stored once.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from threadline.connectors.base import RawRequest
from threadline.connectors.webform import SIGNATURE_HEADER, sign
from threadline.conversations.models import AuthorKind, Conversation, Direction, Message
from threadline.conversations.services import ConversationError, message_reply
from threadline.core.models import Inbox
from threadline.core.services import SettingsError, inbox_update
from threadline.ingest.models import RawDelivery
from threadline.ingest.services import delivery_store
from threadline.webform import guard
from threadline.webform.forms import VisitorForm
from threadline.webform.spec import FormSpec, SpecError, spec_from_config

logger = logging.getLogger(__name__)

CONFIRMATION_CLIENT_ID = "webform-confirmation"


class Outcome:
    STORED = "stored"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    HONEYPOT = "honeypot"
    FORGED = "forged"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"
    RATE_LIMITED = "rate_limited"


# HTTP status the page answers with for each outcome.
STATUS = {
    Outcome.STORED: 200, Outcome.DUPLICATE: 200, Outcome.INVALID: 400, Outcome.HONEYPOT: 400,
    Outcome.FORGED: 400, Outcome.TOO_FAST: 400, Outcome.EXPIRED: 200, Outcome.RATE_LIMITED: 429,
}


@dataclass
class SubmitResult:
    outcome: str
    form: VisitorForm | None = None
    message: str = ""
    delivery_id: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.outcome in (Outcome.STORED, Outcome.DUPLICATE)

    @property
    def status(self) -> int:
        return STATUS[self.outcome]


def webform_spec(inbox: Inbox) -> FormSpec:
    """The inbox's form; a broken configuration falls back to the default form rather than no form."""
    try:
        return spec_from_config(inbox.config)
    except SpecError:
        logger.warning("webform inbox=%s has an invalid configuration; showing the default form", inbox.pk)
        return FormSpec()


def webform_blank(*, inbox: Inbox, data=None) -> VisitorForm:
    """A form to show, with a fresh timing token (and the visitor's earlier input, if given)."""
    token = guard.token_issue(secret=inbox.secrets.get("form_secret", ""), inbox_id=inbox.pk)
    initial = {guard.TOKEN_FIELD: token}
    if data is not None:
        kept = {key: data.get(key) for key in data if key not in (guard.TOKEN_FIELD, guard.HONEYPOT_FIELD)}
        initial.update(kept)
    return VisitorForm(webform_spec(inbox), initial=initial)


def webform_submit(*, inbox: Inbox, data, files, client_ip: str, language: str) -> SubmitResult:
    """Check a submission against the spam guards and store it durably, once.

    A worker then processes the stored delivery (ingest.services.deliveries_drain), which opens the conversation.
    """
    if guard.ip_over_limit(inbox_id=inbox.pk, ip=client_ip):
        logger.info("webform inbox=%s refused: rate limit (ip)", inbox.pk)
        return SubmitResult(Outcome.RATE_LIMITED, message=_("Too many messages were sent from your connection. "
                                                            "Please try again in an hour."))
    if (data.get(guard.HONEYPOT_FIELD) or "").strip():
        logger.info("webform inbox=%s refused: honeypot", inbox.pk)
        return SubmitResult(Outcome.HONEYPOT, message=_("Your message was not sent: it looks like it was filled in "
                                                        "automatically. If you are a person, please reload the page "
                                                        "and try again."))
    secret = inbox.secrets.get("form_secret", "")
    check = guard.token_check(data.get(guard.TOKEN_FIELD, ""), secret=secret, inbox_id=inbox.pk)
    if check.state == guard.Verdict.FORGED:
        logger.info("webform inbox=%s refused: forged or missing token", inbox.pk)
        return SubmitResult(Outcome.FORGED, message=_("This form could not be verified. Please reload the page and "
                                                      "send your message again."))
    if check.state == guard.Verdict.TOO_FAST:
        logger.info("webform inbox=%s refused: submitted too fast", inbox.pk)
        return SubmitResult(Outcome.TOO_FAST, form=webform_blank(inbox=inbox, data=data),
                            message=_("That was sent faster than a person can fill in the form, so it was not "
                                      "accepted. Please check your message and send it again."))
    if check.state == guard.Verdict.EXPIRED:
        return SubmitResult(Outcome.EXPIRED, form=webform_blank(inbox=inbox, data=data),
                            message=_("This form was open for a long time. Please check your message and send it "
                                      "again."))
    form = VisitorForm(webform_spec(inbox), data, files)
    if not form.is_valid():  # shown again with the same token: the time the visitor spent still counts
        return SubmitResult(Outcome.INVALID, form=form, message=_("Please correct the marked fields."))
    email = form.cleaned_data["email"]
    if guard.email_over_limit(inbox_id=inbox.pk, email=email):
        logger.info("webform inbox=%s refused: rate limit (email)", inbox.pk)
        return SubmitResult(Outcome.RATE_LIMITED, message=_("Too many messages were sent for this email address. "
                                                            "Please try again in an hour."))
    return _store(inbox, form, nonce=check.nonce, language=language)


def _submission_body(form: VisitorForm, *, nonce: str, language: str) -> bytes:
    cleaned = form.cleaned_data
    payload = {
        "id": nonce,
        "submitted_at": timezone.now().isoformat(),
        "language": language,
        "name": cleaned.get("name") or "",
        "email": cleaned["email"],
        "subject": cleaned.get("subject") or "",
        "message": cleaned.get("message") or "",
        "fields": [{"label": label, "value": value} for label, value in form.custom_values()],
        "attachments": [
            {"filename": f.filename, "content_type": f.content_type, "content": base64.b64encode(f.content).decode()}
            for f in cleaned.get("attachments") or []
        ],
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def _store(inbox: Inbox, form: VisitorForm, *, nonce: str, language: str) -> SubmitResult:
    body = _submission_body(form, nonce=nonce, language=language)
    raw = RawRequest(
        method="POST",
        path=f"/forms/{inbox.public_id}/{nonce}",
        query={},
        headers={"content-type": "application/json", SIGNATURE_HEADER: sign(inbox.secrets.get("form_secret", ""), body)},
        body=body,
    )
    with transaction.atomic():
        # One submitter at a time per form: the duplicate check and the insert must not interleave.
        Inbox.objects.select_for_update().filter(pk=inbox.pk).first()
        existing = RawDelivery.objects.filter(inbox=inbox, path=raw.path).values_list("pk", flat=True).first()
        if existing is not None:
            return SubmitResult(Outcome.DUPLICATE, delivery_id=existing)
        delivery = delivery_store(inbox=inbox, raw=raw)
    logger.info("webform inbox=%s stored delivery=%s", inbox.pk, delivery.pk)
    return SubmitResult(Outcome.STORED, delivery_id=delivery.pk)


# --- Confirmation email ---------------------------------------------------------------------------------


def webform_confirm(*, conversation_id: int) -> str:
    """Send the submitter a confirmation of a new web form conversation, by email, once.

    The confirmation is an automatic reply in the conversation (the agent sees it in the timeline); it goes
    out through the web form connector with the linked email inbox's reply token, so the visitor's answer
    threads back here. Publishes: MessageCreated. Enqueues: conversations.tasks.deliver_message.
    """
    conversation = Conversation.objects.select_related("inbox").filter(pk=conversation_id).first()
    if conversation is None:
        return "missing"
    submission = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND, meta__has_key="webform")
        .order_by("id")
        .first()
    )
    if submission is None:
        return "not a submission"  # e.g. an agent opened a conversation on the web form inbox
    spec = webform_spec(submission.inbox)
    if not spec.can_reply:
        return "no email link"
    with override(conversation.language or None):
        text = _("Thank you for your message. We have received it and will answer you by email as soon as we can. "
                 "To add anything, simply reply to this email.")
        if submission.text:
            text += "\n\n" + _("Your message:") + "\n" + "\n".join(f"> {line}" for line in submission.text.splitlines())
    try:
        message_reply(
            conversation=conversation, text=text, author=None, author_kind=AuthorKind.SYSTEM,
            inbox=submission.inbox, client_id=CONFIRMATION_CLIENT_ID,
        )
    except ConversationError as error:
        logger.info("webform confirmation for conversation=%s not sent: %s", conversation.pk, type(error).__name__)
        return "refused"
    return "queued"


# --- Settings -------------------------------------------------------------------------------------------


def webform_settings_save(*, inbox: Inbox, spec: FormSpec, email_inbox: Inbox | None) -> Inbox:
    """Store a form's fields and its linked email inbox in ``Inbox.config["webform"]`` (via inbox_update)."""
    if email_inbox is not None:
        if email_inbox.workspace_id != inbox.workspace_id:
            raise SettingsError(_("That email inbox belongs to another workspace."))
        address = str(email_inbox.config.get("address") or "")
        if "@" not in address:
            raise SettingsError(_("The chosen email inbox has no email address yet."))
        spec = FormSpec(**{**spec.__dict__, "email_inbox_id": email_inbox.pk, "email_address": address,
                           "from_name": spec.from_name or str(email_inbox.config.get("from_name") or inbox.name)})
    else:
        spec = FormSpec(**{**spec.__dict__, "email_inbox_id": None, "email_address": ""})
    try:
        spec_from_config({"webform": spec.to_config()})  # the stored form must read back
    except SpecError as error:
        raise SettingsError(str(error)) from None
    return inbox_update(
        inbox=inbox,
        name=inbox.name,
        config={"webform": spec.to_config()},
        state=inbox.state,
        default_team=inbox.default_team,
        agent_ids=list(inbox.agents.values_list("pk", flat=True)),
    )
