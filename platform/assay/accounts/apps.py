from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Users with a global role (auditor, admin), teams and hashed API tokens."""

    name = "assay.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Register the accounts' audit action codes; connect the lockout's receiver."""
        from assay.accounts import events, signals  # noqa: F401
