from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users with a global role (auditor, admin), teams and hashed API tokens."""

    name = "assay.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Connect the sign-in lockout's audit receiver."""
        from assay.accounts import signals  # noqa: F401  (registers the receiver)
