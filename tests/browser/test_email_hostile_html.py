"""Hostile email HTML in a real browser: a mail received over real SMTP is shown in the agent workspace and
nothing in it runs (no script, handler or javascript: URL) and nothing remote loads (no tracking pixel).
"""

from __future__ import annotations

import smtplib
import time

import pytest

from tests.browser.conftest import sign_in
from tests.fakes.email import fixture, free_port
from threadline.conversations.models import Message
from threadline.core.models import Inbox
from threadline.mail.smtpd import make_listener

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_hostile_mail_runs_no_script_and_loads_nothing_remote(browser, live_app, workspace, agent_member):
    inbox = Inbox.objects.create(workspace=workspace, name="Mail", kind="email", config={"address": "support@acme.example"})
    inbox.agents.add(agent_member)
    port = free_port()
    listener = make_listener(f"127.0.0.1:{port}")
    listener.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.sendmail("mallory@evil.test", ["support@acme.example"], fixture("hostile_html.eml"))
    finally:
        listener.stop()
    deadline = time.monotonic() + 20
    while not (message := Message.objects.filter(inbox=inbox).first()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert message is not None, "the mail was not processed"

    page = browser.new_page()
    page.route("**/*", lambda route: route.abort() if "evil.test" in route.request.url else route.continue_())
    remote_requests, dialogs = [], []
    page.on("request", lambda request: remote_requests.append(request.url) if "evil.test" in request.url else None)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, live_app.url, agent_member.user.username)
    page.goto(f"{live_app.url}/conversations/{message.conversation_id}/")
    page.wait_for_selector("text=Please pay")
    page.click("text=Please pay")  # the stripped onclick handler must not fire
    page.click("text=invoice")  # the javascript: link must go nowhere
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert dialogs == []
    assert remote_requests == []
    assert page.locator("img[data-remote-src]").count() == 1  # the pixel is there, waiting for a click

    page.click("[data-load-remote]")  # the agent chooses to load remote images
    page.wait_for_timeout(500)
    assert any("evil.test" in url for url in remote_requests)
    assert page.locator("img[data-remote-src]").count() == 0
    page.close()
