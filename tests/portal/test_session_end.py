"""An htmx request whose session ended gets a 401 "Your session ended" fragment with a
sign-in link back to the page the user is on, never a whole sign-in page."""

from __future__ import annotations

import pytest
from django.test import Client

from assay.generation.services import submit_generation
from tests.conftest import make_template

pytestmark = pytest.mark.django_db


def test_htmx_requests_after_the_session_ended_get_a_401_fragment(users, project,
                                                                   no_broker):
    make_template(project, users["owner"])
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"})
    url = f"/jobs/{job.pk}/status/"
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver/jobs/{job.pk}/"}
    response = Client().get(url, **htmx)
    assert response.status_code == 401
    assert response["X-Assay-Session"] == "ended"
    assert response["HX-Retarget"] == "#session-ended" and response["HX-Reswap"] == "innerHTML"
    body = response.content.decode()
    assert "Your session ended." in body and "<form" not in body
    assert f'href="/login/?next=%2Fjobs%2F{job.pk}%2F"' in body
    foreign = Client().get(url, HTTP_HX_REQUEST="true",
                           HTTP_HX_CURRENT_URL="https://evil.example/")
    assert 'href="/login/?next=%2F"' in foreign.content.decode()
    # A normal request still goes to the sign-in page.
    assert Client().get(url).status_code == 302
