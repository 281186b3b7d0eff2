"""Looking up an asset that a request names by id: the same checks wherever one is named."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from assay.core.exceptions import InvalidInput
from assay.core.inputs import echo
from assay.studio.models import Asset, Project


def project_asset(project: Project, ref: Any, *, field: str, kinds: Sequence[str],
                  label: str, kind_label: str) -> Asset | None:
    """The asset ``ref`` names, of one of ``kinds``, in ``project``; None when none is named.

    Used for a job's starting asset and a brand style's reference image, so both refuse a
    bad id, another project's asset or the wrong kind in the same words (``label`` and
    ``kind_label`` name the thing, e.g. "The parent asset"), under ``field``.
    """
    if ref in (None, ""):
        return None
    if isinstance(ref, Asset):
        ref = ref.pk
    try:
        key = uuid.UUID(str(ref))
    except ValueError:
        raise InvalidInput(f"{echo(ref)!r} is not an asset id.",
                           errors={field: ["not an asset id"]}) from None
    asset = Asset.objects.filter(pk=key, project=project).first()
    if asset is None:
        raise InvalidInput(f"{label} must be an asset of project {project.slug}.",
                           errors={field: ["not an asset of this project"]})
    if asset.kind not in kinds:
        wanted = " or ".join("an image" if k == "image" else f"a {k}" for k in kinds)
        raise InvalidInput(f"{kind_label} must be {wanted}.",
                           errors={field: [f"is {asset.kind}, not {wanted}"]})
    return asset
