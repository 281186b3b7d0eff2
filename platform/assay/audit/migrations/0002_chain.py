"""Hash-chain columns, canonical data text, filter indexes, signed checkpoints."""

import json
from typing import Any

from django.db import migrations, models

import assay.audit.fields


def canonicalise_data(apps: Any, schema_editor: Any) -> None:
    """Rewrite existing events' data as canonical text (sorted keys, no whitespace).

    Before this migration the column was JSON (jsonb on PostgreSQL), whose text form is
    not the canonical one the chain hashes; these rows are still unsealed.
    """
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, data FROM audit_auditevent")
        rows = cursor.fetchall()
        for pk, raw in rows:
            value = json.loads(raw) if isinstance(raw, str) else raw
            text = assay.audit.fields.canonical_json(value if value is not None else {})
            if text != raw:
                cursor.execute("UPDATE audit_auditevent SET data = %s WHERE id = %s", [text, pk])


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='Checkpoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seq', models.BigIntegerField()),
                ('head_hash', models.CharField(max_length=64)),
                ('created_at', models.DateTimeField()),
                ('key_id', models.CharField(max_length=16)),
                ('signature', models.CharField(max_length=64)),
                ('file_name', models.CharField(max_length=200)),
            ],
            options={
                'ordering': ('seq', 'id'),
            },
        ),
        migrations.RemoveIndex(
            model_name='auditevent',
            name='audit_audit_target__59bbff_idx',
        ),
        migrations.AddField(
            model_name='auditevent',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='sealed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='action',
            field=models.CharField(max_length=100),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor_user_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='data',
            field=assay.audit.fields.CanonicalJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(canonicalise_data, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name='auditevent',
            name='correlation_id',
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='project_id',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['action', 'id'], name='audit_action_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['actor_user_id', 'id'], name='audit_actor_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['project_id', 'id'], name='audit_project_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['target_type', 'target_id', 'id'], name='audit_target_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(fields=['correlation_id', 'id'], name='audit_correlation_id_idx'),
        ),
        migrations.AddIndex(
            model_name='auditevent',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
    ]
