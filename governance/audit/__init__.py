"""The rest of audit in the governance layer: the auditors' REST API, its filters and exports.

The audit primitives (events, record, context, action registry, chain, checkpoints,
verification) live in the base layer, ``assay.audit``, so every layer can record events.
"""
