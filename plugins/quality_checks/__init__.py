"""Automated quality checks on text and image assets, run on the CPU queue.

Text, one check per module: ``banned_terms``, ``disclaimers`` (with ``triggers``),
``personal_data`` (with ``checksums``), ``readability`` and ``profanity``; ``terms`` matches
words whole and inflected, ``wording`` phrases the messages. Images (``image``): minimum
resolution, blank or near-uniform images, near-duplicates of approved images. Pure Python,
Pillow, numpy and RE2 (for owner-written patterns), so the checks run anywhere the web
process runs; each one is a :class:`assay.Check` registered through ``register_checks`` in
:mod:`.plugin`.
"""
