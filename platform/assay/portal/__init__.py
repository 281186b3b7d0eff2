"""The web portal for creators (and later reviewers and owners)."""
