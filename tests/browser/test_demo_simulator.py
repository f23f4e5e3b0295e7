"""The demo as a user meets it: `threadline demo`, the customer simulator on each messaging channel, and an
agent answering in the browser; the reply goes out through the real connector to the demo's provider
stand-in and shows on the customer's side."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.test_cli_e2e import _clean_env, _free_port, _start, _stop, _wait_http

pytestmark = pytest.mark.slow

CHANNELS = [
    ("ShoeShop on Messenger", "demo-psid-1001", "Hallo, meine Schuhe sind zu klein"),
    ("ShoeShop on WhatsApp", "+393471234567", "Ciao, il pacco è arrivato rotto"),
    ("ShoeShop on Telegram", "7001", "สวัสดีค่ะ รองเท้ายังไม่มาถึง"),
    ("ShoeShop SMS", "+4915112345678", "Where is my order 10234?"),
    ("ShoeShop on Instagram", "demo-igsid-2002", "Salam! Ölçü kiçikdir"),
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo")
    port = _free_port()
    log = data / "demo.log"
    process = _start(["demo", "--port", str(port)], _clean_env(data), log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/demo/simulator/", process, log)
        password = json.loads((data / "demo-credentials.json").read_text())["password"]
        yield base, password
    finally:
        _stop(process)


@pytest.mark.parametrize("channel, customer, text", CHANNELS)
def test_customer_message_reaches_the_inbox_and_the_reply_reaches_the_customer(browser, demo_server, channel, customer, text, screenshot_dir):
    base, password = demo_server
    customer_page = browser.new_context().new_page()
    customer_page.goto(f"{base}/demo/simulator/")
    customer_page.select_option("#sim-inbox", label=channel)
    customer_page.fill("#sim-customer", customer)
    customer_page.click("aside button[type=submit]")
    customer_page.fill("#sim-text", text)
    customer_page.click("#sim-send")
    expect(customer_page.locator("#sim-timeline")).to_contain_text(text)

    agent = browser.new_context().new_page()
    agent.goto(f"{base}/accounts/login/")
    agent.fill("input[name=login]", "admin")
    agent.fill("input[name=password]", password)
    agent.click("button[type=submit]")
    row = agent.locator(".conversation-row", has_text=text[:20])
    expect(row).to_be_visible(timeout=15000)
    expect(row).to_contain_text(channel)
    row.click()
    reply = f"Reply on {channel}: we are on it"
    agent.fill("#composer-text", reply)
    agent.click("#send-button")
    expect(agent.locator(".msg-outbound").last).to_contain_text(re.compile("Sent|Delivered|Read"), timeout=45000)

    customer_page.reload()
    expect(customer_page.locator("#sim-timeline")).to_contain_text(reply, timeout=5000)
    if "WhatsApp" in channel:
        customer_page.screenshot(path=screenshot_dir / "demo-simulator-whatsapp.png", full_page=True)
    customer_page.context.close()
    agent.context.close()
