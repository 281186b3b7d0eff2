"""A worker killed while it signs: every approved version still ends with exactly one
signed file and one signing event (real workers on PostgreSQL + Redis; bench/faults.py
repeats the scenario, tests/fixtures/faults.py)."""

from __future__ import annotations

import pytest

from assay.audit.models import AuditEvent
from governance.provenance.models import SignedAsset
from governance.review.models import Review
from tests.fixtures.faults import SLOW_SIGNING, World, kill_while_signing

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]


def test_a_worker_killed_while_signing_leaves_one_signature_per_approval(
        users, project, template, require_postgres, require_redis, start_fleet):
    fleet = start_fleet(args=SLOW_SIGNING, ASSAY_FAULTS_SIGN_DELAY=2)
    outcome = kill_while_signing(World(users["creator"], users["reviewer"], project), fleet,
                                 approvals=3)
    assert outcome.clean, outcome.problems
    assert outcome.once == outcome.expected == 3
    assert outcome.stray_files == 0  # killed before writing: nothing left behind
    approved = Review.objects.filter(status="approved")
    assert approved.count() == 3
    for review in approved:
        [signed] = SignedAsset.objects.filter(asset=review.asset)
        assert signed.review_id == review.pk and signed.source_sha256 == review.content_sha256
        assert signed.file.storage.exists(signed.file.name)
        assert signed.sidecar  # text: the manifest is in its sidecar
    assert AuditEvent.objects.filter(action="provenance.asset.signed").count() == 3
    # The kill landed on a signature made and not yet stored.
    killed = fleet.retired[0].log()
    assert "faults: signature made, holding it" in killed
