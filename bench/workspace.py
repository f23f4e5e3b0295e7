"""The small tables of a benchmark workspace: the workspace, agents, teams, inboxes and API tokens.

Built through the ORM (a few hundred rows at most), so they follow the models as they change. The
generator adds the large tables on top with COPY. Run as a module against the database named by the
environment to get a minimal workspace for the ingestion and socket scenarios::

    DATABASE_URL=… THREADLINE_DATA=… python -m bench.workspace   # prints JSON: token, inbox id and secret
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

# Inbox names of the channel mix. Only the "api" channel kind exists so far, so every inbox is an API
# inbox named after the channel it stands in for; the weights are the share of conversations it gets.
CHANNEL_MIX = (
    ("Email · support@shoeshop.example", 30),
    ("Website live chat", 25),
    ("WhatsApp · +39 02 1234 5678", 15),
    ("Facebook Messenger · ShoeShop", 10),
    ("Instagram · @shoeshop", 7),
    ("Telegram · @shoeshop_bot", 5),
    ("SMS · +44 7700 900123", 5),
    ("Web form · returns", 3),
)

TEAMS = (("English desk", "en"), ("Thai desk", "th"), ("Italia", "it"), ("DACH", "de"), ("Azərbaycan", "az"))


def django_setup(*, database_url: str | None = None, data_dir: str | None = None) -> None:
    """Point Django at the benchmark database (before settings are read) and set it up."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    if data_dir:
        os.environ["THREADLINE_DATA"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "threadline.settings")
    import django

    django.setup()


@dataclass
class SmallTables:
    workspace_id: int
    agent_ids: list[int]          # memberships, owner first
    agent_languages: dict[int, list[str]]
    team_ids: dict[str, int]      # language → team
    inbox_ids: list[int]          # in CHANNEL_MIX order
    inbox_weights: list[int]
    inbox_agents: dict[int, list[int]]  # inbox → memberships with access (besides owners and admins)


def build_small_tables(*, agents: int, slug: str = "bench") -> SmallTables:
    """Create the workspace, ``agents`` agents (1 owner, 2 admins, supervisors, agents), teams and inboxes."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from threadline.core.models import Inbox, Membership, Role, Team, Workspace

    workspace = Workspace.objects.create(name="ShoeShop (bench)", slug=slug, time_zone="Europe/Berlin")
    User = get_user_model()
    password = make_password(None)  # unusable: benchmark agents sign in with API tokens only
    users = User.objects.bulk_create(
        User(username=f"{slug}-agent-{i}", email=f"agent{i}@shoeshop.example", password=password)
        for i in range(agents)
    )
    languages = [code for _, code in TEAMS]
    memberships = Membership.objects.bulk_create(
        Membership(
            workspace=workspace, user=user, role=_role(i, Role), display_name=f"Agent {i}",
            languages=["en", languages[i % len(languages)]] if i % len(languages) else ["en"], capacity=5,
        )
        for i, user in enumerate(users)
    )
    teams = {code: Team.objects.create(workspace=workspace, name=name) for name, code in TEAMS}
    for i, membership in enumerate(memberships):
        teams[languages[i % len(languages)]].members.add(membership)
    inboxes = [
        Inbox.objects.create(workspace=workspace, name=name, kind="api", default_team=teams["en"],
                             secrets={"signing_secret": secrets.token_urlsafe(24)})
        for name, _ in CHANNEL_MIX
    ]
    inbox_agents = _grant_inbox_access(inboxes, memberships)
    return SmallTables(
        workspace_id=workspace.pk,
        agent_ids=[m.pk for m in memberships],
        agent_languages={m.pk: m.languages for m in memberships},
        team_ids={code: team.pk for code, team in teams.items()},
        inbox_ids=[inbox.pk for inbox in inboxes],
        inbox_weights=[weight for _, weight in CHANNEL_MIX],
        inbox_agents=inbox_agents,
    )


def _role(index: int, Role) -> str:
    if index == 0:
        return Role.OWNER
    if index <= 2:
        return Role.ADMIN
    if index % 10 == 3:
        return Role.SUPERVISOR
    return Role.AGENT


def _grant_inbox_access(inboxes, memberships) -> dict[int, list[int]]:
    """Each non-admin agent works three of the inboxes (so agents see different slices of the list)."""
    access: dict[int, list[int]] = {inbox.pk: [] for inbox in inboxes}
    for i, membership in enumerate(memberships):
        if membership.sees_every_inbox:
            continue
        for k in range(3):
            inbox = inboxes[(i + k) % len(inboxes)]
            inbox.agents.add(membership)
            access[inbox.pk].append(membership.pk)
    return access


def token_for(membership_id: int, name: str = "bench") -> str:
    from threadline.core.models import Membership
    from threadline.core.tokens import api_token_create

    return api_token_create(membership=Membership.objects.get(pk=membership_id), name=name)


def minimal_workspace() -> dict:
    """One workspace, its owner, one API inbox: what the ingestion and socket scenarios need."""
    from threadline.core.models import Inbox

    tables = build_small_tables(agents=3, slug=f"bench-{secrets.token_hex(3)}")
    inbox = Inbox.objects.get(pk=tables.inbox_ids[0])
    return {
        "workspace_id": tables.workspace_id,
        "token": token_for(tables.agent_ids[0]),
        "inbox_id": inbox.pk,
        "public_id": inbox.public_id,
        "secret": inbox.secrets["signing_secret"],
    }


if __name__ == "__main__":
    django_setup()
    print(json.dumps(minimal_workspace()))
