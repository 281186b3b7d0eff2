"""Claim-by-claim factuality: each check-worthy sentence against the project's approved facts.

Pure Python, no model: ``words`` (stems and synonyms), ``sentences`` (splitting, with
offsets), ``quantities`` (figures and units), ``comparisons`` (superlatives, comparisons),
``names`` (products) and ``extraction`` (which sentences are claims). With the model:
``embeddings`` (the sentence-embedding model) and ``verdicts`` (each claim's verdict from
meaning plus number and unit consistency). ``check`` turns verdicts into a review check
outcome, and ``plugin`` registers it with Assay.
"""
