"""Claim-by-claim factuality: each check-worthy sentence against the project's approved facts.

``claims`` finds the claims (pure Python), ``matching`` gives each a verdict with the
sentence-embedding model plus number and unit consistency, ``check`` turns the verdicts
into a review check outcome, and ``plugin`` registers it with Assay.
"""
