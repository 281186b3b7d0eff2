"""The write guard on prompt labels: a label row changes only inside ``move_label``.

``move_label`` (``assay.studio.services.prompts``) decides whether a move is allowed
(protected labels need an approved promotion) and then opens :func:`label_write`. The
model's ``save``/``delete`` and the queryset's bulk writes refuse outside it, so a Django
admin form, a management command, a shell script or a future endpoint that writes
``PromptLabel`` rows directly fails loudly instead of skipping the promotion review.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.db import models

from assay.core.exceptions import NotPermitted

_OPEN: contextvars.ContextVar[bool] = contextvars.ContextVar("label_write", default=False)

REFUSAL = ("Prompt labels move only through the label service (which sends protected "
           "labels through a promotion review); this write went around it.")


@contextlib.contextmanager
def label_write() -> Iterator[None]:
    """Allow label rows to be written for the duration (``move_label`` only)."""
    token = _OPEN.set(True)
    try:
        yield
    finally:
        _OPEN.reset(token)


def require_open() -> None:
    """Refuse a label write made outside :func:`label_write`.

    Raises:
        NotPermitted: always, unless ``move_label`` opened the guard.
    """
    if not _OPEN.get():
        raise NotPermitted(REFUSAL, errors={"label": ["move it with the label service"]})


class LabelQuerySet(models.QuerySet):
    """Label rows: bulk writes go through the same guard as ``save``."""

    def update(self, **kwargs: Any) -> int:
        """Guarded: ``update()`` skips ``save`` and would skip the review."""
        require_open()
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        """Guarded: removing a label is a move too."""
        require_open()
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        """Guarded like ``save``."""
        require_open()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        """Guarded like ``save``."""
        require_open()
        return super().bulk_update(objs, fields, *args, **kwargs)
