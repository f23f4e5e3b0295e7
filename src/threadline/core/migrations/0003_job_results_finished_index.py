"""An index for pruning finished job results (``threadline.worker.job_results_prune``).

The job table belongs to django-tasks-db; it has no index on ``finished_at``, so the prune would scan every
row on each scheduler pass. Partial (only finished rows are in it), so running jobs pay nothing for it.
"""

from django.db import migrations

TABLE = "django_tasks_database_dbtaskresult"
INDEX = "threadline_job_finished_idx"


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0002_membership_ui_language"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "{TABLE}" ("finished_at") WHERE "finished_at" IS NOT NULL',
            reverse_sql=f'DROP INDEX IF EXISTS "{INDEX}"',
        ),
    ]
