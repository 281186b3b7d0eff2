"""Forms of the owners' screens: shape and the owner's line formats only.

Every rule (lengths, trigger kinds, RE2 patterns, stage limits, quota scopes) is the
service's; a form turns what an owner typed into the data the service takes, and the view
puts the service's refusal back on the field it concerns.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms

from assay.plugins.contracts import SEVERITIES
from governance.review.choices import MAX_STAGES
from governance.usage.choices import Metric

#: "term → alternative, alternative" (also "->" or "=>").
_ARROW = re.compile(r"\s*(?:→|->|=>)\s*")
_LINES = "One per line."


def parse_terms(text: str) -> list[dict[str, Any]]:
    """``cheap → affordable, low-cost`` lines as banned terms with alternatives."""
    terms = []
    for line in text.splitlines():
        if not line.strip():
            continue
        term, *rest = _ARROW.split(line.strip(), maxsplit=1)
        alts = rest[0] if rest else ""
        terms.append({"term": term.strip(),
                      "alternatives": [a.strip() for a in alts.split(",") if a.strip()]})
    return terms


def parse_disclaimers(text: str) -> list[dict[str, Any]]:
    """``The text | price, keyword:sale`` lines as disclaimers with their triggers."""
    items = []
    for line in text.splitlines():
        if not line.strip():
            continue
        body, bar, triggers = line.rpartition("|")
        if not bar:
            body, triggers = line, ""
        items.append({"text": body.strip(),
                      "triggers": [t.strip() for t in triggers.split(",") if t.strip()]})
    return items


def terms_text(terms: list[dict[str, Any]]) -> str:
    """Banned terms back as the lines an owner edits."""
    return "\n".join(t["term"] + (" → " + ", ".join(t["alternatives"])
                                  if t.get("alternatives") else "") for t in terms)


def disclaimers_text(disclaimers: list[dict[str, Any]]) -> str:
    """Disclaimers back as the lines an owner edits."""
    return "\n".join(f"{d['text']} | {', '.join(d['triggers'])}" for d in disclaimers)


class BrandKitForm(forms.Form):
    """The brand kit as an owner writes it."""

    voice = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(
        attrs={"rows": 4}), label="Voice",
        help_text="How the brand sounds: writers and prompts follow it.")
    banned_terms = forms.CharField(
        required=False, label="Banned terms", widget=forms.Textarea(attrs={"rows": 6}),
        help_text=f"{_LINES} A word the brand never uses, then an arrow and what to say "
                  "instead: cheap → affordable, low-cost")
    disclaimers = forms.CharField(
        required=False, label="Disclaimers", widget=forms.Textarea(attrs={"rows": 5}),
        help_text=f"{_LINES} The text that must appear, a bar, then when it is needed: "
                  "price, percentage, health, financial, keyword:word or regex:pattern. "
                  "Example: Prices may change. | price, keyword:sale")
    min_width = forms.IntegerField(label="Smallest image width (pixels)", min_value=1,
                                   max_value=8192, initial=256)
    min_height = forms.IntegerField(label="Smallest image height (pixels)", min_value=1,
                                    max_value=8192, initial=256)

    def service_data(self) -> dict[str, Any]:
        """What :func:`governance.review.brand.update_brand_kit` takes."""
        data = self.cleaned_data
        return {"voice": data["voice"], "banned_terms": parse_terms(data["banned_terms"]),
                "disclaimers": parse_disclaimers(data["disclaimers"]),
                "min_width": data["min_width"], "min_height": data["min_height"]}


class FactForm(forms.Form):
    """One approved fact."""

    statement = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                                help_text="A claim the project may make, as it may be said.")
    source_url = forms.URLField(required=False, max_length=500, label="Source",
                                assume_scheme="https",
                                help_text="Where it is backed up (a web address).")
    valid_from = forms.DateField(required=False, label="Valid from",
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(required=False, label="Valid until",
                                  widget=forms.DateInput(attrs={"type": "date"}))


class FactImportForm(forms.Form):
    """A CSV file of facts."""

    file = forms.FileField(label="CSV file",
                           help_text="Columns statement, source_url, valid_from, valid_until "
                                     "(dates as 2026-01-31). All rows are imported or none.")
    mode = forms.ChoiceField(choices=[("add", "Add to the library"),
                                      ("replace", "Replace the whole library")],
                             initial="add", widget=forms.RadioSelect, label="What to do")


_ROLES = [("reviewer", "Reviewers"), ("owner", "Owners")]


class StageForm(forms.Form):
    """One review stage."""

    name = forms.CharField(max_length=60, label="Stage name")
    roles = forms.MultipleChoiceField(choices=_ROLES, widget=forms.CheckboxSelectMultiple,
                                      label="Who may decide", required=False)
    approvals_required = forms.IntegerField(label="Approvals needed", min_value=1,
                                            max_value=10, initial=1)
    due_hours = forms.FloatField(label="Due within (hours)", min_value=0.01,
                                 max_value=24 * 60, initial=48)


StageFormSet = forms.formset_factory(StageForm, extra=0, can_delete=True, can_order=True,
                                     max_num=MAX_STAGES, validate_max=True)


class PolicyForm(forms.Form):
    """The policy's settings beside its stages."""

    blocking_severities = forms.MultipleChoiceField(
        choices=[(s, s.title()) for s in SEVERITIES], widget=forms.CheckboxSelectMultiple,
        required=False, label="Failed checks that block approval",
        help_text="A failed check of these severities cannot be approved past.")
    auto_submit = forms.BooleanField(required=False, label="Submit assets for review as "
                                                          "soon as their checks finish")


class QuotaForm(forms.Form):
    """One monthly limit."""

    scope = forms.ChoiceField(label="Whose work", choices=[
        ("project", "The whole project"), ("user", "One member in this project"),
        ("team", "The whole team (platform admins)")])
    user = forms.ChoiceField(label="Member", required=False, choices=[])
    metric = forms.ChoiceField(label="What it counts", choices=Metric.choices)
    limit = forms.IntegerField(label="Limit per month", min_value=0)

    def __init__(self, *args: Any, members: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "—")] + [(m, m) for m in members]


class ModelsForm(forms.Form):
    """The registered models this project may use."""

    models = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple,
                                       label="Models this project may use")

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = [(n, n) for n in names]
