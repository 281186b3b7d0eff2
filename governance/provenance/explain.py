"""Plain words for C2PA validation states and failure codes."""

from __future__ import annotations

HEADLINES = {
    "trusted": "Trusted: the Content Credentials are intact and were signed with a "
               "certificate this server trusts.",
    "valid": "Valid but untrusted: the file and its Content Credentials are intact, but the "
             "signing certificate does not lead to a root this server trusts. Anyone can "
             "make such a certificate, so the signer, model and approvals it names are only "
             "claims (listed under 'claimed by an untrusted signer').",
    "invalid": "Invalid: the Content Credentials do not match this file, or their signature "
               "fails. See the failures below.",
    "none": "No Content Credentials: this file carries no C2PA manifest, so it says nothing "
            "about where it came from.",
}

NO_SIDECAR = ("No Content Credentials: text carries its C2PA manifest in a separate .c2pa "
              "sidecar file. Upload it with the text (field `sidecar`, or --sidecar).")
NO_SIDECAR_AUDIO = ("No Content Credentials: Ogg audio carries its C2PA manifest in a "
                    "separate .c2pa sidecar file (C2PA cannot embed one in Ogg). Upload it "
                    "with the audio (field `sidecar`, or --sidecar).")

MEANINGS = {
    "assertion.dataHash.mismatch": "The file's content changed after it was signed: its hash "
                                   "no longer matches the one in the manifest.",
    "assertion.boxesHash.mismatch": "The file's content changed after it was signed.",
    "assertion.bmffHash.mismatch": "The media content changed after it was signed.",
    "assertion.collectionHash.mismatch": "A file of the signed collection changed.",
    "assertion.hashedURI.mismatch": "A statement inside the manifest was altered after "
                                    "signing.",
    "assertion.missing": "The manifest refers to a statement that is not there.",
    "assertion.multipleHardBindings": "The manifest binds to the content more than once.",
    "assertion.undeclared": "The manifest holds a statement its signature does not cover.",
    "assertion.action.ingredientMismatch": "An action names an ingredient that does not "
                                           "match.",
    "claim.missing": "The manifest has no claim (it is damaged).",
    "claimSignature.missing": "The manifest is not signed.",
    "claimSignature.mismatch": "The signature does not match the manifest: the manifest was "
                               "altered after signing.",
    "claimSignature.outsideValidity": "It was signed outside the certificate's validity "
                                      "period, and no trusted timestamp proves otherwise.",
    "signingCredential.untrusted": "The signing certificate does not lead to a trusted root: "
                                   "the signer's identity cannot be confirmed.",
    "signingCredential.invalid": "The signing certificate is not acceptable for C2PA "
                                 "(wrong usage, algorithm or structure).",
    "signingCredential.revoked": "The signing certificate was revoked.",
    "signingCredential.expired": "The signing certificate had expired when it was used.",
    "timeStamp.mismatch": "The timestamp does not match the signature.",
    "timeStamp.untrusted": "The timestamp authority is not trusted.",
    "timeStamp.outsideValidity": "The timestamp lies outside the certificate's validity.",
    "manifest.inaccessible": "The manifest could not be read.",
    "manifest.missing": "The manifest the file points to is missing.",
    "manifest.multipleParents": "The manifest claims more than one parent.",
    "ingredient.hashedURI.mismatch": "An ingredient's record was altered.",
    "ingredient.manifest.mismatch": "An ingredient's manifest does not match the one "
                                    "recorded when it was used.",
    "ingredient.manifest.missing": "An ingredient's manifest is missing.",
    "general.error": "The manifest could not be validated.",
}


def meaning(code: str, explanation: str = "") -> str:
    """A sentence for a failure code; the library's own words when the code is new."""
    if code in MEANINGS:
        return MEANINGS[code]
    family = code.split(".")[0]
    generic = {"assertion": "A statement in the manifest failed validation.",
               "signingCredential": "The signing certificate failed validation.",
               "claimSignature": "The signature failed validation.",
               "ingredient": "An ingredient failed validation.",
               "timeStamp": "The timestamp failed validation."}.get(family, "Validation failed.")
    return f"{generic} ({explanation})" if explanation else generic
