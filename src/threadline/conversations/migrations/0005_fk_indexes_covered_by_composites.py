"""Drop the foreign-key indexes of the message and conversation tables that duplicate the leading column of a
composite index or that no query reads (docs/performance.md, "Slow spots", item 8), and add the index behind
the "mine" filters (item 9).

Only the indexes go: ``AlterField(db_index=False)`` would also drop and re-add each foreign-key constraint
(PostgreSQL re-validates it with a scan of the whole table under an exclusive lock) and, on SQLite, rebuild the
table once per field. So the field changes are recorded in the migration state only, and the database drops
the indexes by the names Django gave them (``DROP INDEX IF EXISTS`` on both backends; reversible).
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, the index Django created for the foreign key)
DROPPED = [
    ("conversations_message", "conversation_id", "conversations_message_conversation_id_f1a2d5e9"),
    ("conversations_message", "workspace_id", "conversations_message_workspace_id_612c5d6f"),
    ("conversations_message", "inbox_id", "conversations_message_inbox_id_a4bcfcc2"),
    ("conversations_message", "author_id", "conversations_message_author_id_3d2a10d9"),
    ("conversations_conversation", "contact_id", "conversations_conversation_contact_id_000135ab"),
    ("conversations_conversation", "workspace_id", "conversations_conversation_workspace_id_38020c4d"),
    ("conversations_conversation", "inbox_id", "conversations_conversation_inbox_id_c97f6da0"),
    ("conversations_conversation", "team_id", "conversations_conversation_team_id_c9f144f2"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0003_identityverification'),
        ('conversations', '0004_merges_and_threading'),
        ('core', '0002_membership_ui_language'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='conversation',
                    name='contact',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='conversation',
                    name='inbox',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='conversations', to='core.inbox'),
                ),
                migrations.AlterField(
                    model_name='conversation',
                    name='team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='conversations', to='core.team'),
                ),
                migrations.AlterField(
                    model_name='conversation',
                    name='workspace',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='core.workspace'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='author',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='core.membership'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='conversation',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='conversations.conversation'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='inbox',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='core.inbox'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='workspace',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.workspace'),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(fields=['workspace', 'assignee', 'status', '-last_activity_at', '-id'], name='conversation_assignee_idx'),
        ),
    ]
