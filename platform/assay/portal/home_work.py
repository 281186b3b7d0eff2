"""What "My projects" shows per project: my role and the work waiting for me there.

One annotated query for the projects (role, my drafts sent back for changes, my jobs
queued or running) after the review queue's own question, "which open reviews could I
decide now?" (``ReviewQuerySet.awaiting``, the same rules as the queue and the decision):
that answer is a list of ids, which the projects query then counts per project.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from assay.generation.choices import JobStatus
from assay.generation.models import GenerationJob
from assay.studio.models import Membership, Project
from governance.review.choices import ReviewStatus
from governance.review.models import Review


def _count(rows: QuerySet) -> Coalesce:
    counted = rows.order_by().values("project_id").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def projects_with_work(user: Any) -> QuerySet[Project]:
    """Visible projects with ``my_role``, ``awaiting_me``, ``sent_back`` and ``running``."""
    awaiting = list(Review.objects.awaiting(user).values_list("pk", flat=True))
    here = {"project_id": OuterRef("pk")}
    my_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return (Project.objects.visible_to(user).select_related("team").annotate(
        my_role=Subquery(my_role),
        awaiting_me=_count(Review.objects.filter(pk__in=awaiting, **here)),
        sent_back=_count(Review.objects.of_creator(user).filter(
            status=ReviewStatus.CHANGES_REQUESTED, **here)),
        running=_count(GenerationJob.objects.filter(
            requested_by=user, status__in=(JobStatus.QUEUED, JobStatus.RUNNING), **here)),
    ))
