"""Liveness and readiness."""

import pytest
from django.test import Client


def test_healthz():
    assert Client().get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(monkeypatch):
    from assay.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    app.close()
    try:
        response = Client().get("/readyz")
    finally:
        monkeypatch.undo()
        app.close()
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["broker"].startswith("down")
