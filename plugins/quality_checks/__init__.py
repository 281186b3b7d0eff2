"""Automated quality checks on text and image assets, run on the CPU queue.

Text: banned terms, required disclaimers, personal data, length and readability, profanity.
Images: minimum resolution, blank or near-uniform images, near-duplicates of approved images.
Pure Python, Pillow and numpy, so the checks run anywhere the web process runs; each one is a
:class:`assay.Check` registered through ``register_checks`` in :mod:`.plugin`.
"""
