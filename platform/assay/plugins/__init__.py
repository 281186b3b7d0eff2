"""Assay's plugin API: hook specifications, the plugin manager factory and the contracts.

Plugins should import from the package root (``from assay import hookimpl, Generator``),
which re-exports the stable names; the modules here are the implementation.
"""
