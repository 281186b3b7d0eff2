"""Names that manifests, signing and reading share (no Django, so the bench imports them)."""

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC + "trainedAlgorithmicMedia"
COMPOSITE = IPTC + "compositeWithTrainedAlgorithmicMedia"
AI_SOURCE_TYPES = frozenset({TRAINED, COMPOSITE, IPTC + "algorithmicMedia",
                             IPTC + "compositeSynthetic"})
#: Assay's own assertion: project, prompt version, parameters, checks and approvals.
ASSERTION = "org.assay.governance"
SCHEMA = "org.assay.governance/1"
#: The ingredient label that actions point at (``ingredientIds``).
PARENT_ID = "parent"
