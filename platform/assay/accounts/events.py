"""Action codes the accounts app records: sign-ins, users, teams, API tokens."""

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
register("accounts.provider.linked", "Signed in with the provider for the first time",
         "A user signed in through single sign-on for the first time; their Assay account "
         "was created and linked to the provider's account.")
register("accounts.provider.synced", "Provider groups applied",
         "At a single sign-on, the user's provider groups were mapped to their global role "
         "and project roles.")
register("accounts.provider.membership_removed", "Provider role removed",
         "A project role the provider's group mapping had given was removed, because the "
         "user left the group.")
register("accounts.provider.refused", "Single sign-on refused",
         "A sign-in through the provider was refused; data holds the reason.")
