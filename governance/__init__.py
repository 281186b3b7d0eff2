"""Governance apps: audit (and later review, provenance, usage)."""
