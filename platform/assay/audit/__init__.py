"""The audit log: every state change in Assay records an event through ``record``."""
