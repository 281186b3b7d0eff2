"""A test guard: fail when a call changes state without an audit event that says so.

``with every_change_audited(): service(...)`` watches, for the models of the apps in
``TRACKED_APPS``,

- each row saved or deleted (``post_save``/``post_delete``) and each many-to-many change
  (``m2m_changed``): an event recorded during the call must target that row, or name it
  in its data (a value equal to the row's key under a key that names the model, such as
  ``{"review": 12}``, or anywhere for non-numeric keys such as UUIDs);
- each INSERT, UPDATE or DELETE statement on their tables (``queryset.update()``,
  ``bulk_create`` and raw SQL send no signals): some event must be about that model.

``ALLOWED`` lists the few changes that are not worth an event, each with its reason.
AuditEvent itself is not tracked (the audit app is not in the list).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import Max, Model
from django.db.models.signals import m2m_changed, post_delete, post_save

from assay.audit.models import AuditEvent

TRACKED_APPS = ("accounts", "studio", "generation", "review", "provenance", "usage")


@dataclass(frozen=True)
class Allowed:
    """A change that needs no event: the model, the fields (None: any) and why."""

    model: str
    fields: frozenset[str] | None
    reason: str


ALLOWED: tuple[Allowed, ...] = (
    Allowed("accounts.apitoken", frozenset({"last_used_at"}),
            "authentication stamps a token's last use on every API call; it changes no "
            "permission or content"),
    Allowed("accounts.user", frozenset({"last_login"}),
            "Django stamps last_login at sign-in, which is audited as accounts.user.logged_in"),
    Allowed("review.inboxitem", None,
            "an inbox entry tells a person about a review change that is itself audited "
            "(opened, advanced, decided) and is written in that change's transaction"),
    Allowed("review.inboxseen", None,
            "a person's 'read up to here' marker for their inbox; it changes no content"),
)

_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z0-9_]+)"?',
                    re.IGNORECASE)
_SET_COLUMNS = re.compile(r'"?([A-Za-z0-9_]+)"?\s*=')


@dataclass
class Change:
    """One row changed during the call."""

    model: str
    pk: str
    how: str
    fields: frozenset[str] | None = None


@dataclass
class Trace:
    """What the call changed, and the problems found when it returned."""

    rows: list[Change] = field(default_factory=list)
    statements: list[tuple[str, str, frozenset[str] | None]] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _label(model: type[Model]) -> str | None:
    meta = model._meta
    if meta.app_label not in TRACKED_APPS or meta.auto_created:
        return None
    return meta.label_lower


def _allowed(model: str, fields: frozenset[str] | None,
             allowed: Iterable[Allowed]) -> bool:
    for entry in allowed:
        if entry.model != model:
            continue
        if entry.fields is None or (fields is not None and fields <= entry.fields):
            return True
    return False


def _values(data: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _values(v, str(k))
    elif isinstance(data, list):
        for item in data:
            yield from _values(item, key)
    else:
        yield key, data


def _names(event: AuditEvent, change: Change) -> bool:
    if event.target_type == change.model and event.target_id == change.pk:
        return True
    model_name = change.model.split(".", 1)[1]
    numeric = change.pk.isdigit()
    for key, value in _values(event.data):
        if value is None or str(value) != change.pk:
            continue
        if not numeric or key in ("id", "pk"):
            return True
        # A small number is only "named" under a key that names the model: review,
        # review_id, prompt_version, job (of generationjob)...
        name = key.lower().replace("_", "").removesuffix("id")
        if name and (name in model_name or model_name in name):
            return True
    return False


def _tables() -> dict[str, str]:
    out = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.app_label in TRACKED_APPS:
            owner = meta.auto_created or model
            out[meta.db_table] = owner._meta.label_lower
    return out


@contextlib.contextmanager
def every_change_audited(*, allowed: Iterable[Allowed] = ALLOWED) -> Iterator[Trace]:
    """Run the block, then raise AssertionError for each change no event accounts for.

    If the block raises, its exception propagates unchanged and nothing is checked.
    """
    allowed = tuple(allowed)
    trace = Trace()
    tables = _tables()
    baseline = AuditEvent.objects.aggregate(top=Max("id"))["top"] or 0

    def saved(sender: type[Model], instance: Model, created: bool,
              update_fields: Any = None, **kwargs: Any) -> None:
        label = _label(sender)
        if label:
            trace.rows.append(Change(label, str(instance.pk), "created" if created else "saved",
                                     frozenset(update_fields) if update_fields else None))

    def deleted(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        label = _label(sender)
        if label:
            trace.rows.append(Change(label, str(instance.pk), "deleted"))

    def m2m(sender: type[Model], instance: Model, action: str, **kwargs: Any) -> None:
        label = _label(type(instance))
        if label and action.startswith("post_"):
            trace.rows.append(Change(label, str(instance.pk), f"m2m {action[5:]}"))

    def watch(execute: Callable[..., Any], sql: str, params: Any, many: bool,
              context: dict[str, Any]) -> Any:
        match = _WRITE.match(sql)
        if match and match.group(2) in tables:
            columns = None
            if match.group(1).upper() == "UPDATE":
                set_clause = sql.split(" SET ", 1)[-1].split(" WHERE ", 1)[0]
                columns = frozenset(_SET_COLUMNS.findall(set_clause))
            trace.statements.append((tables[match.group(2)], match.group(1).upper(), columns))
        return execute(sql, params, many, context)

    uid = f"audit-guard-{id(trace)}"
    post_save.connect(saved, weak=False, dispatch_uid=uid)
    post_delete.connect(deleted, weak=False, dispatch_uid=uid)
    m2m_changed.connect(m2m, weak=False, dispatch_uid=uid)
    try:
        with connection.execute_wrapper(watch):
            yield trace
    finally:
        post_save.disconnect(dispatch_uid=uid)
        post_delete.disconnect(dispatch_uid=uid)
        m2m_changed.disconnect(dispatch_uid=uid)
    trace.events = list(AuditEvent.objects.filter(id__gt=baseline).order_by("id"))
    _check(trace, allowed)
    if trace.problems:
        raise AssertionError("state changed without an audit event:\n  "
                             + "\n  ".join(trace.problems))


def _check(trace: Trace, allowed: tuple[Allowed, ...]) -> None:
    about = {e.target_type for e in trace.events}
    row_models = set()
    for change in trace.rows:
        row_models.add(change.model)
        if _allowed(change.model, change.fields, allowed):
            continue
        if not any(_names(e, change) for e in trace.events):
            what = f" ({', '.join(sorted(change.fields))})" if change.fields else ""
            trace.problems.append(f"{change.model} {change.pk} {change.how}{what}: no event "
                                  "targets it or names it in its data")
    seen = set()
    for model, verb, columns in trace.statements:
        if model in about or model in row_models or (model, verb) in seen:
            continue
        if _allowed(model, columns, allowed):
            continue
        seen.add((model, verb))
        what = f" ({', '.join(sorted(columns))})" if columns else ""
        trace.problems.append(f"{verb} on {model}{what} without signals (queryset update, "
                              "bulk write or raw SQL): no event is about a "
                              f"{model}")
