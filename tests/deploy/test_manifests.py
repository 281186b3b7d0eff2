"""The rendered kustomize overlays, checked offline: they render, validate against the
Kubernetes API schemas (strict) and our own schemas for KEDA and prometheus-operator kinds,
pass checkov, and hold the rules the deployment depends on (one worker and one autoscaler
per queue, GPU pods only on the GPU pool, hardened pods, known settings, no secrets).

No cluster is needed: kubectl kustomize, kubernetes-validate and checkov all run offline.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from kubernetes_validate import utils as kubernetes_validate

from assay.conf import LIBRARY_ENVIRONMENT, SETTINGS
from assay.generation.queues import defined_queues, is_accelerator_queue
from assay.plugins.manager import ENTRY_POINT_GROUP, build_plugins
from bench.k8s_resources import totals
from tests.deploy.render import (
    K8S,
    OVERLAYS,
    REPO,
    all_containers,
    of_kind,
    pod_spec,
    render,
    rendered_text,
    workloads,
)

#: Oldest cluster the manifests target (the preStop sleep action is on by default from
#: 1.30) and the newest kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
SCHEMAS = K8S / "schemas"
CUSTOM_KINDS = {("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
                ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication.json",
                ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json"}
CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
#: The Secrets the manifests may reference (docs/deploy.md lists how to create them).
SECRETS = {
    "assay-secrets": {"DATABASE_URL", "SECRET_KEY", "ASSAY_AUDIT_KEY", "CELERY_BROKER_URL",
                      "ASSAY_CACHE_URL", "ASSAY_METRICS_TOKEN", "ASSAY_OIDC_CLIENT_SECRET",
                      "ASSAY_S3_ACCESS_KEY_ID", "ASSAY_S3_SECRET_ACCESS_KEY"},
    "assay-signing": {"cert.pem", "key.pem", "trust-anchors.pem"},
    "assay-scaler-db": {"connection"},
    "assay-tls": {"tls.crt", "tls.key"},
}
POOL_LABEL = "assay.io/node-pool"
GPU = "nvidia.com/gpu"
METADATA_ADDRESS = "169.254.169.254/32"


def docs_of(overlay: str) -> list[dict[str, Any]]:
    return render(overlay)


def named(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(docs, kind)}


def argv(container: dict[str, Any]) -> list[str]:
    return [str(a) for a in [*container.get("command", []), *container.get("args", [])]]


def worker_queue(deployment: dict[str, Any]) -> str | None:
    """The queue a Celery worker Deployment drains (its ``-Q``), None for other pods."""
    for container in pod_spec(deployment)["containers"]:
        words = argv(container)
        if "worker" in words and "-Q" in words:
            return words[words.index("-Q") + 1]
    return None


def workers(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """queue -> the worker Deployments that drain it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for deployment in of_kind(docs, "Deployment"):
        queue = worker_queue(deployment)
        if queue is not None:
            found.setdefault(queue, []).append(deployment)
    return found


def real_queues() -> list[str]:
    """The queues code sends to, from the generators of the installed "assay" plugins only
    (never the test-only group's dummy plugin)."""
    plugins = build_plugins(entry_points=importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                            strict=True)
    return defined_queues(plugins.generators.values())


def label_selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a set of labels."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get(
            "values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# --- 1. rendering --------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders(overlay):
    docs = docs_of(overlay)
    assert docs and all(doc.get("metadata", {}).get("namespace") == "assay"
                        for doc in docs if doc["kind"] != "Namespace")
    assert of_kind(docs, "Deployment") and of_kind(docs, "ScaledObject")


# --- 2. schemas ----------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_builtin_kinds_validate_strictly(overlay, version):
    """Every object whose kind Kubernetes defines passes kubernetes-validate --strict (its
    shipped schemas: no network); every other kind is one we hold a schema for."""
    for doc in docs_of(overlay):
        if (doc["apiVersion"], doc["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} ({version}): {exc.message} "
                        f"at {'/'.join(str(p) for p in exc.absolute_path)}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{exc.message}: add a schema under k8s/schemas")


def _registry() -> referencing.Registry:
    resources = [(path.name, referencing.Resource.from_contents(json.loads(path.read_text())))
                 for path in SCHEMAS.glob("*.json")]
    registry = referencing.Registry().with_resources(resources)
    # The schemas name each other by $id too.
    return registry.with_resources(
        (resource.contents["$id"], resource) for _, resource in resources)


def custom_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / CUSTOM_KINDS[(api_version, kind)]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=_registry())


def schema_errors(doc: dict[str, Any]) -> list[str]:
    validator = custom_validator(doc["apiVersion"], doc["kind"])
    return [f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
            for error in validator.iter_errors(doc)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_custom_kinds_match_their_schemas(overlay):
    docs = docs_of(overlay)
    seen = set()
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        if key in CUSTOM_KINDS:
            seen.add(key)
            assert not schema_errors(doc), (doc["metadata"]["name"], schema_errors(doc))
    assert seen == set(CUSTOM_KINDS)


def _gpu_scaled_object() -> dict[str, Any]:
    return named(docs_of("prod"), "ScaledObject")["assay-worker-gpu-text"]


def _mutations() -> list[tuple[str, str, Any]]:
    """(what, kind, change) for objects the schemas must refuse."""

    def misspelled_spec_field(doc):
        doc["spec"]["minReplicaCounts"] = doc["spec"].pop("minReplicaCount")

    def unknown_trigger_type(doc):
        doc["spec"]["triggers"][0]["type"] = "redis-lists"

    def misspelled_scaler_parameter(doc):
        metadata = doc["spec"]["triggers"][0]["metadata"]
        metadata["targetQueryValues"] = metadata.pop("targetQueryValue")

    def query_missing(doc):
        del doc["spec"]["triggers"][0]["metadata"]["query"]

    def number_as_text(doc):
        doc["spec"]["maxReplicaCount"] = "8"

    def no_scale_target(doc):
        del doc["spec"]["scaleTargetRef"]

    def misspelled_behavior(doc):
        doc["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behaviour"] = (
            doc["spec"]["advanced"]["horizontalPodAutoscalerConfig"].pop("behavior"))

    def secret_ref_without_key(doc):
        del doc["spec"]["secretTargetRef"][0]["key"]

    def monitor_bearer_token(doc):
        doc["spec"]["endpoints"][0]["bearerToken"] = "x"

    def monitor_bad_interval(doc):
        doc["spec"]["endpoints"][0]["interval"] = "30 seconds"

    return [("misspelled spec field", "ScaledObject", misspelled_spec_field),
            ("unknown trigger type", "ScaledObject", unknown_trigger_type),
            ("misspelled scaler parameter", "ScaledObject", misspelled_scaler_parameter),
            ("postgresql trigger without query", "ScaledObject", query_missing),
            ("replica count as a string", "ScaledObject", number_as_text),
            ("no scaleTargetRef", "ScaledObject", no_scale_target),
            ("misspelled behavior", "ScaledObject", misspelled_behavior),
            ("secretTargetRef without key", "TriggerAuthentication", secret_ref_without_key),
            ("unknown endpoint field", "ServiceMonitor", monitor_bearer_token),
            ("bad duration", "ServiceMonitor", monitor_bad_interval)]


@pytest.mark.parametrize(("what", "kind", "change"), _mutations(),
                         ids=[m[0] for m in _mutations()])
def test_schemas_refuse_mistakes(what, kind, change):
    """The check is real: a plausible mistake in each custom kind is refused."""
    original = of_kind(docs_of("prod"), kind)[0]
    assert not schema_errors(original)
    broken = copy.deepcopy(original)
    change(broken)
    assert schema_errors(broken), f"the {kind} schema accepted: {what}"


def test_cpu_trigger_schema_needs_its_metric_type():
    scaled = copy.deepcopy(named(docs_of("prod"), "ScaledObject")["assay-worker-cpu"])
    cpu = next(t for t in scaled["spec"]["triggers"] if t["type"] == "cpu")
    del cpu["metricType"]
    assert schema_errors(scaled)


# --- 3. checkov ----------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_nothing(overlay, tmp_path):
    assert CHECKOV.exists(), "checkov is missing: run `make install-test` (.venv-checkov)"
    (tmp_path / f"{overlay}.yaml").write_text(rendered_text(overlay))
    result = subprocess.run(
        [str(CHECKOV), "--framework", "kubernetes", "--skip-download", "--config-file",
         str(K8S / "checkov.yaml"), "-d", str(tmp_path), "-o", "json"],
        capture_output=True, text=True, timeout=300)
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert result.returncode == 0 and not failed, failed or result.stderr
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100  # it really scanned the objects


def test_every_checkov_skip_is_documented():
    """Each skipped check has its reason in k8s/checkov.yaml's comments."""
    config_text = (K8S / "checkov.yaml").read_text()
    config = yaml.safe_load(config_text)
    comments = "\n".join(line for line in config_text.splitlines()
                         if line.lstrip().startswith("#"))
    annotation_skips = set()
    for doc in docs_of("prod"):
        for key, value in doc["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert reason.strip(), f"{doc['metadata']['name']}: skip {check} has no reason"
                annotation_skips.add(check)
    for check in [*config["skip-check"], *annotation_skips]:
        assert f"{check} " in comments or f"{check}:" in comments, check


# --- 4. the rules the deployment depends on ------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(overlay):
    for doc in workloads(docs_of(overlay)):
        for container in all_containers(pod_spec(doc)):
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    assert resource in resources.get(bound, {}), (
                        doc["metadata"]["name"], container["name"], bound, resource)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_is_probed_and_drains(overlay):
    web = named(docs_of(overlay), "Deployment")["assay-web"]
    spec = pod_spec(web)
    container = spec["containers"][0]
    probes = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in probes.items():
        get = container[probe]["httpGet"]
        assert get["path"] == path and get["port"] == "http"
        # The kubelet's Host would be the pod IP, which ALLOWED_HOSTS refuses.
        assert {"name": "Host", "value": "localhost"} in get["httpHeaders"]
    assert {"name": "http", "containerPort": 8000} in container["ports"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ASSAY_WEB_BIND"] == "0.0.0.0:8000"
    assert argv(container) == ["gunicorn", "-c", "python:assay.gunicorn_conf"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop + int(env["ASSAY_WEB_GRACEFUL_TIMEOUT"]) < spec["terminationGracePeriodSeconds"]
    init = spec["initContainers"]
    assert [argv(c) for c in init] == [["python", "manage.py", "migrate", "--check"]]
    allowed = _config_value(docs_of(overlay), "ALLOWED_HOSTS").split(",")
    assert "localhost" in allowed and len(allowed) > 1


def _config_value(docs: list[dict[str, Any]], key: str) -> str:
    (config,) = [c for c in of_kind(docs, "ConfigMap")
                 if c["metadata"]["name"].startswith("assay-config")]
    return config["data"][key]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_restricted(overlay):
    docs = docs_of(overlay)
    accounts = named(docs, "ServiceAccount")
    for doc in workloads(docs):
        spec = pod_spec(doc)
        name = doc["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"] in accounts, name
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] == 10001, name
        assert context["fsGroup"] == 10001, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        mounts_needed = {"/tmp", "/var/lib/assay", "/home/assay"}
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in all_containers(spec):
            where = (name, container["name"])
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"] == {"drop": ["ALL"]}, where
            assert "privileged" not in security, where
            mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
            assert mounts_needed <= set(mounts), where
            for path in mounts_needed:
                assert "emptyDir" in volumes[mounts[path]["name"]], where
            if "/dev/shm" in mounts:
                assert volumes[mounts["/dev/shm"]["name"]]["emptyDir"]["medium"] == "Memory"
            assert container["imagePullPolicy"] == "Always", where
    (namespace,) = of_kind(docs, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_has_its_writable_heartbeat_dir(overlay):
    spec = pod_spec(named(docs_of(overlay), "Deployment")["assay-web"])
    mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
    assert "/dev/shm" in mounts


# --- the node pools ------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """A node pool as the scheduler sees it: labels, taints, extended resources."""

    name: str
    labels: dict[str, str]
    taints: tuple[dict[str, str], ...] = ()
    extended: frozenset[str] = field(default_factory=frozenset)


POOLS = (
    Pool("gpu", {POOL_LABEL: "gpu", "kubernetes.io/os": "linux"},
         ({"key": GPU, "value": "present", "effect": "NoSchedule"},), frozenset({GPU})),
    Pool("cpu", {POOL_LABEL: "cpu", "kubernetes.io/os": "linux"}),
    # Another untainted pool (the cluster's own system nodes): only node affinity keeps
    # Assay's CPU pods off it, so the test fails if a pod lost its affinity.
    Pool("system", {POOL_LABEL: "system", "kubernetes.io/os": "linux"}),
)


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        operator = toleration.get("operator", "Equal")
        if operator == "Exists" and toleration.get("key") in (None, "", taint["key"]):
            return True
        if (operator == "Equal" and toleration.get("key") == taint["key"]
                and toleration.get("value", "") == taint.get("value", "")):
            return True
    return False


def _expression_holds(expression: dict[str, Any], labels: dict[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values", [])
    if operator == "In":
        return labels.get(key) in values
    if operator == "NotIn":
        return labels.get(key) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt") and key in labels:
        number, bound = int(labels[key]), int(values[0])
        return number > bound if operator == "Gt" else number < bound
    return False


def fits(spec: dict[str, Any], pool: Pool, resources: bool = True) -> bool:
    """Could the scheduler place this pod on a node of ``pool``? Taints it does not
    tolerate (NoSchedule, NoExecute), nodeSelector, required node affinity, and (unless
    ``resources`` is False) extended resources the pool does not offer."""
    for taint in pool.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not tolerates(
                spec.get("tolerations", []), taint):
            return False
    if any(pool.labels.get(k) != v for k, v in spec.get("nodeSelector", {}).items()):
        return False
    required = (spec.get("affinity", {}).get("nodeAffinity", {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required and not any(
            all(_expression_holds(e, pool.labels) for e in term.get("matchExpressions", []))
            for term in required["nodeSelectorTerms"]):
        return False
    wanted = {name for c in all_containers(spec)
              for bound in ("requests", "limits")
              for name in c.get("resources", {}).get(bound, {}) if "/" in name}
    return wanted <= pool.extended or not resources


def wants_gpu(spec: dict[str, Any]) -> bool:
    return any(GPU in c.get("resources", {}).get("limits", {}) for c in all_containers(spec))


def test_the_node_model_is_not_trivially_true():
    gpu, cpu, system = POOLS
    bare = {"containers": [{"name": "x"}]}
    assert fits(bare, cpu) and not fits(bare, gpu)  # the taint keeps it off the GPU pool
    assert fits(bare, system)  # nothing keeps it off an untainted pool
    tolerant = {**bare, "tolerations": [{"key": GPU, "operator": "Exists",
                                         "effect": "NoSchedule"}]}
    assert fits(tolerant, gpu) and fits(tolerant, cpu)  # tolerating is not attraction
    greedy = {"containers": [{"name": "x", "resources": {"limits": {GPU: 1}}}]}
    assert not fits(greedy, cpu) and not fits(greedy, gpu)
    assert fits(greedy, cpu, resources=False)
    pinned = {**bare, "nodeSelector": {POOL_LABEL: "gpu"}}
    assert not fits(pinned, cpu)
    assert tolerates([{"operator": "Exists"}], gpu.taints[0])
    assert not tolerates([{"key": GPU, "operator": "Equal", "value": "other"}], gpu.taints[0])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_fits_only_its_pool(overlay):
    for doc in workloads(docs_of(overlay)):
        spec = pod_spec(doc)
        expected = {"gpu"} if wants_gpu(spec) else {"cpu"}
        assert {pool.name for pool in POOLS if fits(spec, pool)} == expected, (
            doc["metadata"]["name"])
        # Placement alone (affinity, tolerations) keeps it there, not only the GPU request.
        assert {pool.name for pool in POOLS if fits(spec, pool, resources=False)} == expected, (
            doc["metadata"]["name"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gpu_workers_ask_for_one_gpu_and_the_pool(overlay):
    for queue, deployments in workers(docs_of(overlay)).items():
        for deployment in deployments:
            spec = pod_spec(deployment)
            (container,) = spec["containers"]
            if is_accelerator_queue(queue):
                assert container["resources"]["limits"][GPU] == 1
                assert container["image"].split(":")[0] == "assay-gpu"
                assert {"key": GPU, "operator": "Exists", "effect": "NoSchedule"} in (
                    spec["tolerations"])
            else:
                assert not wants_gpu(spec) and "tolerations" not in spec
                assert container["image"].split(":")[0] == "assay"


# --- images, queues, settings --------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_images_are_pinned(overlay):
    for doc in workloads(docs_of(overlay)):
        for container in all_containers(pod_spec(doc)):
            image = container["image"]
            name, _, tag = image.rpartition(":") if "@" not in image else (image, "", "digest")
            assert name in ("assay", "assay-gpu") or "@sha256:" in image, image
            assert tag and tag != "latest" and "/" not in tag, image


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_queue_has_one_worker_and_one_autoscaler(overlay):
    docs = docs_of(overlay)
    queues = real_queues()
    assert {"cpu", "gpu.text", "gpu.image"} <= set(queues)
    by_queue = workers(docs)
    assert set(by_queue) == set(queues), "a worker drains a queue nothing sends to, or not"
    scaled = of_kind(docs, "ScaledObject")
    for queue in queues:
        (deployment,) = by_queue[queue]
        name = deployment["metadata"]["name"]
        targets = [s for s in scaled if s["spec"]["scaleTargetRef"]["name"] == name]
        assert len(targets) == 1, (queue, name)
        (target,) = targets
        assert target["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
        postgres = [t for t in target["spec"]["triggers"] if t["type"] == "postgresql"]
        assert len(postgres) == 1
        assert postgres[0]["metadata"]["query"] == (
            "SELECT COALESCE(SUM(queued + running), 0) FROM assay_queue_depth "
            f"WHERE queue = '{queue}'")
        assert postgres[0]["authenticationRef"] == {"name": "assay-scaler"}
        spec = target["spec"]
        if is_accelerator_queue(queue):
            assert spec["minReplicaCount"] == 0
            assert postgres[0]["metadata"]["activationTargetQueryValue"] == "0"
            assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"][
                "stabilizationWindowSeconds"] > 0
        else:
            assert spec["minReplicaCount"] >= 1
            assert any(t["type"] == "cpu" for t in spec["triggers"])
    assert len(scaled) == len(queues)


def test_gpu_maximum_per_overlay():
    assert {s["spec"]["maxReplicaCount"] for s in of_kind(docs_of("dev"), "ScaledObject")
            if "gpu" in s["metadata"]["name"]} == {1}
    assert {s["spec"]["maxReplicaCount"] for s in of_kind(docs_of("prod"), "ScaledObject")
            if "gpu" in s["metadata"]["name"]} == {8}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_trigger_authentication_reads_the_scaler_secret(overlay):
    (auth,) = of_kind(docs_of(overlay), "TriggerAuthentication")
    assert auth["metadata"]["name"] == "assay-scaler"
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "connection", "name": "assay-scaler-db", "key": "connection"}]


def _env_names(docs: list[dict[str, Any]], container: dict[str, Any]) -> set[str]:
    names = {item["name"] for item in container.get("env", [])}
    config_maps = named(docs, "ConfigMap")
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, source  # secrets come key by key, never whole
        names |= set(config_maps[source["configMapRef"]["name"]]["data"])
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_is_a_known_setting(overlay):
    known = {s.name for s in SETTINGS} | set(LIBRARY_ENVIRONMENT)
    docs = docs_of(overlay)
    for doc in workloads(docs):
        for container in all_containers(pod_spec(doc)):
            unknown = _env_names(docs, container) - known
            assert not unknown, (doc["metadata"]["name"], container["name"], unknown)


def _effective_env(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    config_maps = named(docs, "ConfigMap")
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_fetch_job_reaches_the_model_hub(overlay):
    docs = docs_of(overlay)
    for doc in workloads(docs):
        for container in all_containers(pod_spec(doc)):
            env = _effective_env(docs, container)
            offline = "0" if doc["metadata"]["name"] == "assay-fetch-models" else "1"
            assert env["HF_HUB_OFFLINE"] == env["TRANSFORMERS_OFFLINE"] == offline, (
                doc["metadata"]["name"])
    fetch = named(docs, "Job")["assay-fetch-models"]
    assert [argv(c) for c in pod_spec(fetch)["containers"]] == [
        ["python", "manage.py", "fetch_models"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_workers_drain_before_their_grace_period_ends(overlay):
    docs = docs_of(overlay)
    for deployments in workers(docs).values():
        for deployment in deployments:
            spec = pod_spec(deployment)
            env = _effective_env(docs, spec["containers"][0])
            drain = int(env["ASSAY_WORKER_DRAIN_SECONDS"])
            assert 0 < drain < spec["terminationGracePeriodSeconds"], deployment["metadata"]
            words = argv(spec["containers"][0])
            assert "--pool=solo" in words and "--without-gossip" in words
            assert "--without-mingle" in words and words[words.index("-n") + 1].endswith("@%h")
    prod = named(docs_of("prod"), "Deployment")
    assert pod_spec(prod["assay-worker-gpu-text"])["terminationGracePeriodSeconds"] == 900


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_volumes_go_where_they_are_used(overlay):
    docs = docs_of(overlay)
    deployments = named(docs, "Deployment")

    def mounts(name: str) -> dict[str, dict[str, Any]]:
        container = pod_spec(deployments[name])["containers"][0]
        return {m["mountPath"]: m for m in container["volumeMounts"]}

    for queue, (deployment,) in workers(docs).items():
        found = mounts(deployment["metadata"]["name"])
        if is_accelerator_queue(queue):
            assert found["/models"]["readOnly"] is True
            assert "/etc/assay/signing" not in found
        else:
            assert not found["/var/lib/assay-checkpoints"].get("readOnly")
            assert found["/etc/assay/signing"]["readOnly"] is True
    web = mounts("assay-web")
    assert web["/var/lib/assay-checkpoints"]["readOnly"] is True
    assert web["/etc/assay/signing"]["readOnly"] is True
    fetch = pod_spec(named(docs, "Job")["assay-fetch-models"])["containers"][0]
    assert any(m["mountPath"] == "/models" and not m.get("readOnly")
               for m in fetch["volumeMounts"])
    claims = named(docs, "PersistentVolumeClaim")
    assert claims["assay-model-cache"]["spec"]["accessModes"] == ["ReadWriteMany"]
    media = _config_value(docs, "ASSAY_MEDIA_STORAGE")
    assert media == {"dev": "file", "prod": "s3"}[overlay]
    if media == "file":
        assert claims["assay-media"]["spec"]["accessModes"] == ["ReadWriteMany"]
        assert _config_value(docs, "MEDIA_ROOT") == "/media"
    else:
        assert "assay-media" not in claims and _config_value(docs, "ASSAY_S3_BUCKET")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_is_committed_and_every_reference_is_documented(overlay):
    docs = docs_of(overlay)
    assert not of_kind(docs, "Secret")
    for doc in docs:
        assert "password" not in json.dumps(doc.get("data", {})).lower()
    for doc in workloads(docs):
        spec = pod_spec(doc)
        for container in all_containers(spec):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in SECRETS.get(ref["name"], set()), ref
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in SECRETS
    for auth in of_kind(docs, "TriggerAuthentication"):
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["key"] in SECRETS[ref["name"]]
    for monitor in of_kind(docs, "ServiceMonitor"):
        for endpoint in monitor["spec"]["endpoints"]:
            credentials = endpoint.get("authorization", {}).get("credentials")
            if credentials:
                assert credentials["key"] in SECRETS[credentials["name"]]
    for ingress in of_kind(docs, "Ingress"):
        assert {t["secretName"] for t in ingress["spec"]["tls"]} <= set(SECRETS)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_beat_is_one_and_recreated(overlay):
    beat = named(docs_of(overlay), "Deployment")["assay-beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    command = argv(pod_spec(beat)["containers"][0])
    assert command[:4] == ["celery", "-A", "assay.celery", "beat"]
    assert command[command.index("-s") + 1].startswith("/var/lib/assay/")
    assert not any(s["spec"]["scaleTargetRef"]["name"] == "assay-beat"
                   for s in of_kind(docs_of(overlay), "ScaledObject"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_scales_on_cpu_and_is_reachable(overlay):
    docs = docs_of(overlay)
    (hpa,) = of_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                            "name": "assay-web"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in named(docs, "Deployment")["assay-web"]["spec"]
    service = named(docs, "Service")["assay-web"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 8000, "targetPort": "http"}]
    (ingress,) = of_kind(docs, "Ingress")
    host = {"dev": "assay.dev.example.com", "prod": "assay.example.com"}[overlay]
    assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "assay-tls"}]
    assert ingress["spec"]["rules"][0]["host"] == host
    assert host in _config_value(docs, "ALLOWED_HOSTS").split(",")
    assert f"https://{host}" in _config_value(docs, "CSRF_TRUSTED_ORIGINS").split(",")
    if overlay == "prod":
        assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget(overlay):
    docs = docs_of(overlay)
    budgets = of_kind(docs, "PodDisruptionBudget")
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets if label_selector_matches(b["spec"]["selector"], labels)]
        assert len(matching) == 1, deployment["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_are_scraped_from_web_and_every_worker(overlay):
    docs = docs_of(overlay)
    services = named(docs, "Service")
    metrics = services["assay-worker-metrics"]
    assert metrics["spec"]["clusterIP"] == "None"
    for deployments in workers(docs).values():
        for deployment in deployments:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert label_selector_matches({"matchLabels": metrics["spec"]["selector"]}, labels)
            ports = pod_spec(deployment)["containers"][0]["ports"]
            assert {"name": "metrics", "containerPort": 9100} in ports
    assert _config_value(docs, "ASSAY_WORKER_METRICS_PORT") == "9100"
    (monitor,) = of_kind(docs, "ServiceMonitor")
    selected = {name for name, service in services.items()
                if label_selector_matches(monitor["spec"]["selector"],
                                          service["metadata"]["labels"])}
    assert selected == {"assay-web", "assay-worker-metrics"}
    endpoints = {e["port"]: e for e in monitor["spec"]["endpoints"]}
    assert endpoints["http"]["authorization"] == {
        "type": "Bearer", "credentials": {"name": "assay-secrets", "key": "ASSAY_METRICS_TOKEN"}}
    assert "metrics" in endpoints


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default(overlay):
    docs = docs_of(overlay)
    policies = named(docs, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    dns = policies["allow-dns"]["spec"]
    assert dns["podSelector"] == {}
    assert {p["port"] for rule in dns["egress"] for p in rule["ports"]} == {53}
    for policy in policies.values():
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                block = peer.get("ipBlock")
                if block and block["cidr"] == "0.0.0.0/0":
                    assert METADATA_ADDRESS in block.get("except", []), policy["metadata"]
    # Every pod may resolve names and reach the database; only web takes ingress traffic
    # from outside the namespace on 8000, workers on 9100.
    for doc in workloads(docs):
        labels = pod_spec(doc) and doc["spec"]["template"]["metadata"]["labels"]
        egress_ports = {p["port"] for policy in policies.values()
                        if "Egress" in policy["spec"]["policyTypes"]
                        and label_selector_matches(policy["spec"]["podSelector"], labels)
                        for rule in policy["spec"].get("egress", [])
                        for p in rule.get("ports", [])}
        assert {53, 5432, 6379} <= egress_ports, doc["metadata"]["name"]
        ingress_ports = {p["port"] for policy in policies.values()
                         if label_selector_matches(policy["spec"]["podSelector"], labels)
                         for rule in policy["spec"].get("ingress", [])
                         for p in rule.get("ports", [])}
        component = labels["app.kubernetes.io/component"]
        assert ingress_ports == {"web": {8000}, "worker": {9100}}.get(component, set())


# --- 5. the resource benchmark's arithmetic ------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gpu_totals_are_one_per_gpu_worker_pod(overlay):
    docs = docs_of(overlay)
    gpu_workers = {d["metadata"]["name"] for q, ds in workers(docs).items()
                   if is_accelerator_queue(q) for d in ds}
    bounds = {s["spec"]["scaleTargetRef"]["name"]: s["spec"]
              for s in of_kind(docs, "ScaledObject")}
    most = sum(bounds[name]["maxReplicaCount"] for name in gpu_workers)
    least = sum(bounds[name]["minReplicaCount"] for name in gpu_workers)
    result = totals(docs)
    assert result.at_max.gpu_limit == result.at_max.gpu_request == most * 1
    assert result.at_min.gpu_limit == least * 1
    assert result.jobs.gpu_limit == 0
    assert result.at_max.cpu_request > result.at_min.cpu_request > 0


def test_overlays_differ_where_they_should():
    dev, prod = totals(docs_of("dev")), totals(docs_of("prod"))
    assert prod.at_max.memory_request > dev.at_max.memory_request
    assert prod.at_min.cpu_request > dev.at_min.cpu_request
