"""A real Celery worker process keeps its output in the S3 bucket (ASSAY_MEDIA_STORAGE=s3).

The bucket is on moto's standalone S3 server, started in this test process on a free
loopback port (tests/fixtures/s3.py): the only S3 endpoint reachable here. The worker is
a separate process that builds its storage from the same ASSAY_S3_* variables a pod gets,
so this is the deployment's path: web and workers share media through the bucket, with
no volume between them.
"""

from __future__ import annotations

import pytest

from assay.generation.models import GenerationJob
from assay.generation.services import submit_generation
from assay.studio.models import Asset
from tests.conftest import IN_CI, redis_url
from tests.fixtures import s3 as s3_fixtures
from tests.fixtures.s3 import S3Media
from tests.fixtures.workers import wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.worker,
              pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]
moto_s3, s3_media = s3_fixtures.moto_s3, s3_fixtures.s3_media  # this module's fixtures


@pytest.fixture(autouse=True)
def redis_broker(require_postgres: None) -> None:
    """The job reaches the worker process through a real broker."""
    if redis_url() is None:
        if IN_CI:
            pytest.fail("CI=true but the tests are not using a Redis broker")
        pytest.skip("no Redis broker (set CELERY_BROKER_URL=redis://…)")


def test_a_worker_process_stores_its_output_in_the_bucket(
        s3_media: S3Media, users, project, template, start_worker, tmp_path):
    # The worker's MEDIA_ROOT is a file: had it written locally, the job would fail.
    not_a_folder = tmp_path / "no-local-media"
    not_a_folder.write_text("media goes to the bucket")
    worker = start_worker(MEDIA_ROOT=not_a_folder, **s3_media.env)
    job = submit_generation(users["creator"], project=project, template="blurb",
                            variables={"product": "Kite"}, parameters={"as_file": True})
    done = wait_for(lambda: (j := GenerationJob.objects.get(pk=job.pk)).is_terminal and j,
                    timeout=90, message="the worker to finish the job")
    assert done.status == "succeeded", (done.error, worker.log()[-3000:])
    asset = Asset.objects.get(job=done)
    assert s3_media.keys() == {f"{s3_fixtures.LOCATION}/{asset.file.name}"}
    assert asset.file.name.startswith(f"assets/{project.pk}/")
    assert s3_media.get(asset.file.name) == asset.read_bytes()
    assert b"Kite" in asset.read_bytes()
