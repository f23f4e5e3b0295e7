"""The demo workspace: agents, an API inbox and multilingual conversations, built through the real paths.

Customer messages enter exactly as a provider's would: a signed request is verified, stored as a raw
delivery and processed by the job. Running the seed twice changes nothing (it is keyed by names and
provider ids).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from threadline.connectors.api import signed_headers
from threadline.connectors.base import RawRequest
from threadline.conversations.delivery import channel_config
from threadline.conversations.models import Conversation
from threadline.conversations.canned import canned_response_save
from threadline.conversations.services import conversation_assign, message_reply, note_add
from threadline.conversations.triage import conversation_set_labels, conversation_set_priority, label_create
from threadline.core.models import Inbox, Membership, Role, Team, Workspace
from threadline.core.tokens import api_token_create
from threadline.ingest.services import delivery_store
from threadline.worker import run_pending_jobs

AGENTS = [
    # username, display name, role, languages
    ("admin", "Ada Admin", Role.OWNER, ["en"]),
    ("somchai", "Somchai", Role.AGENT, ["th", "en"]),
    ("giulia", "Giulia", Role.AGENT, ["it", "en"]),
    ("lukas", "Lukas", Role.SUPERVISOR, ["de", "en"]),
    ("aysel", "Aysel", Role.AGENT, ["az", "en"]),
]

# (customer id, name, language, messages in order)
CONVERSATIONS = [
    ("cust-anna", "Anna Müller", "de", [
        "Hallo, ich habe die Schuhe in Größe 39 bestellt, aber Größe 41 bekommen.",
        "Bestellnummer 10234. Kann ich sie umtauschen?",
    ]),
    ("cust-nok", "Nok Srisuk", "th", [
        "สวัสดีค่ะ สั่งรองเท้าไปเมื่อวาน อยากทราบว่าจะได้รับเมื่อไหร่คะ",
        "หมายเลขคำสั่งซื้อ 10311 ค่ะ",
    ]),
    ("cust-marco", "Marco Rossi", "it", [
        "Buongiorno, il pacco è arrivato danneggiato.",
        "Posso avere un rimborso o una sostituzione?",
    ]),
    ("cust-leyla", "Leyla Məmmədova", "az", [
        "Salam! Ayaqqabının ölçüsü kiçik gəldi, dəyişmək olar?",
    ]),
    ("cust-james", "James Carter", "en", [
        "Hi, do you ship to Canada? And how long does it take?",
    ]),
]


def _password_file():
    return settings.DATA_DIR / "demo-credentials.json"


def _credentials() -> dict:
    path = _password_file()
    if path.exists():
        return json.loads(path.read_text())
    creds = {"password": secrets.token_urlsafe(9)}
    path.write_text(json.dumps(creds))
    path.chmod(0o600)
    return creds


def demo_seed(*, base_url: str = "") -> None:
    """Create (once) the demo workspace and its conversations; replies go to the demo integration."""
    creds = _credentials()
    with transaction.atomic():
        workspace, created = Workspace.objects.get_or_create(
            slug="shoeshop", defaults={"name": "ShoeShop", "time_zone": "Europe/Berlin"}
        )
        members = {}
        User = get_user_model()
        for username, display, role, languages in AGENTS:
            user, user_created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@shoeshop.example"}
            )
            if user_created:
                user.set_password(creds["password"])
            if role == Role.OWNER:
                user.is_staff = user.is_superuser = True
            user.save()
            members[username], _ = Membership.objects.get_or_create(
                workspace=workspace, user=user, defaults={"role": role, "display_name": display, "languages": languages}
            )
        team, _ = Team.objects.get_or_create(workspace=workspace, name="Support")
        team.members.add(*members.values())
        inbox, inbox_created = Inbox.objects.get_or_create(
            workspace=workspace,
            name="ShoeShop app (API)",
            kind="api",
            defaults={"secrets": {"signing_secret": secrets.token_urlsafe(24)}, "default_team": team},
        )
        inbox.agents.add(*members.values())
        inbox.config = {"demo": True, "outbound_url": f"{base_url or settings.PUBLIC_URL}/demo/integration/{inbox.public_id}"}
        inbox.save(update_fields=["config"])
        if "api_token" not in creds:
            creds["api_token"] = api_token_create(membership=members["admin"], name="demo")
            _password_file().write_text(json.dumps(creds))
        _seed_channel_inboxes(workspace, team, members)
        from threadline.widget.demo import demo_widget_seed

        demo_widget_seed(workspace=workspace, team=team, members=list(members.values()))
        from threadline.knowledge.demo import knowledge_demo_seed

        knowledge_demo_seed(workspace)
        from threadline.bot.demo import bot_demo_seed

        bot_demo_seed(workspace)
        from threadline.webform.demo import webform_demo_seed

        webform_demo_seed(workspace=workspace, team=team, members=list(members.values()))
    if inbox_created:
        _seed_conversations(inbox, members)


# The demo's messaging channels. Their provider APIs are the demo's stand-in (see cli._demo_environment),
# so the secrets are random and the ids are made up; the customer simulator signs with the same secrets.
CHANNEL_INBOXES = [
    ("messenger", "ShoeShop on Messenger", {"page_id": "1000000000001"}),
    ("instagram", "ShoeShop on Instagram", {"instagram_account_id": "1700000000002"}),
    ("whatsapp", "ShoeShop on WhatsApp", {"phone_number_id": "1060000000003"}),
    ("telegram", "ShoeShop on Telegram", {}),
    ("sms", "ShoeShop SMS", {"account_sid": "AC" + "0" * 31 + "1", "from_number": "+15005550006"}),
]


def _seed_channel_inboxes(workspace: Workspace, team: Team, members: dict[str, Membership]) -> None:
    from threadline.core.services import inbox_create

    for kind, name, config in CHANNEL_INBOXES:
        if Inbox.objects.filter(workspace=workspace, kind=kind).exists():
            continue
        inbox = inbox_create(workspace=workspace, kind=kind, name=name, config=config)
        inbox.default_team = team
        inbox.save(update_fields=["default_team"])
        inbox.agents.add(*members.values())


CANNED = [
    ("hello", "Greeting", "Hi {{ contact.first_name }}, thanks for writing! I'm {{ agent.first_name }} and I'll help you."),
    ("umtausch", "Umtausch (DE)", "Hallo {{ contact.first_name }}, wir schicken Ihnen heute ein Rücksendeetikett. Viele Grüße, {{ agent.name }}"),
    ("rimborso", "Rimborso (IT)", "Ciao {{ contact.first_name }}, il rimborso arriverà entro 5 giorni lavorativi."),
    ("thanks-th", "ขอบคุณ (TH)", "ขอบคุณค่ะคุณ{{ contact.first_name }} เราจะตรวจสอบคำสั่งซื้อให้ทันทีค่ะ"),
    ("salam", "Salam (AZ)", "Salam {{ contact.first_name }}! Ölçünü dəyişmək üçün sizə etiket göndəririk."),
]


def _seed_conversations(inbox: Inbox, members: dict[str, Membership]) -> None:
    start = timezone.now() - dt.timedelta(hours=3)
    config = channel_config(inbox)
    for index, (customer, name, language, texts) in enumerate(CONVERSATIONS):
        for position, text in enumerate(texts):
            payload = {
                "type": "message",
                "id": f"demo-{customer}-{position}",
                "sent_at": (start + dt.timedelta(minutes=20 * index + 2 * position)).isoformat(),
                "contact": {"id": customer, "name": name, "language": language},
                "text": text,
            }
            body = json.dumps(payload, ensure_ascii=False).encode()
            headers = {k.lower(): v for k, v in signed_headers(config.secrets["signing_secret"], body, now=time.time()).items()}
            delivery_store(
                inbox=inbox,
                raw=RawRequest(method="POST", path=f"/webhooks/api/{inbox.public_id}", query={}, headers=headers, body=body),
            )
    run_pending_jobs()
    workspace = inbox.workspace
    labels = {name: label_create(workspace=workspace, name=name, color=color)
              for name, color in [("exchange", "#2f5bd3"), ("refund", "#b42318"), ("shipping", "#067647")]}
    for shortcut, title, body in CANNED:
        canned_response_save(workspace=workspace, shortcut=shortcut, title=title, body=body)
    topic = {"de": "exchange", "it": "refund", "th": "shipping", "az": "exchange", "en": "shipping"}
    by_language = {"de": "lukas", "th": "somchai", "it": "giulia", "az": "aysel"}
    for conversation in Conversation.objects.filter(inbox=inbox).select_related("contact"):
        conversation_set_labels(conversation=conversation, labels=[labels[topic[conversation.language]]], actor=None)
        if conversation.language == "it":
            conversation_set_priority(conversation=conversation, priority="high", actor=None)
        agent = members.get(by_language.get(conversation.language, ""))
        if agent is None:
            continue
        conversation_assign(conversation=conversation, assignee=agent, actor=members["admin"])
        if conversation.language == "de":
            note_add(conversation=conversation, text="@admin Umtausch genehmigt, Etikett folgt.", author=agent)
            message_reply(
                conversation=conversation,
                text="Hallo Anna, das tut uns leid! Wir schicken Ihnen heute ein Rücksendeetikett.",
                author=agent,
            )


def demo_base_url(*, host: str, port: int) -> str:
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"


def demo_welcome(*, host: str, port: int) -> str:
    creds = _credentials()
    base = demo_base_url(host=host, port=port)
    inbox = Inbox.objects.filter(workspace__slug="shoeshop", kind="api").first()
    lines = [
        "",
        "Threadline demo is starting.",
        f"  Sign in:      {base}/   user: admin   password: {creds['password']}",
        "                (agents somchai, giulia, lukas, aysel use the same password)",
        f"  Django admin: {base}/admin/   (superusers only)",
        f"  API docs:     {base}/api/docs",
        f"  API token:    {creds.get('api_token', '')}   (Authorization: Bearer …)",
        f"  Agent socket: ws://{base.removeprefix('http://')}/ws/agent/",
        f"  Customer simulator: {base}/demo/simulator/   (write as a customer on Messenger, WhatsApp, …)",
        f"  Website chat: {base}/demo/widget-test/   (a shop page with the live-chat widget)",
        f"  Help center:  {base}/help/shoeshop/   (knowledge base in en/th/it/de/az; agents edit it at {base}/knowledge/)",
    ]
    if inbox is not None:
        lines.append(f"  API inbox webhook: {base}/webhooks/api/{inbox.public_id}")
    lines.append(f"  Data directory: {settings.DATA_DIR}")
    return "\n".join(lines) + "\n"
