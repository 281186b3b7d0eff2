"""The queue-depth view KEDA scales GPU workers on, and the partial index behind it.

``assay_queue_depth`` has one row per queue with unfinished jobs: how many are queued and
how many are running. Counting running jobs is the point: a worker busy with a job keeps
its pod counted, so a scale-down never picks a pod with work in hand. The autoscaler's
read-only role may read this view and nothing else (``manage.py grant_scaler_access``),
so it never sees prompts or outputs.
"""

from django.db import migrations, models

VIEW = """
CREATE VIEW assay_queue_depth AS
SELECT queue,
       SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END) AS queued,
       SUM(CASE WHEN status = 'running' THEN 1 ELSE 0 END) AS running
FROM studio_generationjob
WHERE status IN ('queued', 'running')
GROUP BY queue
"""


class Migration(migrations.Migration):

    dependencies = [
        ('generation', '0003_generationjob_revision_of'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='generationjob',
            index=models.Index(condition=models.Q(('status__in', ('queued', 'running'))),
                               fields=['queue', 'status'], name='job_active_by_queue'),
        ),
        migrations.RunSQL(VIEW, reverse_sql="DROP VIEW assay_queue_depth"),
    ]
