"""Twilio REST error answers (``{"code": 21610, "message": …, "status": 400}``) mapped to SendError.

Known codes get plain words and what to do (CHANNELS.md §3.3); the rest keep Twilio's own message.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from threadline.connectors import http
from threadline.connectors.base import SendError, WindowClosedError

AUTH_FAILED = 20003
WINDOW_CLOSED = (63016, 63039)  # WhatsApp / Messenger-via-Twilio free-form outside the 24-hour window
RATE_LIMITED = 20429


def _plain_words(code: int) -> str | None:
    return {
        21211: _("The customer's number is not a valid phone number."),
        21408: _("Sending to this country is not enabled on the Twilio account. An admin can enable it in "
                 "Twilio's geo permissions."),
        21610: _("The customer replied STOP and has opted out of messages from this number. They must reply "
                 "START before you can write to them; reply on another channel."),
        21614: _("The customer's number cannot receive text messages (it is not a mobile number)."),
        21617: _("The message is longer than 1600 characters, the most Twilio sends. Shorten it or split it."),
    }.get(code)


def raise_for_twilio_error(response) -> None:
    """Return for 2xx; otherwise raise the SendError that Twilio's code and HTTP status call for."""
    status = response.status_code
    if 200 <= status < 300:
        return
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    code = answer.get("code") if isinstance(answer, dict) else None
    if code in WINDOW_CLOSED:
        raise WindowClosedError(_("The 24-hour window is closed: free-form messages are refused. Send an "
                                  "approved template instead."))
    if code == AUTH_FAILED or status == 401:
        raise SendError(_("Twilio rejected the account SID or auth token. An admin must update the inbox's "
                          "credentials."), transient=False, auth_failed=True)
    if code == RATE_LIMITED or status == 429 or status >= 500:
        raise SendError(
            _("Twilio is busy or rate limiting this account; the message will be retried."),
            transient=True,
            retry_after=http.retry_after_seconds(response),
        )
    words = _plain_words(code) if isinstance(code, int) else None
    if words is None:
        message = str(answer.get("message", "")) if isinstance(answer, dict) else ""
        words = _("Twilio refused the message (error {code}): {message}").format(
            code=code or status, message=message[:200] or _("no reason given")
        )
    raise SendError(words, transient=False)
