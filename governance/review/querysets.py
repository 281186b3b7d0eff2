"""Read and permission logic for reviews: what is awaiting whom, through the same rules
that the decision action enforces (``governance.review.rules``).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import NotSupportedError
from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from assay.studio.models import Membership
from assay.studio.querysets import ProjectScopedQuerySet
from governance.review.choices import DUE_SOON_HOURS, CheckState, ReviewStatus
from governance.review.rules import DECIDE_RULES, ReviewFacts, first_refusal

#: Finished states that count as "decided" (a superseded review was never decided).
DECIDED = (ReviewStatus.APPROVED, ReviewStatus.REJECTED, ReviewStatus.CHANGES_REQUESTED)


#: A stage without ``due_hours`` is due this many hours after it started (as the policy's
#: default stage and the review page's due time say).
DEFAULT_DUE_HOURS = 48


def _compiled(compiler: Any, connection: Any, expressions: list[Any]) -> tuple[list[str], list]:
    sqls, params = [], []
    for expression in expressions:
        sql, p = compiler.compile(expression)
        sqls.append(sql)
        params.extend(p)
    return sqls, params


class CurrentStageValue(Func):
    """``stages[stage_index][key]`` of a review, in SQL.

    A JSON path whose index is another column is written differently by each database
    (Django's key transforms take constant keys only), so PostgreSQL and SQLite each get
    their own SQL; other databases are refused rather than guessed at.
    """

    output_field = CharField()

    def __init__(self, key: str, *, output_field: Any = None) -> None:
        super().__init__(F("stages"), F("stage_index"), output_field=output_field)
        self.key = key

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """Only PostgreSQL and SQLite are supported."""
        raise NotSupportedError(f"Review queues need PostgreSQL or SQLite, not "
                                f"{connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """jsonb: ``stages -> index ->> key`` (cast to a number for numeric outputs)."""
        (stages, index), params = _compiled(compiler, connection, self.get_source_expressions())
        sql = f"(({stages}) -> ({index})::int ->> %s)"
        if isinstance(self.output_field, FloatField):
            sql = f"({sql})::double precision"
        return sql, [*params, self.key]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """JSON1: ``json_extract(stages, '$[' || index || '].' || key)``."""
        (stages, index), params = _compiled(compiler, connection, self.get_source_expressions())
        return f"json_extract({stages}, '$[' || ({index}) || '].' || %s)", [*params, self.key]


class AddHours(Func):
    """A datetime plus a number of hours (a column), in SQL, for PostgreSQL and SQLite."""

    output_field = DateTimeField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """Only PostgreSQL and SQLite are supported."""
        raise NotSupportedError(f"Review queues need PostgreSQL or SQLite, not "
                                f"{connection.vendor}.")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """timestamptz + make_interval(secs => hours * 3600)."""
        (when, hours), params = _compiled(compiler, connection, self.get_source_expressions())
        return f"({when} + make_interval(secs => ({hours}) * 3600))", params

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        """Django stores datetimes as UTC text; SQLite's date functions add the seconds."""
        (when, hours), params = _compiled(compiler, connection, self.get_source_expressions())
        return (f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', {when}, "
                f"'+' || (({hours}) * 3600) || ' seconds')"), params


def _results_count(results: QuerySet, **filters: Any) -> Coalesce:
    """How many check results of the reviewed version (its content hash) match, per row."""
    rows = (results.filter(asset_id=OuterRef("asset_id"),
                           content_sha256=OuterRef("content_sha256"), **filters)
            .order_by().values("asset_id").annotate(n=Count("pk")).values("n")[:1])
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


class ReviewQuerySet(ProjectScopedQuerySet):
    """Reviews, scoped through their project, with the reviewer's questions answered."""

    def decision_facts(self, user: Any) -> dict[int, ReviewFacts]:
        """The facts the rules read, for every review in this queryset and ``user``.

        Three queries whatever the number of reviews: the rows, the user's roles in their
        projects, and the user's own decisions on them. The queue loads them in bulk; the
        decision action loads them for the one row it has locked.
        """
        rows = list(self.select_related(None).prefetch_related(None).order_by().values_list(
            "pk", "project_id", "status", "stage_index", "stages", "generated_by_id",
            "submitted_by_id"))
        if not rows or getattr(user, "pk", None) is None:
            return {}
        roles = dict(Membership.objects.filter(
            user=user, project_id__in={r[1] for r in rows}).values_list("project_id", "role"))
        decision = self.model._meta.get_field("decisions").related_model
        decided: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for review_id, stage_index, kind in decision.objects.filter(
                reviewer=user, review_id__in=[r[0] for r in rows]).values_list(
                    "review_id", "stage_index", "decision"):
            decided[review_id].append((stage_index, kind))
        is_admin = bool(getattr(user, "is_platform_admin", False))
        return {pk: ReviewFacts(user_id=user.pk, is_admin=is_admin, role=roles.get(project),
                                status=status, stage_index=index, stages=stages or [],
                                generated_by_id=made_by, submitted_by_id=sent_by,
                                decided=tuple(decided.get(pk, ())))
                for pk, project, status, index, stages, made_by, sent_by in rows}

    def awaiting(self, user: Any) -> ReviewQuerySet:
        """Open reviews in this queryset that ``user`` could decide now: their queue.

        A review is kept when no decision rule refuses the user, so the queue, the REST
        ``?awaiting_me`` filter, the portal's decision form and the decision itself agree.
        """
        open_reviews = self.visible_to(user).filter(status=ReviewStatus.IN_REVIEW)
        keep = [pk for pk, facts in open_reviews.decision_facts(user).items()
                if first_refusal(DECIDE_RULES, facts) is None]
        return self.filter(pk__in=keep)

    def with_queue_facts(self) -> ReviewQuerySet:
        """Each row with what the queue shows and filters on, computed in the same query.

        ``checks_total``, ``checks_failed``, ``checks_warned`` (results of exactly the
        reviewed version), ``check_state`` (a :class:`CheckState` value, worst first),
        ``stage_name`` and ``due_at`` (the current stage's, None once finished). No query
        per row, whatever the page size.
        """
        results = self.model._meta.get_field("asset").related_model._meta.get_field(
            "check_results").related_model.objects.all()
        is_open = Q(status=ReviewStatus.IN_REVIEW)
        hours = Coalesce(CurrentStageValue("due_hours", output_field=FloatField()),
                         Value(float(DEFAULT_DUE_HOURS)))
        return self.annotate(
            checks_total=_results_count(results),
            checks_failed=_results_count(results, status="fail"),
            checks_warned=_results_count(results, status="warn"),
        ).annotate(
            check_state=Case(
                When(checks_failed__gt=0, then=Value(CheckState.FAILED)),
                When(checks_warned__gt=0, then=Value(CheckState.ATTENTION)),
                When(checks_total__gt=0, then=Value(CheckState.PASSED)),
                default=Value(CheckState.UNCHECKED), output_field=CharField()),
            stage_name=Case(When(is_open, then=CurrentStageValue("name")),
                            default=Value(""), output_field=CharField()),
            due_at=Case(When(is_open, then=AddHours(F("stage_started_at"), hours)),
                        default=None, output_field=DateTimeField()),
        )

    def due_by(self, moment: datetime) -> ReviewQuerySet:
        """Open reviews whose current stage is due at or before ``moment`` (needs
        :meth:`with_queue_facts`)."""
        return self.filter(due_at__isnull=False, due_at__lte=moment)

    def due_soon(self, now: datetime, hours: float = DUE_SOON_HOURS) -> ReviewQuerySet:
        """Due within ``hours`` from ``now`` and not yet overdue."""
        return self.due_by(now + timedelta(hours=hours)).filter(due_at__gt=now)

    def overdue(self, now: datetime) -> ReviewQuerySet:
        """Past their current stage's due time."""
        return self.filter(due_at__isnull=False, due_at__lt=now)

    def of_creator(self, user: Any) -> ReviewQuerySet:
        """Reviews of assets ``user`` generated or submitted: their submissions."""
        if getattr(user, "pk", None) is None:
            return self.none()
        return self.filter(Q(generated_by=user) | Q(submitted_by=user))

    def recently_decided(self, limit: int = 20) -> ReviewQuerySet:
        """The newest finished decisions (approved, rejected, sent back), newest first."""
        return (self.filter(status__in=DECIDED)
                .select_related("project", "asset", "generated_by")
                .prefetch_related("decisions__reviewer")
                .order_by("-finished_at", "-pk")[:limit])
