"""Action codes the audit log records about itself: verification, exports."""

from assay.audit.registry import register

register("audit.events.exported", "Audit log exported",
         "An auditor or admin started an export of audit events; data holds the filter, "
         "the format and the last event id the export covers.")
register("audit.events.export_completed", "Audit export finished",
         "An export stream ended; data names the export event, the rows sent and whether "
         "the client read to the end.")
register("audit.chain.verified", "Audit log verified",
         "Someone checked the hash chain and the signed checkpoints; data holds the result.")
