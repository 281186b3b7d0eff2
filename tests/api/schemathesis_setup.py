"""Test data for the schemathesis run (tests/api/test_schemathesis.py), in its own database.

Run as a script with DJANGO_SETTINGS_MODULE and DATABASE_URL set, after `migrate`: the
demo data, a ``fuzzer`` user who is a platform admin and owner of the demo project (so
generated requests get past roles to the code behind them), one finished text job with
its asset and review, one queued job, and an API token. Prints the ids as JSON.
"""

from __future__ import annotations

import json

import django


def main() -> dict[str, object]:
    """Create the data; return what the run's configuration needs."""
    django.setup()
    from assay.accounts.choices import GlobalRole, ProjectRole
    from assay.accounts.services import create_token, create_user
    from assay.audit.context import Actor, audit_context
    from assay.generation.runtime import run_job
    from assay.generation.services import submit_generation
    from assay.studio.bootstrap import bootstrap_demo
    from assay.studio.models import Asset, Project
    from assay.studio.services.projects import grant_role
    from assay.studio.services.prompts import create_template
    from governance.review.models import Review

    logins = bootstrap_demo()
    project = Project.objects.get(slug=logins.project_slug)
    with audit_context(actor=Actor.system("schemathesis-setup")):
        fuzzer = create_user("fuzzer", "fuzzer-pw", email="fuzzer@example.com",
                             global_role=GlobalRole.ADMIN, is_staff=True)
        grant_role(project, fuzzer, ProjectRole.OWNER)
        create_template(project, fuzzer, name="Echo", slug="echo",
                        text="Write about {{ product }}.",
                        variables=[{"name": "product", "required": True}],
                        generator_id="dummy-echo")
        done = submit_generation(fuzzer, project=project.slug, template="echo",
                                 variables={"product": "Kite"})
        run_job(str(done.pk), worker="schemathesis-setup")
        queued = submit_generation(fuzzer, project=project.slug, template="echo",
                                   variables={"product": "Glider"})
        token, raw = create_token(fuzzer, name="schemathesis", scope="write", days=1)
    assets = [str(pk) for pk in Asset.objects.values_list("pk", flat=True)]
    return {
        "token": raw, "token_id": token.pk, "project": project.slug,
        "templates": ["echo", "product-intro"],
        "jobs": [str(done.pk), str(queued.pk)], "assets": assets,
        "reviews": list(Review.objects.values_list("pk", flat=True)),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
