"""How the generation domain reaches usage and quotas without importing them: these
hook implementations are registered as a built-in plugin (``ASSAY_BUILTIN_PLUGINS``)."""

from __future__ import annotations

from typing import Any

from assay import hookimpl
from assay.plugins.contracts import Generator
from governance.usage.quotas import check_quotas
from governance.usage.services import record_usage


@hookimpl
def generation_submitting(user: Any, project: Any, generator: type[Generator],
                          parameters: dict[str, Any]) -> None:
    """Refuse a submission past a quota (locks the quotas until the job commits)."""
    check_quotas(user, project, generator, parameters)


@hookimpl
def generation_succeeded(job: Any) -> None:
    """Write the job's usage record in the transaction that marks it succeeded."""
    record_usage(job)
