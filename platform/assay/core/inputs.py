"""Strict input for every REST write: a JSON parser and serializer fields that refuse what
would otherwise be coerced, truncated or turned into a 500 further down.

DRF's stock fields coerce (``"project": true`` becomes ``"True"``, ``"7"`` becomes 7, a
dict becomes its ``str``), and ``json.loads`` accepts ``NaN``, ``1e400`` (infinity), lone
surrogates that psycopg refuses later and nesting deep enough to overflow the stack.
Every input serializer derives from :class:`InputSerializer` and uses these fields, so a
bad body is a 400 whose message says what to send, and nothing is stored.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from assay.core.exceptions import InvalidInput
from assay.core.numbers import BIGINT_MAX

#: How much of a bad value an error message repeats.
ECHO_CHARS = 200
#: Deeper JSON than this is refused before it reaches any code.
MAX_JSON_DEPTH = 32


def echo(value: Any) -> str:
    """``value`` as text for an error message, cut to ``ECHO_CHARS`` characters."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "…"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (NUL bytes, lone surrogates), or None."""
    if "\x00" in value:
        return "Remove the NUL character (\\u0000): text cannot contain it."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Remove the unpaired surrogate (\\ud800–\\udfff): send valid Unicode text."
    return None


def clean_text(field: str, value: Any, *, limit: int, required: bool,
               missing: str = "") -> str:
    """Stripped text for a service argument, or InvalidInput naming ``field``.

    For services called from Python as well as from the faces, so a bad value is refused
    in words whoever calls: not text, NUL or lone surrogates, blank when ``required``
    (``missing`` is the sentence then), or longer than ``limit``.
    """
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text.", errors={field: ["Send text."]})
    value = value.strip()
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"The {field} was refused: {problem}", errors={field: [problem]})
    if required and not value:
        raise InvalidInput(missing or f"Give a {field}.", errors={field: ["This is required."]})
    if len(value) > limit:
        message = f"At most {limit} characters (this has {len(value)})."
        raise InvalidInput(f"The {field} is too long: {message}", errors={field: [message]})
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; send a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{echo(text)} is too large; send a finite number")
    return value


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19:  # beyond bigint: refused before int() does any work
        raise ValueError(f"{echo(text)} has too many digits (at most 19)")
    return int(text)


def _check_tree(value: Any, depth: int = 0) -> None:
    """Refuse nesting deeper than MAX_JSON_DEPTH and keys/strings that cannot be stored."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tree(key, depth + 1)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)


def loads(raw: str | bytes) -> Any:
    """``json.loads`` that refuses NaN, infinities, over-long integers, deep nesting, NUL
    bytes and lone surrogates, raising ValueError with a sentence that says what to fix."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float,
                           parse_int=_int)
    except RecursionError:
        raise ValueError(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"it is not valid JSON ({exc.msg} at line {exc.lineno}, "
                         f"column {exc.colno})") from None
    _check_tree(value)
    return value


class RequestTooLarge(APIException):
    """A body past DATA_UPLOAD_MAX_MEMORY_SIZE (or a view's own limit): HTTP 413."""

    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


class StrictJSONParser(JSONParser):
    """The API's JSON parser: :func:`loads`, and a 400 that says what is wrong."""

    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        """Parse the request body or raise ParseError (400) naming the problem."""
        limit = getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", None) or 2_621_440
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The JSON body is larger than {limit:,} bytes "
                                  f"(DATA_UPLOAD_MAX_MEMORY_SIZE); send less.")
        try:
            return loads(raw or b"null")
        except ValueError as exc:
            raise ParseError(f"The request body was refused: {str(exc).rstrip('.')}.") from None


class StrictCharField(serializers.CharField):
    """Text only: no numbers, booleans, lists or objects turned into strings; no NUL bytes
    or lone surrogates; refused (never cut) past ``max_length``."""

    def to_internal_value(self, data: Any) -> str:
        """Refuse non-strings and text that cannot be stored."""
        if not isinstance(data, str):
            self.fail("invalid")
        problem = text_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer (not a boolean, float or string), within bigint unless narrower."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -BIGINT_MAX)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        """Refuse anything but an int in range."""
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(
                f"Send a whole number, not {type(data).__name__} {echo(data)}.")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    """A finite JSON number (an integer is fine; a boolean or string is not)."""

    def to_internal_value(self, data: Any) -> float:
        """Refuse booleans, strings and non-finite values."""
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            raise serializers.ValidationError(
                f"Send a number, not {type(data).__name__} {echo(data)}.")
        if not math.isfinite(float(data)):
            raise serializers.ValidationError("Send a finite number.")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """``true`` or ``false`` only (not ``"yes"``, 1 or ``"true"``)."""

    def to_internal_value(self, data: Any) -> bool:
        """Refuse anything but a JSON boolean."""
        if not isinstance(data, bool):
            raise serializers.ValidationError(f"Send true or false, not {echo(data)}.")
        return data


class StrictListField(serializers.ListField):
    """A JSON array (a string is not a list of its characters)."""

    def to_internal_value(self, data: Any) -> list[Any]:
        """Refuse strings and objects where an array is expected."""
        if not isinstance(data, list):
            raise serializers.ValidationError(
                f"Send a list (JSON array), not {type(data).__name__}.")
        return super().to_internal_value(data)


class StrictDictField(serializers.DictField):
    """A JSON object with text keys."""

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Refuse anything but an object."""
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                f"It must be an object (JSON {{...}}), not {type(data).__name__}.")
        return super().to_internal_value(data)


class InputSerializer(serializers.Serializer):
    """Base of every REST write's input: an object, with no field it does not know.

    Validation only: the service called with ``validated_data`` holds the rules.
    """

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Refuse non-objects and unknown fields, naming them."""
        if not isinstance(data, Mapping):
            raise serializers.ValidationError({"non_field_errors": [
                f"Send a JSON object, not {type(data).__name__}."]})
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            known = ", ".join(sorted(self.fields)) or "none"
            raise serializers.ValidationError({name[:ECHO_CHARS]: [
                f"This is an unknown field; the fields are: {known}."] for name in unknown[:20]})
        return super().to_internal_value(data)

    @classmethod
    def validated(cls, data: Any, **kwargs: Any) -> dict[str, Any]:
        """``data`` checked (ValidationError, a 400, otherwise): the fields that were sent,
        ready to pass to a service as keywords."""
        if data is None:  # a JSON null body; DRF would only say "No data provided"
            raise serializers.ValidationError({"non_field_errors": [
                "Send a JSON object, not null."]})
        serializer = cls(data=data, **kwargs)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def create(self, validated_data: dict[str, Any]) -> Any:
        """Input serializers never save: a service does."""
        raise NotImplementedError("call the service with validated_data")

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        """Input serializers never save: a service does."""
        raise NotImplementedError("call the service with validated_data")


#: A slug as the models store it: ASCII letters, digits, ``-`` and ``_``.
SLUG_PATTERN = r"^[-a-zA-Z0-9_]{1,100}$"
_SLUG = re.compile(SLUG_PATTERN)
_ID_DIGITS = re.compile(r"^[0-9]{1,18}$")
#: Text an int() would be tried on: ``str.isdigit()`` is true for "²", and "--5" keeps
#: its digits after ``lstrip("-")``; only plain ASCII integers within bigint get through.
_PLAIN_INT = re.compile(r"^\s*-?[0-9]{1,19}\s*$")


@extend_schema_field({"oneOf": [
    {"type": "string", "pattern": SLUG_PATTERN, "maxLength": 100},
    {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}]})
class StrictSlugOrIdField(serializers.Field):
    """An object named by its slug (text) or its numeric id (an integer, or digits as
    text): returns the slug as ``str`` or the id as ``int``, so a service never calls
    ``int()`` on text such as "²" or "99999999999999999999"."""

    def to_internal_value(self, data: Any) -> str | int:
        """Refuse anything but a slug or a positive bigint id."""
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            raise serializers.ValidationError(
                f"Send a slug (text) or a numeric id, not {type(data).__name__}.")
        if isinstance(data, int):
            if not 1 <= data <= BIGINT_MAX:
                raise serializers.ValidationError(f"{echo(data)} is not an id (1 to {BIGINT_MAX}).")
            return data
        if _ID_DIGITS.match(data):
            return int(data)
        if not _SLUG.match(data):
            raise serializers.ValidationError(
                f"{echo(data)!r} is not a slug: use letters, digits, '-' and '_' (at most 100), "
                "or a numeric id.")
        return data

    def to_representation(self, value: Any) -> Any:
        """As given."""
        return value


@extend_schema_field({"oneOf": [
    {"type": "string"}, {"type": "integer", "minimum": -BIGINT_MAX, "maximum": BIGINT_MAX},
    {"type": "number"}, {"type": "boolean"}], "nullable": True})
class StrictScalarField(serializers.Field):
    """One scalar value: null, true/false, a bigint-bounded integer, a finite number or text
    (at most ``max_length`` characters). Text that looks like a whole number but is not a
    plain one ("²", "--5", 5,000 digits) is refused: send numbers as JSON numbers."""

    def __init__(self, *, max_length: int = 10_000, **kwargs: Any) -> None:
        self.max_length = max_length
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        """Refuse lists, objects, over-long or unstorable text, and out-of-range numbers."""
        if data is None or isinstance(data, bool):
            return data
        if isinstance(data, int):
            if not -BIGINT_MAX <= data <= BIGINT_MAX:
                raise serializers.ValidationError(f"{echo(data)} is out of range.")
            return data
        if isinstance(data, float):
            if not math.isfinite(data):
                raise serializers.ValidationError("Send a finite number.")
            return data
        if isinstance(data, str):
            problem = text_problem(data)
            if problem:
                raise serializers.ValidationError(problem)
            if len(data) > self.max_length:
                raise serializers.ValidationError(
                    f"Send at most {self.max_length} characters (got {len(data)}).")
            if data.strip().lstrip("-").isdigit() and not _PLAIN_INT.match(data):
                raise serializers.ValidationError(
                    f"{echo(data)!r} is not a whole number: send numbers as JSON numbers "
                    "(e.g. 5 or -5), at most 19 digits.")
            return data
        raise serializers.ValidationError(
            f"Send a single value (text, number, true/false or null), not {type(data).__name__}.")

    def to_representation(self, value: Any) -> Any:
        """As given."""
        return value


class StrictMapField(StrictDictField):
    """An object of at most ``max_items`` entries whose keys are short text."""

    def __init__(self, *, max_items: int = 100, max_key_length: int = 100,
                 **kwargs: Any) -> None:
        self.max_items = max_items
        self.max_key_length = max_key_length
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """Refuse non-objects, too many entries and over-long keys, then check each value."""
        if isinstance(data, dict):
            if len(data) > self.max_items:
                raise serializers.ValidationError(
                    f"Send at most {self.max_items} entries (got {len(data)}).")
            long = [key for key in data if len(key) > self.max_key_length]
            if long:
                raise serializers.ValidationError(
                    f"Names are at most {self.max_key_length} characters: {echo(long[0])!r}.")
        return super().to_internal_value(data)
