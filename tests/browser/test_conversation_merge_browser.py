"""The conversation page's identity and merge actions in a real browser: verify an email by a code that goes
out over real SMTP and comes back through the signed webhook, merge two conversations, split one."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_agent_workspace import post_webhook, seed_conversation
from tests.conftest import message_payload
from tests.fakes.email import SmtpSink
from threadline.contacts.models import IdentityVerification
from threadline.conversations import services
from threadline.conversations.models import Conversation, Message, Status
from threadline.core.models import Inbox

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def wait_for(check, what: str, seconds: float = 15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def keep_draft(page) -> None:
    """A draft in the composer: live status/assignment events then refresh the timeline instead of reloading
    the page (live.js never discards what an agent is writing), so they cannot race the test's clicks."""
    page.fill("#composer-text", "(draft)")


def test_verify_email_merge_and_split_on_the_conversation_page(browser, live_app, api_inbox, agent_member, screenshot_dir):
    with SmtpSink() as sink:
        email_inbox = Inbox.objects.create(
            workspace=api_inbox.workspace, name="Support mail", kind="email",
            config={"address": "support@shoes.example", "smtp_host": "127.0.0.1", "smtp_port": sink.port,
                    "smtp_security": "none"},
        )
        email_inbox.agents.add(agent_member)
        first = seed_conversation(live_app, api_inbox, "m-1", text="The shoes are too small")
        services.conversation_set_status(conversation=first, status=Status.RESOLVED, actor=None)
        second = seed_conversation(live_app, api_inbox, "m-2", text="Hello again, any news?")
        assert second.pk != first.pk

        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        sign_in(page, live_app.url, "bruno")
        page.goto(f"{live_app.url}/conversations/{second.pk}/")
        keep_draft(page)
        page.fill("#verify-value", "Anna@Example.org")
        with page.expect_navigation():  # the form posts and redirects; live updates must not race it
            page.click("#verify-send")
        expect(page.locator("#pending-verification")).to_contain_text("anna@example.org")
        expect(page.locator("#timeline")).to_contain_text("sent a verification code by email to a…@e….org")
        page.screenshot(path=str(screenshot_dir / "identity-code-sent.png"), full_page=True)

        mail = email.message_from_bytes(wait_for(lambda: sink.captured, "the code mail")[0].data,
                                        policy=email.policy.default)
        code = re.search(r"\b(\d{6})\b", mail.get_body(preferencelist=("plain",)).get_content()).group(1)
        post_webhook(live_app, api_inbox, message_payload("m-3", text=f"my code: {code}",
                                                          sent_at=dt.datetime.now(dt.UTC).isoformat()))
        wait_for(lambda: IdentityVerification.objects.filter(state="verified").exists(), "the verification")

        page.reload()
        expect(page.locator("#identity-card")).to_contain_text("verified, no need to ask again")
        expect(page.locator("#timeline")).to_contain_text("The customer confirmed a…@e….org with the code")
        expect(page.locator("#verify-kind option")).to_have_count(1)  # only the phone is left to ask for
        page.screenshot(path=str(screenshot_dir / "identity-verified.png"), full_page=True)

        page.goto(f"{live_app.url}/conversations/{first.pk}/")
        keep_draft(page)
        page.fill("#merge-conversation", str(second.pk))
        with page.expect_navigation():  # the form posts and redirects; live updates must not race it
            page.click("#merge-button")
        expect(page.locator("#timeline")).to_contain_text(f"merged conversation #{second.pk} into this one")
        expect(page.locator("#timeline")).to_contain_text("Hello again, any news?")
        page.screenshot(path=str(screenshot_dir / "conversation-merged.png"), full_page=True)

        keep_draft(page)  # the merge reopened #1: its status events must not reload the page under the next click
        split_from = Message.objects.get(provider_id="m-2")
        page.select_option("#split-message", str(split_from.pk))
        with page.expect_navigation():  # the form posts and redirects; live updates must not race it
            page.click("#split-button")
        new = wait_for(lambda: Conversation.objects.filter(pk__gt=second.pk).first(), "the split")
        assert page.url.endswith(f"/conversations/{new.pk}/")
        page.screenshot(path=str(screenshot_dir / "conversation-split.png"), full_page=True)
        expect(page.locator("#timeline")).to_contain_text(f"split this conversation from #{first.pk}")
        inbound = Message.objects.filter(conversation=new, direction="inbound")
        assert set(inbound.values_list("provider_id", flat=True)) == {"m-2", "m-3"}
        page.screenshot(path=str(screenshot_dir / "conversation-split.png"), full_page=True)

        page.goto(f"{live_app.url}/conversations/{second.pk}/")
        expect(page.locator("#merged-banner")).to_contain_text(f"merged into #{first.pk}")
        page.close()
