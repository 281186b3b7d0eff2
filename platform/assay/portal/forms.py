"""The generation form: collects what the user typed and hands it to the submission service.

The form deliberately validates nothing beyond shape. Bounds, required variables and the
generator's schema are checked by ``assay.generation.services.submit_generation`` (the same
checks the REST API gets); the form only maps the service's per-field messages back onto
the inputs they belong to, so the portal and the API can never disagree about what is valid.

It is written for people, not engineers: the everyday settings a generator marks ``plain``
(length, creativity, number of variants) come first under their labels; everything else,
the seed included, sits in an "Advanced settings" fold, which is the only place a raw
parameter name or a generator id appears.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms

from assay.core.exceptions import AssayError
from assay.core.numbers import parse_id
from assay.plugins.contracts import Generator, Param
from assay.portal.style_select import STYLE, style_field
from assay.portal.units import unit_for
from assay.portal.words import generator_label
from assay.studio.models import PromptTemplate, PromptVersion

__all__ = (
    "PARAM_PREFIX",
    "VAR_PREFIX",
    "GenerationForm",
    "choose_version",
    "first_version_of",
    "generator_label",
    "version_label",
)

VAR_PREFIX = "var__"
PARAM_PREFIX = "param__"
SEED_MAX = 2**32 - 1
#: A variable description up to this long reads as its label; a longer one becomes help.
_LABEL_CHARS = 60

#: Service error keys that name a form input directly.
_DIRECT_KEYS = {"prompt_version": "prompt_version", "generator": "generator",
                "parameters.seed": "seed"}
#: What the service's other error keys are called on the page.
_KEY_WORDS = {"parent_asset": "Starting asset", "revision_of": "New version",
              "template": "Prompt template", "prompt": "Prompt", "model": "Model",
              "variables": "Prompt details", "parameters": "Settings"}


def _versions(templates: Iterable[PromptTemplate]) -> list[PromptVersion]:
    return [v for t in templates for v in t.versions.all()]


def version_label(version: PromptVersion, labels: Iterable[str] = ()) -> str:
    """'v3 (latest, production)': what the user picks in the version select."""
    names = sorted(labels)
    return f"v{version.number}" + (f" ({', '.join(names)})" if names else "")


def _latest(template: PromptTemplate) -> PromptVersion | None:
    latest = next((lb.version_id for lb in template.labels.all() if lb.name == "latest"), None)
    candidates = list(template.versions.all())
    for version in candidates:
        if version.pk == latest:
            return version
    return max(candidates, key=lambda v: v.number, default=None)


def choose_version(templates: list[PromptTemplate], wanted: Any) -> PromptVersion | None:
    """The version the form shows: the one asked for, else the first template's ``latest``.

    ``templates`` must come with ``versions`` and ``labels`` prefetched (and already scoped
    to the user), so this costs no queries.
    """
    if parse_id(wanted) is not None:
        for version in _versions(templates):
            if version.pk == parse_id(wanted):
                return version
    if not templates:
        return None
    return _latest(templates[0])


def first_version_of(templates: list[PromptTemplate], modality: str) -> PromptVersion | None:
    """The latest version of the first template that makes ``modality`` (no queries)."""
    for template in templates:
        latest = _latest(template)
        if latest is not None and latest.modality == modality:
            return latest
    return None


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _param_field(param: Param, initial: Any) -> forms.Field:
    """An input for one generator parameter, under its label, with its bounds in words."""
    info = param.describe()
    help_parts = [_sentence(info.get("help", ""))]
    label = info["label"]
    if param.type is bool:
        field: forms.Field = forms.BooleanField(label=label, required=False,
                                                initial=bool(initial))
    else:
        attrs: dict[str, Any] = {}
        if param.choices is not None:
            widget: forms.Widget = forms.Select(
                choices=[("", "(default)")] + [(str(c), str(c)) for c in param.choices])
        elif param.type in (int, float):
            unit = unit_for(param)
            if unit:
                help_parts.append(f"In {unit}.")
                attrs["data-unit"] = unit
            attrs["step"] = "1" if param.type is int else "any"
            if param.minimum is not None:
                attrs["min"] = info["minimum"]
            if param.maximum is not None:
                attrs["max"] = info["maximum"]
            widget = forms.NumberInput(attrs=attrs)
            if param.minimum is not None and param.maximum is not None:
                help_parts.append(f"From {info['minimum']} to {info['maximum']}.")
            elif param.minimum is not None:
                help_parts.append(f"At least {info['minimum']}.")
            elif param.maximum is not None:
                help_parts.append(f"At most {info['maximum']}.")
        else:
            if param.max_length is not None:
                attrs["maxlength"] = param.max_length
            widget = forms.TextInput(attrs=attrs)
        field = forms.CharField(label=label, required=False, strip=True, widget=widget,
                                initial="" if initial is None else str(initial))
    field.help_text = " ".join(p for p in help_parts if p)
    field.raw_name = param.name  # shown only inside the advanced fold
    return field


class GenerationForm(forms.Form):
    """Prompt version, its variables, the generator and its settings (the seed included).

    Fields are built from the chosen prompt version (its declared variables) and the chosen
    generator (its parameter schema). Every field is optional at this level on purpose; see
    the module docstring.

    Args:
        carried: values for variables (``var__<name>``) and ``seed`` typed before the
            fields were re-rendered, or copied from an earlier job.
        parameters: values for the generator's settings copied from an earlier job; when
            absent, the version's defaults apply, and only to the version's own generator.
        parent: the starting image of an image-to-image job (its settings that act only on
            a starting image are shown only then).
    """

    prompt_version = forms.CharField(label="Prompt version", required=False,
                                     widget=forms.Select)
    parent_asset = forms.CharField(required=False, widget=forms.HiddenInput)
    revision_of = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, templates: list[PromptTemplate],
                 version: PromptVersion, generators: dict[str, type[Generator]],
                 generator_id: str, fields_url: str, carried: dict[str, Any] | None = None,
                 parameters: dict[str, Any] | None = None, parent: Any = None,
                 revision: Any = None) -> None:
        super().__init__(data)
        self.version = version
        self.generators = generators
        self.generator_id = generator_id
        self.generator_cls = generators.get(generator_id)
        self.parent = parent
        self.revision = revision
        carried = carried or {}

        select = self.fields["prompt_version"]
        select.widget.choices = self._version_choices(templates)
        select.initial = str(version.pk)
        select.widget.attrs.update({
            "hx-get": fields_url, "hx-target": "#generation-fields", "hx-swap": "innerHTML",
            "hx-include": f"[name^='{VAR_PREFIX}'], [name='parent_asset']",
        })
        self.fields["parent_asset"].initial = str(parent.pk) if parent is not None else ""
        self.fields["revision_of"].initial = str(revision.pk) if revision is not None else ""

        self.variable_names: list[str] = []
        for var in version.variables:
            self._add_variable(var, carried.get(VAR_PREFIX + var["name"], ""))

        choices = [(gid, generator_label(cls))
                   for gid, cls in sorted(generators.items(),
                                          key=lambda item: generator_label(item[1]))]
        if self.generator_cls is None:
            choices.insert(0, (generator_id, "The prompt's generator (not installed)"))
        self.fields["generator"] = forms.CharField(
            label="Generator", required=False, initial=generator_id,
            widget=forms.Select(choices=choices, attrs={
                "hx-get": fields_url, "hx-target": "#generation-fields", "hx-swap": "innerHTML",
                "hx-include": (f"[name='prompt_version'], [name^='{VAR_PREFIX}'], "
                               "[name='seed'], [name='parent_asset']"),
            }))

        # The version's defaults were written for its own generator; another generator
        # starts from its own defaults (the service applies the same rule).
        own = generator_id == version.generator_id
        defaults = dict(version.default_parameters) if own else {}
        if parameters is not None:
            defaults = {k: v for k, v in parameters.items() if k != "seed"}
        seed_default = defaults.get("seed") if parameters is None else None
        self.fields["seed"] = forms.CharField(
            label="Seed", required=False,
            initial=carried.get("seed", "" if seed_default is None else str(seed_default)),
            help_text=("Leave blank for a new random result each time; the same seed with the "
                       "same settings gives the same result again."),
            widget=forms.NumberInput(attrs={"min": 0, "max": SEED_MAX, "step": 1}))
        self.fields["seed"].raw_name = "seed"

        self.parameter_names: list[str] = []
        self.plain_names: list[str] = []
        if self.generator_cls is not None:
            for param in self.generator_cls.all_parameters():
                if param.name == "seed" or (param.only_with_inputs and parent is None):
                    continue
                initial = defaults.get(param.name, param.default)
                self.fields[PARAM_PREFIX + param.name] = _param_field(param, initial)
                self.parameter_names.append(param.name)
                if param.plain:
                    self.plain_names.append(param.name)
        # A brand style, for image prompts (governance.review.styled applies it).
        styled = style_field(version, parameters)
        if styled is not None:
            self.fields[STYLE] = styled
        self.service_errors: list[tuple[str, str, str]] = []

    def _add_variable(self, var: dict[str, Any], value: Any) -> None:
        """A prompt variable: the author's description as its label (or as help when it is
        a sentence), and the default it falls back to as separate help."""
        name = var["name"]
        description = _sentence(var.get("description", "") or "")
        short = description and len(description) <= _LABEL_CHARS
        label = description.rstrip(".") if short else name.replace("_", " ").capitalize()
        help_parts = [] if short else [description]
        if var.get("default"):
            help_parts.append(f"Leave blank to use “{var['default']}”.")
        field = forms.CharField(label=label, required=False,
                                help_text=" ".join(p for p in help_parts if p),
                                initial=value,
                                widget=forms.TextInput(attrs={
                                    "placeholder": var.get("default") or ""}))
        field.required_hint = bool(var.get("required", True)) and not var.get("default")
        if field.required_hint:
            field.widget.attrs["aria-required"] = "true"
        self.fields[VAR_PREFIX + name] = field
        self.variable_names.append(name)

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
    def generator_name(self) -> str:
        """The chosen generator in words."""
        if self.generator_cls is None:
            return "The prompt's generator (not installed)"
        return generator_label(self.generator_cls)

    @property
    def variable_fields(self) -> list[forms.BoundField]:
        """Inputs for the version's declared variables, in declaration order."""
        return [self[VAR_PREFIX + name] for name in self.variable_names]

    @property
    def parameter_fields(self) -> list[forms.BoundField]:
        """Inputs for the generator's parameters other than the seed."""
        return [self[PARAM_PREFIX + name] for name in self.parameter_names]

    @property
    def plain_fields(self) -> list[forms.BoundField]:
        """The everyday settings, shown first."""
        return [self[PARAM_PREFIX + name] for name in self.plain_names]

    @property
    def advanced_fields(self) -> list[forms.BoundField]:
        """Everything else, then the seed: shown inside the "Advanced settings" fold."""
        return [self[PARAM_PREFIX + name] for name in self.parameter_names
                if name not in self.plain_names] + [self["seed"]]

    @property
    def advanced_open(self) -> bool:
        """Open the fold when one of its inputs has an error, so every error is in view."""
        return self.is_bound and any(field.errors for field in self.advanced_fields)

    @property
    def error_summary(self) -> list[dict[str, str]]:
        """Every error on the page, in page order: the input's label and id (if any) and
        the message, for the summary at the top."""
        if not self.is_bound:
            return []
        rows = []
        for name in ("prompt_version", *(VAR_PREFIX + n for n in self.variable_names),
                     "generator", *([STYLE] if STYLE in self.fields else []),
                     *(PARAM_PREFIX + n for n in self.plain_names),
                     *(f.name for f in self.advanced_fields)):
            bound = self[name]
            for message in bound.errors:
                rows.append({"label": str(bound.label), "id": bound.auto_id,
                             "message": message})
        for label, message, _ in self.service_errors:
            rows.append({"label": label, "id": "", "message": message})
        return rows

    @property
    def parent_errors(self) -> list[str]:
        """The service's refusals of the starting image, shown beside its thumbnail."""
        return [message for _, message, key in self.service_errors if key == "parent_asset"]

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
        out = {"prompt_version": data.get("prompt_version") or self.version.pk,
               "variables": variables, "generator": data.get("generator") or None,
               "parameters": parameters}
        for key in ("parent_asset", "revision_of"):
            if data.get(key):
                out[key] = data[key]
        if data.get(STYLE):
            # With a style, settings left as the form showed them give way to the style's.
            out[STYLE] = data[STYLE]
            out["parameters"] = {k: v for k, v in parameters.items()
                                 if k == "seed" or PARAM_PREFIX + k in self.changed_data}
        return out

    def field_for_error(self, key: str) -> str | None:
        """The input a service error key belongs to, or None for a form-wide error."""
        if key == STYLE and STYLE in self.fields:
            return STYLE
        if key in self.variable_names:
            return VAR_PREFIX + key
        if key in _DIRECT_KEYS:
            return _DIRECT_KEYS[key]
        name = key.removeprefix("parameters.")
        if name in self.parameter_names:
            return PARAM_PREFIX + name
        return None

    def _words_for(self, key: str) -> str:
        name = key.removeprefix("parameters.")
        if self.generator_cls is not None:
            for param in self.generator_cls.all_parameters():
                if param.name == name:
                    return param.describe()["label"]
        return _KEY_WORDS.get(key, "Settings" if key.startswith("parameters.") else
                              key.replace("_", " ").capitalize())

    def add_service_errors(self, exc: AssayError) -> None:
        """Show each of the service's messages next to its input (the others, named in
        words, in the summary at the top)."""
        for key, messages in exc.errors.items():
            field = self.field_for_error(key)
            for message in messages:
                if field:
                    self.add_error(field, message)
                else:
                    self.service_errors.append((self._words_for(key), message, key))
