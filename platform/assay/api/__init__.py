"""REST API v1 and health endpoints."""
