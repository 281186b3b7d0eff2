"""A video's poster still, for members only, read from the media storage.

The poster is stored beside the asset (its storage name in ``metadata["poster"]``, see
``assay.generation.storage``); like the asset's own bytes it is never linked directly, so
the same ``visible_to`` scoping answers an outsider with a 404.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from assay.portal.media_errors import speaks_media_errors
from assay.portal.ranges import ranged
from assay.studio.models import Asset
from governance.provenance.errors import MediaUnavailable

log = logging.getLogger(__name__)


def poster_name(asset: Asset) -> str:
    """The poster's storage name, or "" when the asset has none (or a bogus one)."""
    meta = asset.metadata if isinstance(asset.metadata, dict) else {}
    name = meta.get("poster")
    return name if isinstance(name, str) and name and ".." not in name else ""


@login_required
@require_GET
@speaks_media_errors
def asset_poster(request: HttpRequest, asset_id: Any) -> HttpResponse:
    """A video's poster PNG (404 when it has none)."""
    asset = get_object_or_404(Asset.objects.visible_to(request.user), pk=asset_id)
    name = poster_name(asset)
    if not name:
        raise Http404("This asset has no poster.")
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404("This asset's poster is missing from the media storage.") from exc
    except (OSError, BotoCoreError, ClientError) as exc:
        log.error("could not open poster %s from the media storage: %s", name, exc)
        raise MediaUnavailable("The poster cannot be read from the media storage just now; "
                               "try again later.") from exc
    response = ranged(request, FileResponse(handle, content_type="image/png"))
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response
