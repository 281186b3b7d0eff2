"""Assay plugin package (see plugin.py)."""
