"""Whole numbers typed as text are read one way everywhere (no "²" or 5,000-digit 500s)."""

from __future__ import annotations

import pytest

from assay import Param
from assay.core.exceptions import NotFound
from assay.core.numbers import BIGINT_MAX, parse_id, parse_whole
from assay.generation.services import submit_generation
from assay.studio.services.projects import require_capability
from assay.studio.services.prompts import resolve_version


@pytest.mark.parametrize("text, expected", [
    ("7", 7), (" 42 ", 42), ("-5", -5), (7, 7), (str(BIGINT_MAX), BIGINT_MAX),
    ("²", None), ("--5", None), ("1" * 5000, None), (str(BIGINT_MAX + 1), None), ("", None),
    ("1.5", None), (True, None), (None, None), ("٣", None), (2**70, None),
])
def test_parse_whole(text, expected):
    assert parse_whole(text) == expected


def test_parse_id_is_positive():
    assert parse_id("3") == 3 and parse_id("0") is None and parse_id("-3") is None


@pytest.mark.parametrize("typed", ["²", "--5", "1" * 5000])
def test_an_integer_parameter_typed_badly_is_an_error_not_a_crash(typed):
    value, error = Param("seed", int, 0).validate(typed)
    assert error and "whole number" in error


@pytest.mark.django_db
@pytest.mark.parametrize("ref", ["²", "1" * 5000, "٣"])
def test_project_and_template_references_typed_badly_are_not_found(users, template, ref):
    with pytest.raises(NotFound):
        require_capability(users["creator"], ref, "view", doing="see it")
    with pytest.raises(NotFound):
        resolve_version(template.project, template_ref=ref)
    with pytest.raises(NotFound):
        resolve_version(template.project, version_id=ref)
    with pytest.raises(NotFound):  # the path the shell and the portal take
        submit_generation(users["creator"], project=template.project, template=ref,
                          variables={"product": "Kite"})
