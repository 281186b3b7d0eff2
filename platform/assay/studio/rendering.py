"""Prompt rendering in a Jinja2 sandbox, with declared variables only and bounded sizes.

The sandbox blocks attribute escapes but not ``'a' * 10**8``; the multiplication, power
and concatenation operators are intercepted and bounded here, and the final result is
checked against ``ASSAY_MAX_PROMPT_CHARS``.
"""

from __future__ import annotations

import operator
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from assay.core.exceptions import InvalidInput

_MAX_INTERMEDIATE = 200_000


class _BoundedSandbox(SandboxedEnvironment):
    """A sandbox whose ``*``, ``**`` and ``+`` cannot build huge values."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        """Refuse operations whose result would exceed the bound."""
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise jinja2.exceptions.SecurityError("exponent too large")
            return operator.pow(left, right)
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * max(count, 0) > _MAX_INTERMEDIATE:
                        raise jinja2.exceptions.SecurityError("repetition too large")
            return operator.mul(left, right)
        result = operator.add(left, right)
        if isinstance(result, (str, list, tuple)) and len(result) > _MAX_INTERMEDIATE:
            raise jinja2.exceptions.SecurityError("value too large")
        return result


_env = _BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)


def referenced_variables(text: str) -> set[str]:
    """Names a template text uses; raises InvalidInput on a syntax error."""
    try:
        return set(meta.find_undeclared_variables(_env.parse(text)))
    except jinja2.TemplateSyntaxError as exc:
        raise InvalidInput(
            f"The template has a syntax error on line {exc.lineno}: {exc.message}",
            errors={"text": [f"line {exc.lineno}: {exc.message}"]},
        ) from None


def render(text: str, declared: list[dict[str, Any]], values: dict[str, Any], *,
           max_chars: int, max_variable_chars: int) -> str:
    """Render ``text`` with ``values``, checking them against the declared variables.

    Raises:
        InvalidInput: naming each undeclared, missing or oversized variable, a template
            error, or a result longer than ``max_chars``.
    """
    errors: dict[str, list[str]] = {}
    names = [v["name"] for v in declared]
    for name, value in values.items():
        if name not in names:
            known = ", ".join(names) or "none"
            errors.setdefault(name, []).append(
                f"is not a declared variable of this prompt version (declared: {known})"
            )
        elif not isinstance(value, (str, int, float)) or isinstance(value, bool):
            errors.setdefault(name, []).append("must be text or a number")
        elif len(str(value)) > max_variable_chars:
            errors.setdefault(name, []).append(
                f"is {len(str(value))} characters; the limit is {max_variable_chars}"
            )
    context: dict[str, Any] = {}
    for var in declared:
        name = var["name"]
        value = values.get(name)
        if value is None or value == "":
            if var.get("default") not in (None, ""):
                value = var["default"]
            elif var.get("required", True):
                errors.setdefault(name, []).append("is required")
                continue
            else:
                value = ""
        context[name] = value
    if errors:
        raise InvalidInput("Fix the prompt variables: " + _summary(errors), errors=errors)
    try:
        result = _env.from_string(text).render(context)
    except jinja2.exceptions.SecurityError as exc:
        raise InvalidInput(f"The template was refused by the sandbox: {exc}.",
                           errors={"template": [str(exc)]}) from None
    except jinja2.TemplateError as exc:
        raise InvalidInput(f"The template could not be rendered: {exc}.",
                           errors={"template": [str(exc)]}) from None
    if len(result) > max_chars:
        raise InvalidInput(
            f"The rendered prompt is {len(result)} characters; the limit is {max_chars}. "
            "Shorten the variables or the template.",
            errors={"prompt": [f"{len(result)} characters, limit {max_chars}"]},
        )
    return result


def _summary(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"'{name}' {' and '.join(msgs)}" for name, msgs in errors.items())
