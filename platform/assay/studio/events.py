"""Action codes the studio records: projects, members, prompts, assets."""

from assay.audit.registry import register

register("studio.project.created", "Project created", "A project was created in a team.")
register("studio.membership.granted", "Role granted", "A user was given a role in a project.")
register("studio.membership.changed", "Role changed", "A member's project role changed.")
register("studio.prompt.created", "Prompt template created", "A prompt template was created.")
register("studio.prompt_version.created", "Prompt version created",
         "A new immutable version of a prompt template was saved.")
register("studio.prompt_label.moved", "Prompt label moved",
         "A label such as 'production' now points at another version.")
register("studio.asset.created", "Asset stored", "A generated output was stored as an asset.")
register("studio.project.changed", "Project changed",
         "An owner changed a project's name or description.")
register("studio.membership.removed", "Member removed", "A member was removed from a project.")
register("studio.invitation.sent", "Invitation sent",
         "An owner invited an e-mail address to a project (a one-time link).")
register("studio.invitation.accepted", "Invitation accepted",
         "An invited person accepted and became a member.")
register("studio.prompt_label.protected", "Label protected",
         "An owner protected a label: it now moves only through an approved promotion.")
register("studio.prompt_label.unprotected", "Label protection lifted",
         "An owner lifted a label's protection: it moves by hand again.")
register("studio.golden_set.saved", "Golden set saved",
         "The sample variables a template's promotions are tried on were changed.")
