"""The generation form: collects what the user typed and hands it to the submission service.

The form deliberately validates nothing beyond shape. Bounds, required variables and the
generator's schema are checked by ``assay.generation.services.submit_generation`` (the same
checks the REST API gets); the form only maps the service's per-field messages back onto
the inputs they belong to, so the portal and the API can never disagree about what is valid.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from assay.core.exceptions import AssayError
from assay.core.numbers import parse_id
from assay.plugins.contracts import Generator, Param
from assay.studio.models import PromptTemplate, PromptVersion

__all__ = (
    "PARAM_PREFIX",
    "VAR_PREFIX",
    "GenerationForm",
    "choose_version",
    "version_label",
)

VAR_PREFIX = "var__"
PARAM_PREFIX = "param__"
SEED_MAX = 2**32 - 1

#: Service error keys that name a form input directly.
_DIRECT_KEYS = {"prompt_version": "prompt_version", "generator": "generator",
                "parameters.seed": "seed"}


def _versions(templates: Iterable[PromptTemplate]) -> list[PromptVersion]:
    return [v for t in templates for v in t.versions.all()]


def version_label(version: PromptVersion, labels: Iterable[str] = ()) -> str:
    """'v3 (latest, production)': what the user picks in the version select."""
    names = sorted(labels)
    return f"v{version.number}" + (f" ({', '.join(names)})" if names else "")


def choose_version(templates: list[PromptTemplate], wanted: Any) -> PromptVersion | None:
    """The version the form shows: the one asked for, else the first template's ``latest``.

    ``templates`` must come with ``versions`` and ``labels`` prefetched (and already scoped
    to the user), so this costs no queries.
    """
    versions = _versions(templates)
    if parse_id(wanted) is not None:
        for version in versions:
            if version.pk == parse_id(wanted):
                return version
    if not templates:
        return None
    first = templates[0]
    latest = next((lb.version_id for lb in first.labels.all() if lb.name == "latest"), None)
    candidates = list(first.versions.all())
    for version in candidates:
        if version.pk == latest:
            return version
    return max(candidates, key=lambda v: v.number, default=None)


def _param_field(param: Param, initial: Any) -> forms.Field:
    """An input for one generator parameter, with its bounds as HTML hints."""
    info = param.describe()
    help_parts = [info.get("help", "")]
    if param.type is bool:
        return forms.BooleanField(label=param.name, required=False, initial=bool(initial),
                                  help_text=" ".join(p for p in help_parts if p))
    attrs: dict[str, Any] = {}
    if param.choices is not None:
        widget: forms.Widget = forms.Select(
            choices=[("", "(default)")] + [(str(c), str(c)) for c in param.choices])
    elif param.type in (int, float):
        attrs["step"] = "1" if param.type is int else "any"
        if param.minimum is not None:
            attrs["min"] = info["minimum"]
        if param.maximum is not None:
            attrs["max"] = info["maximum"]
        widget = forms.NumberInput(attrs=attrs)
        if param.minimum is not None and param.maximum is not None:
            help_parts.append(f"Allowed: {info['minimum']} to {info['maximum']}.")
        elif param.minimum is not None:
            help_parts.append(f"At least {info['minimum']}.")
        elif param.maximum is not None:
            help_parts.append(f"At most {info['maximum']}.")
    else:
        if param.max_length is not None:
            attrs["maxlength"] = param.max_length
        widget = forms.TextInput(attrs=attrs)
    return forms.CharField(label=param.name, required=False, strip=True, widget=widget,
                           initial="" if initial is None else str(initial),
                           help_text=" ".join(p for p in help_parts if p))


class GenerationForm(forms.Form):
    """Prompt version, its variables, the generator, the seed and the other parameters.

    Fields are built from the chosen prompt version (its declared variables) and the chosen
    generator (its parameter schema). Every field is optional at this level on purpose; see
    the module docstring.
    """

    prompt_version = forms.CharField(label="Prompt version", required=False,
                                     widget=forms.Select)

    def __init__(self, data: Any = None, *, templates: list[PromptTemplate],
                 version: PromptVersion, generators: dict[str, type[Generator]],
                 generator_id: str, fields_url: str, carried: dict[str, Any] | None = None
                 ) -> None:
        super().__init__(data)
        self.version = version
        self.generators = generators
        self.generator_id = generator_id
        self.generator_cls = generators.get(generator_id)
        carried = carried or {}

        select = self.fields["prompt_version"]
        select.widget.choices = self._version_choices(templates)
        select.initial = str(version.pk)
        select.widget.attrs.update({
            "hx-get": fields_url, "hx-target": "#generation-fields", "hx-swap": "innerHTML",
            "hx-include": f"[name^='{VAR_PREFIX}']",
        })

        self.variable_names: list[str] = []
        for var in version.variables:
            name = var["name"]
            key = VAR_PREFIX + name
            help_text = var.get("description", "")
            if var.get("default"):
                help_text = (help_text + " " if help_text else "") + (
                    f"Leave blank to use “{var['default']}”.")
            field = forms.CharField(label=name, required=False, help_text=help_text,
                                    initial=carried.get(key, ""),
                                    widget=forms.TextInput(attrs={
                                        "autocomplete": "off",
                                        "placeholder": var.get("default") or "",
                                    }))
            field.required_hint = bool(var.get("required", True)) and not var.get("default")
            if field.required_hint:
                field.widget.attrs["aria-required"] = "true"
            self.fields[key] = field
            self.variable_names.append(name)

        choices = [(gid, f"{gid} ({cls.description})" if cls.description else gid)
                   for gid, cls in sorted(generators.items())]
        if self.generator_cls is None:
            choices.insert(0, (generator_id, f"{generator_id} (not installed)"))
        self.fields["generator"] = forms.CharField(
            label="Generator", required=False, initial=generator_id,
            widget=forms.Select(choices=choices, attrs={
                "hx-get": fields_url, "hx-target": "#generation-fields", "hx-swap": "innerHTML",
                "hx-include": f"[name='prompt_version'], [name^='{VAR_PREFIX}'], [name='seed']",
            }))
        seed_default = version.default_parameters.get("seed")
        self.fields["seed"] = forms.CharField(
            label="Seed", required=False,
            initial=carried.get("seed", "" if seed_default is None else str(seed_default)),
            help_text="Leave blank for a random seed; the same seed gives the same output.",
            widget=forms.NumberInput(attrs={"min": 0, "max": SEED_MAX, "step": 1}))

        self.parameter_names: list[str] = []
        if self.generator_cls is not None:
            for param in self.generator_cls.all_parameters():
                if param.name == "seed":
                    continue
                initial = version.default_parameters.get(param.name, param.default)
                self.fields[PARAM_PREFIX + param.name] = _param_field(param, initial)
                self.parameter_names.append(param.name)

    @staticmethod
    def _version_choices(templates: list[PromptTemplate]) -> list[tuple[str, Any]]:
        groups: list[tuple[str, Any]] = []
        for template in templates:
            labels: dict[int, list[str]] = {}
            for label in template.labels.all():
                labels.setdefault(label.version_id, []).append(label.name)
            options = [(str(v.pk), f"{template.name} {version_label(v, labels.get(v.pk, ()))}")
                       for v in sorted(template.versions.all(), key=lambda v: -v.number)]
            groups.append((template.name, options))
        return groups

    # -- what the template iterates -----------------------------------------------------
    @property
    def variable_fields(self) -> list[forms.BoundField]:
        """Inputs for the version's declared variables, in declaration order."""
        return [self[VAR_PREFIX + name] for name in self.variable_names]

    @property
    def parameter_fields(self) -> list[forms.BoundField]:
        """Inputs for the generator's parameters other than the seed."""
        return [self[PARAM_PREFIX + name] for name in self.parameter_names]

    # -- to the service and back -------------------------------------------------------
    def submission(self) -> dict[str, Any]:
        """Keyword arguments for ``submit_generation`` (call after ``is_valid()``).

        Blank inputs are left out, so the version's defaults apply exactly as they do for an
        API client that omits them.
        """
        data = self.cleaned_data
        variables = {name: data[VAR_PREFIX + name] for name in self.variable_names
                     if data.get(VAR_PREFIX + name) not in (None, "")}
        parameters: dict[str, Any] = {}
        for name in self.parameter_names:
            value = data.get(PARAM_PREFIX + name)
            if isinstance(value, bool) or value not in (None, ""):
                parameters[name] = value
        if data.get("seed") not in (None, ""):
            parameters["seed"] = data["seed"]
        return {"prompt_version": data.get("prompt_version") or self.version.pk,
                "variables": variables, "generator": data.get("generator") or None,
                "parameters": parameters}

    def field_for_error(self, key: str) -> str | None:
        """The input a service error key belongs to, or None for a form-wide error."""
        if key in self.variable_names:
            return VAR_PREFIX + key
        if key in _DIRECT_KEYS:
            return _DIRECT_KEYS[key]
        if key.startswith("parameters.") and key[len("parameters."):] in self.parameter_names:
            return PARAM_PREFIX + key[len("parameters."):]
        return None

    def add_service_errors(self, exc: AssayError) -> None:
        """Show each of the service's messages next to its input (others at the top)."""
        for key, messages in exc.errors.items():
            field = self.field_for_error(key)
            for message in messages:
                self.add_error(field, message if field else f"{key}: {message}")
