"""The action codes the platform itself records (plugins may register their own)."""

from assay.audit.registry import register

register("accounts.user.logged_in", "Signed in", "A user signed in to the portal.")
register("accounts.user.logged_out", "Signed out", "A user signed out of the portal.")
register("accounts.user.login_failed", "Sign-in failed", "Wrong credentials were given.")
register("accounts.user.created", "User created", "A user account was created.")
register("accounts.user.changed", "User changed",
         "An admin changed a user's account (role, activity, details).")
register("accounts.token.issued", "API token issued",
         "An API token was created for a user (older events; now accounts.token.created).")
register("accounts.token.created", "API token created",
         "An API token was created; data holds its owner, name, scope and expiry (never the "
         "secret).")
register("accounts.token.revoked", "API token revoked",
         "An API token was revoked; it is refused from the next request on.")
register("accounts.user.locked_out", "Sign-in locked",
         "Repeated failed sign-ins for one username from one address locked further "
         "attempts for the cool-off time.")
register("accounts.team.created", "Team created", "A team was created.")
register("studio.project.created", "Project created", "A project was created in a team.")
register("studio.membership.granted", "Role granted", "A user was given a role in a project.")
register("studio.membership.changed", "Role changed", "A member's project role changed.")
register("studio.prompt.created", "Prompt template created", "A prompt template was created.")
register("studio.prompt_version.created", "Prompt version created",
         "A new immutable version of a prompt template was saved.")
register("studio.prompt_label.moved", "Prompt label moved",
         "A label such as 'production' now points at another version.")
register("studio.generation.submitted", "Generation submitted", "A generation job was queued.")
register("studio.generation.started", "Generation started", "A worker claimed the job.")
register("studio.generation.succeeded", "Generation succeeded", "The job stored its outputs.")
register("studio.generation.failed", "Generation failed", "The job ended with an error.")
register("studio.generation.cancel_requested", "Cancellation requested",
         "A user asked to cancel a running job; the worker stops at the next step.")
register("studio.generation.cancelled", "Generation cancelled", "The job was cancelled.")
register("studio.generation.requeued", "Generation re-sent",
         "The sweeper sent a queued or abandoned job to the broker again.")
register("studio.asset.created", "Asset stored", "A generated output was stored as an asset.")
register("generation.models.built", "Demo models built", "Local demo models were built.")
register("generation.model.registered", "Model registered",
         "A model was registered or re-pinned in the model registry.")
register("audit.events.exported", "Audit log exported",
         "An auditor or admin started an export of audit events; data holds the filter, "
         "the format and the last event id the export covers.")
register("audit.events.export_completed", "Audit export finished",
         "An export stream ended; data names the export event, the rows sent and whether "
         "the client read to the end.")
register("audit.chain.verified", "Audit log verified",
         "Someone checked the hash chain and the signed checkpoints; data holds the result.")
