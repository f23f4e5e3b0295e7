"""The demo's web form (``threadline demo``): a contact form linked to a support mailbox for its replies.

The mailbox takes mail through the in-process SMTP listener (so a visitor's email answer threads back), and
without ``THREADLINE_SMTP_HOST`` the confirmation and replies land in ``<data>/outbox``.
"""

from __future__ import annotations

from threadline.core.models import Inbox, Membership, Team, Workspace

DEMO_FORM_NAME = "ShoeShop contact form"
DEMO_MAILBOX_NAME = "ShoeShop support mail"
DEMO_ADDRESS = "support@shoeshop.example"


def webform_demo_seed(*, workspace: Workspace, team: Team | None, members: list[Membership]) -> Inbox:
    """Create (once) the demo's support mailbox and its contact form, with every demo agent on both."""
    from threadline.core.services import inbox_create
    from threadline.webform.services import webform_settings_save
    from threadline.webform.spec import CustomField, FormSpec

    mailbox = Inbox.objects.filter(workspace=workspace, kind="email").order_by("id").first()
    if mailbox is None:
        mailbox = inbox_create(workspace=workspace, kind="email", name=DEMO_MAILBOX_NAME,
                               config={"address": DEMO_ADDRESS, "from_name": "ShoeShop Support"})
    form = Inbox.objects.filter(workspace=workspace, kind="webform").order_by("id").first()
    if form is None:
        form = inbox_create(workspace=workspace, kind="webform", name=DEMO_FORM_NAME)
        spec = FormSpec(
            title="Contact ShoeShop",
            custom=(CustomField(key="order", label="Order number", type="text"),
                    CustomField(key="topic", label="Topic", type="select",
                                options=("Size or exchange", "Delivery", "Refund", "Other"), required=True)),
        )
        for inbox in (mailbox, form):
            inbox.default_team = team
            inbox.save(update_fields=["default_team"])
            inbox.agents.add(*members)
        form = webform_settings_save(inbox=form, spec=spec, email_inbox=mailbox)
    return form
