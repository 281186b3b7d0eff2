"""Action codes recorded by usage and quotas."""

from assay.audit.registry import register

register("usage.quota.set", "Quota set",
         "An owner or admin set (or changed) a monthly quota of a team, project or user.")
register("usage.report.exported", "Usage exported",
         "An auditor or admin downloaded rolled-up usage as CSV; data holds the filter.")
