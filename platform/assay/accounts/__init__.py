"""Users, teams, global roles and API tokens."""
