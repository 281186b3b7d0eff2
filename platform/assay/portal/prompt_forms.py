"""Forms of the prompt library: a template's name, a version's text and settings, and the
variables editor (one row per variable).

Shape only, as for the generation form: the prompt services check the text, the variables,
the generator and its settings (the same checks REST gets) and the page maps their
per-field messages back onto these inputs.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms

from assay.core.exceptions import AssayError
from assay.plugins.manager import get_plugins
from assay.portal.words import generator_label
from assay.studio.models import PromptVersion

__all__ = ("EXTRA_ROWS", "TemplateForm", "VariableForm", "VariableFormSet", "VersionForm",
           "initial_from", "map_errors", "samples_of", "variables_of")

#: Empty variable rows offered below the declared ones.
EXTRA_ROWS = 3
TEXT_CHARS = 20_000


class TemplateForm(forms.Form):
    """A new template's name and what it is for."""

    name = forms.CharField(max_length=120, label="Template name",
                           help_text="What people pick it by, e.g. “Product launch post”.")
    description = forms.CharField(required=False, max_length=2000, label="What it is for",
                                  widget=forms.Textarea(attrs={"rows": 2}))


def _generator_choices() -> list[tuple[str, str]]:
    return sorted(((gid, generator_label(cls)) for gid, cls in get_plugins().generators.items()),
                  key=lambda pair: pair[1])


class VersionForm(forms.Form):
    """A version's text, default generator and settings, and a note of what changed."""

    text = forms.CharField(max_length=TEXT_CHARS, strip=False, label="Prompt text",
                           widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "true"}),
                           help_text="Put each variable in double braces: {{ product }}.")
    generator = forms.ChoiceField(label="Made with",
                                  help_text="The generator a run uses unless another is "
                                            "picked; it decides the kind of output.")
    model = forms.CharField(required=False, max_length=100, label="Model",
                            help_text="A registered model's name to use by default; leave "
                                      "blank for the generator's default model.")
    note = forms.CharField(required=False, max_length=300, label="What changed",
                           help_text="A few words for whoever compares versions later.")
    default_parameters = forms.CharField(
        required=False, max_length=5000, label="Default settings (JSON)",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Names and values, e.g. {"temperature": 0.7}; checked against the '
                  "generator's settings.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["generator"].choices = _generator_choices()

    def clean_default_parameters(self) -> dict[str, Any]:
        """JSON object text → dict (the service checks names and bounds)."""
        raw = (self.cleaned_data.get("default_parameters") or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("Write the settings as a JSON object, e.g. "
                                        '{"temperature": 0.7}.') from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Write the settings as a JSON object in braces.")
        nested = [name for name, item in value.items() if isinstance(item, (dict, list))]
        if nested:
            raise forms.ValidationError(f"Give {nested[0]} a single value (text, a number "
                                        "or true/false), not a list or an object.")
        return value


class VariableForm(forms.Form):
    """One variable: the name used in the text, and what people read when filling it in."""

    name = forms.CharField(required=False, max_length=40, label="Name in the text",
                           help_text="Letters, digits and _, e.g. product.")
    description = forms.CharField(required=False, max_length=300, label="Label",
                                  help_text="What people read, e.g. “Product name”.")
    help = forms.CharField(required=False, max_length=500, label="Hint")
    example = forms.CharField(required=False, max_length=200, label="Example",
                              help_text="Also the value “Try it” uses.")
    default = forms.CharField(required=False, max_length=4000, strip=False,
                              label="Default", help_text="Used when left empty.")
    required = forms.BooleanField(required=False, initial=True, label="Required")


VariableFormSet = forms.formset_factory(VariableForm, extra=EXTRA_ROWS, max_num=50,
                                        absolute_max=50)


def variables_of(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
    """The named rows as the service's variables (blank rows are left out)."""
    rows: list[dict[str, Any]] = []
    for form in formset.forms:
        data = form.cleaned_data if form.is_valid() else {}
        name = (data.get("name") or "").strip()
        if not name:
            continue
        rows.append({"name": name, "description": data.get("description", ""),
                     "help": data.get("help", ""),
                     "examples": [data["example"]] if data.get("example") else [],
                     "default": data.get("default", ""),
                     "required": bool(data.get("required"))})
    return rows


def samples_of(variables: list[dict[str, Any]]) -> dict[str, str]:
    """Try-it values: each variable's example."""
    return {v["name"]: v["examples"][0] for v in variables if v.get("examples")}


def initial_from(version: PromptVersion | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A new version's form prefilled from ``version`` (the latest), and its variable rows."""
    if version is None:
        return {}, []
    initial = {"text": version.text, "generator": version.generator_id,
               "model": version.default_model,
               "default_parameters": json.dumps(version.default_parameters)
               if version.default_parameters else ""}
    rows = [{"name": v["name"], "description": v.get("description", ""),
             "help": v.get("help", ""), "example": (v.get("examples") or [""])[0],
             "default": v.get("default", ""), "required": v.get("required", True)}
            for v in version.variables]
    return initial, rows


#: Service error keys → the form input they belong to.
_FIELDS = {"text": "text", "generator": "generator", "slug": "name", "name": "name",
           "note": "note"}


def map_errors(exc: AssayError, *forms_: forms.Form) -> list[str]:
    """Put the service's per-field messages on the inputs; return the sentence for the
    top of the form, with the messages that fit no input."""
    loose: list[str] = []
    for key, problems in (exc.errors or {}).items():
        field = _FIELDS.get(key) or ("default_parameters" if key.startswith("parameters")
                                     else None)
        target = next((f for f in forms_ if field and field in f.fields), None)
        for problem in problems:
            if target is not None:
                target.add_error(field, problem)
            else:
                loose.append(problem)
    return [exc.message, *loose]
