"""Evaluations repeat their application's department and matter and name who evaluated;
bad evaluations (差评, score 1 or 2) get their follow-up (差评整改).

Evaluations made before this migration are filled in from their applications, and the bad
ones get a follow-up due the configured number of working days from now (they were never
asked for one). A migration cannot read the working calendar through its app's service,
so here only weekends are skipped; from now on due times come from the calendar.
"""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.utils import timezone

import yiwang.core.crypto.fields


def _weekdays_after(start, days):
    moment = timezone.localtime(start)
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment.replace(hour=23, minute=59, second=59, microsecond=0)


def fill_in(apps, schema_editor):
    Application = apps.get_model("applications", "Application")
    Evaluation = apps.get_model("applications", "Evaluation")
    Rectification = apps.get_model("applications", "Rectification")
    of_app = Application.objects.filter(pk=OuterRef("application_id"))
    Evaluation.objects.update(
        department_code=Subquery(of_app.values("department_code")[:1]),
        matter_code=Subquery(of_app.values("matter_code")[:1]),
        matter_name=Subquery(of_app.values("matter_name")[:1]),
        evaluator_id=Subquery(of_app.values("applicant_id")[:1]))
    due = _weekdays_after(timezone.now(), settings.YIWANG_RECTIFICATION_WORKING_DAYS)
    bad = Evaluation.objects.filter(score__lte=2).values_list("pk", "department_code")
    Rectification.objects.bulk_create(
        [Rectification(evaluation_id=pk, department_code=code, due_at=due)
         for pk, code in bad.iterator()], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ('applications', '0003_fee_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Rectification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('department_code', models.CharField(max_length=32, verbose_name='责任部门')),
                ('state', models.CharField(choices=[('pending', '待整改'), ('done', '已整改')], default='pending', max_length=16, verbose_name='状态')),
                ('due_at', models.DateTimeField(verbose_name='整改期限')),
                ('action_taken', yiwang.core.crypto.fields.EncryptedTextField(blank=True, default='', verbose_name='整改情况')),
                ('reply', yiwang.core.crypto.fields.EncryptedTextField(blank=True, default='', verbose_name='答复内容')),
                ('handled_at', models.DateTimeField(blank=True, null=True, verbose_name='整改时间')),
                ('row_version', models.PositiveIntegerField(default=1, verbose_name='版本号')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
            options={
                'ordering': ['due_at', 'id'],
            },
        ),
        migrations.AlterModelOptions(
            name='evaluation',
            options={'ordering': ['-created_at', '-id']},
        ),
        migrations.AddField(
            model_name='evaluation',
            name='department_code',
            field=models.CharField(blank=True, max_length=32, verbose_name='受理部门'),
        ),
        migrations.AddField(
            model_name='evaluation',
            name='evaluator',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='评价人'),
        ),
        migrations.AddField(
            model_name='evaluation',
            name='matter_code',
            field=models.CharField(blank=True, max_length=64, verbose_name='事项编码'),
        ),
        migrations.AddField(
            model_name='evaluation',
            name='matter_name',
            field=models.CharField(blank=True, max_length=128, verbose_name='事项名称'),
        ),
        migrations.AddIndex(
            model_name='evaluation',
            index=models.Index(fields=['department_code', '-created_at'], name='applications_eval_dept_idx'),
        ),
        migrations.AddField(
            model_name='rectification',
            name='evaluation',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='rectification', to='applications.evaluation'),
        ),
        migrations.AddField(
            model_name='rectification',
            name='handled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='整改人'),
        ),
        migrations.AddIndex(
            model_name='rectification',
            index=models.Index(fields=['department_code', 'state', 'due_at'], name='applications_rectify_idx'),
        ),
        migrations.RunPython(fill_in, migrations.RunPython.noop),
    ]
