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
