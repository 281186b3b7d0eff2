"""Content Credentials: C2PA manifests on approved assets, and verification of any file."""
