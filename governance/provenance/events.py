"""Action codes recorded by the provenance service."""

from assay.audit.registry import register

register("provenance.credentials.created", "Signing credentials created",
         "init_signing made a development root CA and signing certificate (or renewed it).")
register("provenance.asset.signed", "Asset signed",
         "An approved asset version was signed with a C2PA manifest (embedded or sidecar).")
register("provenance.asset.derived", "Signed derivative made",
         "A transformed copy of a signed asset was signed with the original as ingredient.")
register("provenance.file.verified", "File verified",
         "Someone asked whether a file carries valid Content Credentials (with the outcome).")
