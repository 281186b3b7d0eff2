"""Studio events other apps react to (sent after the storing transaction commits)."""

from django.dispatch import Signal

#: ``asset_ids``: the ids of assets just stored by a finished job.
assets_stored = Signal()
