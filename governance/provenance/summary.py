"""A readable summary of a manifest store: who signed, when, AI or not, model, approvals.

Follows the parentOf chain (a re-signed derivative keeps its parent's manifest as an
ingredient), so a resized copy still reports the approvals of the original.

Only a trusted file's facts are stated as facts. Anyone can make a certificate and write
any signer, model or approval into a manifest, so for a file that is not trusted the same
facts are nested under ``claimed_by_untrusted_signer`` and every line says "it says".
"""

from __future__ import annotations

from typing import Any

from governance.provenance.labels import AI_SOURCE_TYPES, ASSERTION


def _assertion(manifest: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [a.get("data") or {} for a in manifest.get("assertions", [])
            if str(a.get("label", "")).startswith(prefix)]


def chain(store: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, manifest) from the active manifest back through its parentOf ingredients."""
    manifests = store.get("manifests") or {}
    label = store.get("active_manifest")
    seen: list[tuple[str, dict[str, Any]]] = []
    while label and label in manifests and all(label != s[0] for s in seen):
        manifest = manifests[label]
        seen.append((label, manifest))
        parents = [i for i in manifest.get("ingredients", [])
                   if i.get("relationship") == "parentOf"]
        label = parents[0].get("active_manifest") if parents else None
    return seen


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for data in _assertion(manifest, "c2pa.actions") for a in data.get("actions", [])]


def summarise(store: dict[str, Any]) -> dict[str, Any]:
    """The facts a person asks about a signed file, newest manifest first."""
    links = chain(store)
    if not links:
        return {}
    active = links[0][1]
    signature = active.get("signature_info") or {}
    actions = [a for _, m in links for a in _actions(m)]
    ai_types = [a["digitalSourceType"] for a in actions
                if a.get("digitalSourceType") in AI_SOURCE_TYPES]
    agent = next((a["softwareAgent"] for a in actions
                  if isinstance(a.get("softwareAgent"), dict)
                  and "org.assay.model" in a["softwareAgent"]), None)
    governance = next((d for _, m in links for d in _assertion(m, ASSERTION)
                       if "approvals" in d), None)
    own = next(iter(_assertion(active, ASSERTION)), {})
    signed_at = signature.get("time") or own.get("signed_at")
    style = ((governance or own).get("generation") or {}).get("style")
    return {
        **({"style": style} if isinstance(style, str) else {}),
        "title": active.get("title"),
        "signed_by": {"common_name": signature.get("common_name"),
                      "issuer": signature.get("issuer"), "algorithm": signature.get("alg")},
        "signed_at": signed_at,
        "signed_at_source": ("timestamp authority" if signature.get("time")
                             else "stated by the signer (no trusted timestamp)"
                             if signed_at else None),
        "claim_generator": [g.get("name") for g in active.get("claim_generator_info", [])],
        "ai_generated": bool(ai_types),
        "digital_source_type": ai_types[0] if ai_types else None,
        "actions": [a.get("action") for a in _actions(active)],
        "generator": ({"name": agent.get("name"), "version": agent.get("version"),
                       "plugin": agent.get("org.assay.plugin")} if agent else None),
        "model": agent.get("org.assay.model") if agent else None,
        "project": (governance or own).get("project"),
        "prompt": ((governance or {}).get("generation") or {}).get("prompt"),
        "checks": (governance or {}).get("checks", []),
        "approvals": (governance or {}).get("approvals", []),
        "ingredients": [{"title": i.get("title"), "relationship": i.get("relationship"),
                         "manifest": i.get("active_manifest")}
                        for i in active.get("ingredients", [])],
        "history": [{"manifest": label, "title": m.get("title"),
                     "actions": [a.get("action") for a in _actions(m)]}
                    for label, m in links],
    }


#: Where the facts of a file whose credentials are not trusted go, and the heading that
#: says so. Nothing under them is confirmed: anyone can make a certificate and write any
#: signer, model or approval into a manifest.
CLAIMED = {"valid": ("claimed_by_untrusted_signer",
                     "Claimed by an untrusted signer (none of this is confirmed):"),
           "invalid": ("claimed_by_invalid_credentials",
                       "Claimed by Content Credentials that failed validation (none of this "
                       "is confirmed):")}
_SHOWN = 200  # characters of signer-written text repeated in a line


def _short(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def present(state: str, facts: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(summary, lines) for a report: facts as facts only when the file is trusted.

    Otherwise they are nested under ``claimed_by_untrusted_signer`` (or
    ``claimed_by_invalid_credentials``) and each line says it is a claim, so a forged
    signer or approval is never repeated as if it were true.
    """
    if not facts:
        return {}, []
    if state == "trusted":
        return {"trusted": True, **facts}, sentences(facts)
    key, heading = CLAIMED.get(state, CLAIMED["invalid"])
    return ({"trusted": False, key: facts},
            [heading, *(f"  {line}" for line in sentences(facts, claimed=True))])


def _approval(item: dict[str, Any], claimed: bool) -> str:
    said = (f"stage '{_short(item.get('stage'))}' by {_short(item.get('reviewer'))} "
            f"({_short(item.get('reviewer_role'))}) at {_short(item.get('decided_at'))}")
    line = f"It says it was approved at {said}" if claimed else f"Approved at {said}"
    overrides = [o for o in item.get("overrides") or [] if isinstance(o, dict)]
    if overrides:
        line += ", past " + "; ".join(
            f"the warning {_short(o.get('check_id'))} (reason: {_short(o.get('reason'))})"
            for o in overrides)
    return line + "."


def sentences(summary: dict[str, Any], *, claimed: bool = False) -> list[str]:
    """The summary as lines a person reads (CLI output, API ``lines``).

    ``claimed``: the signer is not trusted, so every line says "it says", never "it is".
    """
    if not summary:
        return []
    who = summary["signed_by"]
    signer = (f"{_short(who.get('common_name') or 'an unnamed certificate')}"
              + (f" ({_short(who['issuer'])})" if who.get("issuer") else "")
              + (f" at {_short(summary['signed_at'])} ({summary['signed_at_source']})"
                 if summary.get("signed_at") else ", time not stated"))
    lines = [f"It says it was signed by {signer}; this is not confirmed."
             if claimed else f"Signed by {signer}."]
    if summary["ai_generated"]:
        model = summary.get("model") or {}
        gen = summary.get("generator") or {}
        made = f" by {_short(gen['name'])} {_short(gen.get('version') or '')}".rstrip() \
            if gen else ""
        with_model = (f" with model {_short(model.get('id'))}"
                      + (f" at revision {_short(model['revision'])}"
                         if model.get("revision") else "")
                      if model else "")
        lines.append(f"{'It says it is AI-generated' if claimed else 'AI-generated'}"
                     f"{made}{with_model}.")
    else:
        lines.append("Not declared as AI-generated.")
    if summary.get("project"):
        name = _short(summary["project"].get("name") or summary["project"].get("slug"))
        lines.append(f"It names the project {name}." if claimed else f"Project: {name}.")
    if summary.get("style"):
        style = _short(summary["style"])
        lines.append(f"It says it was made in the brand style '{style}'." if claimed
                     else f"Brand style: {style}.")
    for item in summary.get("approvals", []):
        lines.append(_approval(item, claimed))
    if len(summary.get("history", [])) > 1:
        titles = " ← ".join(_short(h["title"] or h["manifest"]) for h in summary["history"])
        lines.append(f"{'It lists' if claimed else 'History:'} {len(summary['history'])} "
                     f"signed versions ({titles}).")
    return lines
