"""Cross-cutting pieces: domain errors, the plugin registry glue and project commands."""
