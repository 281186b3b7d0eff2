"""Prompt rendering in a Jinja2 sandbox, with declared variables only and bounded work.

Jinja2's sandbox blocks attribute escapes, but not work: ``'a' * 10**8``, nested loops
over ``range(100000)``, a macro that calls itself twice, ``"%0999999999d" % 1`` or a
namespace doubled inside a loop each hold a worker (or its memory) for as long as they
like. The bounds are enforced *while* the template runs, not on its result:

- every loop iteration, call, operator and attribute lookup costs a step, out of
  ``_MAX_STEPS`` per render, within ``_MAX_SECONDS``;
- every value the template builds (operators, ``~``, calls, filters) stays under
  ``_MAX_INTERMEDIATE`` characters or items, and integers under ``_MAX_INT_BITS`` bits;
  numeric arguments (widths, counts) are refused past ``_MAX_INTERMEDIATE`` and format
  widths past six digits, before the work is done;
- all text emitted (including into ``{% set %}`` blocks and macros) counts against
  ``_MAX_EMITTED`` characters;
- errors the template's own arithmetic raises (overflow, division by zero, a number too
  large to print, recursion) are refusals in words, never a 500.

The loop and concatenation bounds come from rewriting the parsed template: each ``for``
iterates through ``_assay_iter``, each ``~`` goes through ``_assay_concat`` and each
``{{ }}`` through ``_assay_emit``, filters that take the render's budget from a
context variable set by :func:`render`.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from assay.core.exceptions import InvalidInput

_MAX_INTERMEDIATE = 200_000
_MAX_INT_BITS = 16_384
_MAX_STEPS = 200_000
_MAX_EMITTED = 2_000_000
_MAX_SECONDS = 2.0
_WIDE_PRINTF = re.compile(r"%[-#0 +]*(?:\d{7,}|\d*\.\d{7,})")
_WIDE_FORMAT = re.compile(r"\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


class TemplateTooCostly(jinja2.exceptions.SecurityError):
    """The template tried to do more work, or build a larger value, than a prompt needs."""


@dataclass
class _Budget:
    steps: int = _MAX_STEPS
    emitted: int = _MAX_EMITTED
    deadline: float = field(default_factory=lambda: time.monotonic() + _MAX_SECONDS)


_budget: ContextVar[_Budget | None] = ContextVar("assay_render_budget", default=None)


def _charge(steps: int = 1) -> None:
    budget = _budget.get()
    if budget is None:  # compiling or parsing: nothing runs
        return
    budget.steps -= steps
    if budget.steps < 0:
        raise TemplateTooCostly(f"the template takes more than {_MAX_STEPS:,} steps "
                                "(loop iterations, calls and operations)")
    if time.monotonic() > budget.deadline:
        raise TemplateTooCostly(f"the template ran for more than {_MAX_SECONDS:g} s")


def _check_size(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
        raise TemplateTooCostly(f"a number larger than {_MAX_INT_BITS:,} bits")
    if isinstance(value, (str, list, tuple, dict, set, frozenset)) and \
            len(value) > _MAX_INTERMEDIATE:
        raise TemplateTooCostly(f"a value longer than {_MAX_INTERMEDIATE:,} characters or "
                                "items")
    return value


def _check_args(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > _MAX_INTERMEDIATE:
            raise TemplateTooCostly(f"a numeric argument larger than {_MAX_INTERMEDIATE:,}")
        if isinstance(arg, (tuple, list)) and len(arg) <= 100:
            _check_args(arg)


def _check_format(fmt: Any) -> None:
    if isinstance(fmt, str) and (_WIDE_PRINTF.search(fmt) or _WIDE_FORMAT.search(fmt)):
        raise TemplateTooCostly("a format width or precision of a million or more")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value))


def _estimate(name: str, owner: Any, args: tuple[Any, ...]) -> int:
    """An upper bound of the length ``replace``/``join`` would build, before building it."""
    if name == "replace" and isinstance(owner, str) and len(args) >= 2:
        new = _length(args[1])
        return len(owner) + (len(owner) + 1) * new
    if name == "join" and args and isinstance(args[0], (list, tuple, str)):
        sep = _length(owner) if owner is not None else 0
        items = args[0]
        return sep * len(items) + sum(_length(item) for item in items)
    return 0


def _refuse_if_large(name: str, owner: Any, args: tuple[Any, ...]) -> None:
    if _estimate(name, owner, args) > _MAX_INTERMEDIATE:
        raise TemplateTooCostly(f"{name} would build more than {_MAX_INTERMEDIATE:,} "
                                "characters")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """A sandbox whose operators, calls, filters and loops are bounded (module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """Parse, then route loops, ``~`` and output through the bounded filters."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_assay_iter", [], [], None, None,
                                     lineno=loop.lineno)
        for concat in list(tree.find_all(nodes.Concat)):
            first, *rest = concat.nodes
            concat.nodes = [nodes.Filter(first, "_assay_concat", rest, [], None, None,
                                         lineno=concat.lineno)]
        for output in tree.find_all(nodes.Output):
            output.nodes = [nodes.Filter(node, "_assay_emit", [], [], None, None,
                                         lineno=output.lineno) for node in output.nodes]
        return tree

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        """Refuse operations whose result would exceed the bounds, before computing them."""
        _charge()
        if operator_name == "**" and isinstance(right, (int, float)):
            if abs(right) > 64:
                raise TemplateTooCostly("an exponent larger than 64")
            if isinstance(left, int) and left.bit_length() * abs(right) > _MAX_INT_BITS:
                raise TemplateTooCostly(f"a number larger than {_MAX_INT_BITS:,} bits")
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int):
                    if len(seq) * max(count, 0) > _MAX_INTERMEDIATE:
                        raise TemplateTooCostly("a repetition longer than "
                                                f"{_MAX_INTERMEDIATE:,}")
            if isinstance(left, int) and isinstance(right, int) and \
                    left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                raise TemplateTooCostly(f"a number larger than {_MAX_INT_BITS:,} bits")
        if operator_name == "%" and isinstance(left, str):
            _check_format(left)
            _check_args(right if isinstance(right, tuple) else (right,))
        return _check_size(super().call_binop(context, operator_name, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """A call from the template: charged, its numeric arguments and format widths
        checked first, its result's size after."""
        _charge()
        _check_args(args)
        _check_args(kwargs.values())
        target = getattr(__obj, "__wrapped__", __obj)
        owner = getattr(target, "__self__", None)
        name = getattr(target, "__name__", "")
        if name in ("format", "format_map"):
            _check_format(owner)
        _refuse_if_large(name, owner, args)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Charged like any other step."""
        _charge()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """Charged like any other step."""
        _charge()
        return super().getitem(obj, argument)


@jinja2.pass_context
def _iterate(context: Any, iterable: Any) -> Iterator[Any]:
    """A ``for`` loop's items, one step each."""
    for item in iterable:
        _charge()
        yield item


@jinja2.pass_context
def _concat(context: Any, first: Any, *rest: Any) -> str:
    """``a ~ b ~ c``, refused past the size bound before it is built."""
    parts = [str(first), *(str(part) for part in rest)]
    _charge(len(parts))
    if sum(len(part) for part in parts) > _MAX_INTERMEDIATE:
        raise TemplateTooCostly(f"a value longer than {_MAX_INTERMEDIATE:,} characters")
    return "".join(parts)


@jinja2.pass_context
def _emit(context: Any, value: Any) -> Any:
    """Text the template writes, wherever it goes, counted against the render's total."""
    budget = _budget.get()
    if budget is not None:
        budget.emitted -= _length(value)
        if budget.emitted < 0:
            raise TemplateTooCostly(f"the template writes more than {_MAX_EMITTED:,} "
                                    "characters")
    return value


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A built-in filter with the same checks as a call (Jinja calls filters directly)."""

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _charge()
        _check_args(args)
        _check_args(kwargs.values())
        values = [a for a in args if not isinstance(a, (jinja2.runtime.Context,
                                                        jinja2.Environment,
                                                        jinja2.nodes.EvalContext))]
        if name == "format" and values:
            _check_format(values[0])
        if name == "replace" and values:
            _refuse_if_large("replace", values[0], tuple(values[1:]))
        if name == "join" and values:
            items = list(values[0]) if not isinstance(values[0], str) else values[0]
            _check_size(items)
            sep = values[1] if len(values) > 1 else kwargs.get("d", "")
            _refuse_if_large("join", sep, (items,))
            args = tuple(items if a is values[0] else a for a in args)
        if name in ("indent", "wordwrap") and values and isinstance(values[0], str):
            lines = values[0].count("\n") + 1
            extra = max((_length(v) for v in (*values[1:], *kwargs.values())
                         if isinstance(v, str)), default=0)
            if name == "wordwrap":
                lines = len(values[0]) + 1  # a width of 1 breaks every character
            if lines * extra > _MAX_INTERMEDIATE:
                raise TemplateTooCostly(f"{name} would build more than "
                                        f"{_MAX_INTERMEDIATE:,} characters")
        return _check_size(func(*args, **kwargs))

    return bounded


_env = _BoundedSandbox(undefined=jinja2.StrictUndefined, autoescape=False,
                       keep_trailing_newline=True)
_env.globals.pop("lipsum", None)  # generates text from nothing; no prompt needs it
_env.filters = {name: _bounded_filter(name, func) for name, func in _env.filters.items()}
_env.filters.update(_assay_iter=_iterate, _assay_concat=_concat, _assay_emit=_emit)

#: What the template's own code can raise while it runs: its author's mistake, a 400.
_RUNTIME_ERRORS = (ArithmeticError, ValueError, TypeError, LookupError, MemoryError,
                   RecursionError)


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
            error, work or sizes past the sandbox's bounds, or a result longer than
            ``max_chars``.
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
    token = _budget.set(_Budget(emitted=max(_MAX_EMITTED, max_chars)))
    try:
        result = _render_bounded(text, context, max_chars)
    except jinja2.exceptions.SecurityError as exc:
        raise InvalidInput(f"The template was refused by the sandbox: {exc}.",
                           errors={"template": [str(exc)]}) from None
    except jinja2.TemplateError as exc:
        raise InvalidInput(f"The template could not be rendered: {exc}.",
                           errors={"template": [str(exc)]}) from None
    except _RUNTIME_ERRORS as exc:
        message = _runtime_message(exc)
        raise InvalidInput(f"The template failed while rendering: {message}.",
                           errors={"template": [message]}) from None
    finally:
        _budget.reset(token)
    return result


def _render_bounded(text: str, context: dict[str, Any], max_chars: int) -> str:
    """Render chunk by chunk, stopping as soon as the result passes ``max_chars``."""
    pieces: list[str] = []
    size = 0
    for piece in _env.from_string(text).generate(context):
        size += len(piece)
        if size > max_chars:
            raise InvalidInput(
                f"The rendered prompt is longer than {max_chars} characters; the limit is "
                f"{max_chars}. Shorten the variables or the template.",
                errors={"prompt": [f"more than {max_chars} characters, limit {max_chars}"]},
            )
        pieces.append(piece)
    return "".join(pieces)


def _runtime_message(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "it calls itself too deeply (a macro that never stops recursing?)"
    if isinstance(exc, MemoryError):
        return "it needs more memory than a prompt may use"
    detail = str(exc)[:200]
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _summary(errors: dict[str, list[str]]) -> str:
    return "; ".join(f"'{name}' {' and '.join(msgs)}" for name, msgs in errors.items())
