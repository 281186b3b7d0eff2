"""Generation through the whole platform against direct pipeline calls, side by side.

    .venv/bin/python bench/generation.py [--modalities text,image,speech,music,video]
                                         [--jobs 6] [--concurrent 16] [--scale tiny]
    .venv/bin/python bench/generation.py --device cuda     # the GPU variant (bench/gpu.sh)

Each modality is one row of ``CASES`` (generator id, template, small parameters per
scale); the default measures every one whose generator is installed and prints a line for
each that is not. Needs PostgreSQL and Redis (batching claims jobs with SKIP LOCKED): it
uses DATABASE_URL's server with a database of its own (``assay_bench``, or
``ASSAY_BENCH_DB``; recreated each run) and CELERY_BROKER_URL (default
redis://127.0.0.1:6379/0). It starts one real Celery worker process on every queue the
installed generators use, submits jobs through the same service the REST API calls, and
waits for each stored asset; the direct calls load the same generator class in this
process and call ``generate`` with the same prompts, parameters and seeds. Every figure is
measured in this run; nothing here is asserted. ``--scale tiny`` runs the demo models with
the smallest parameters: a smoke run of a few minutes on a shared CPU.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "platform"))
sys.path.insert(0, str(REPO))

from tests.fixtures.databases import fresh_database  # noqa: E402

THREADS = "2"
BENCH_DB = os.environ.get("ASSAY_BENCH_DB", "assay_bench")


@dataclass(frozen=True)
class Case:
    """One modality as the bench runs it: its generator, a template, and small parameters
    per scale (sized so one direct call takes about a second; a name the generator does
    not declare, or a value outside its bounds, is dropped with a printed note)."""

    generator_id: str
    slug: str
    text: str
    params: dict[str, dict[str, object]]


_SAMPLING = {"temperature": 0.8, "top_k": 0, "top_p": 1.0, "repetition_penalty": 1.0}
CASES: dict[str, Case] = {
    "text": Case("text-transformers", "copy", "Introducing {{ product }}, the new way to", {
        "cpu": {"max_new_tokens": 96, **_SAMPLING},
        "cuda": {"max_new_tokens": 256, **_SAMPLING},
        "tiny": {"max_new_tokens": 16, **_SAMPLING}}),
    "image": Case("image-diffusers", "shot", "a product photo of {{ product }}", {
        "cpu": {"width": 256, "height": 256, "steps": 8},
        "cuda": {"width": 512, "height": 512, "steps": 20},
        "tiny": {"width": 64, "height": 64, "steps": 2}}),
    "speech": Case("speech-vits", "voice", "Meet {{ product }}, made for the way you work.", {
        "cpu": {"speaking_rate": 1.0}, "cuda": {"speaking_rate": 1.0},
        "tiny": {"speaking_rate": 1.5}}),
    "music": Case("music-musicgen", "jingle", "an upbeat jingle for {{ product }}", {
        "cpu": {"duration": 2}, "cuda": {"duration": 8}, "tiny": {"duration": 1}}),
    "video": Case("video-animatediff", "clip", "a short clip of {{ product }} turning", {
        "cpu": {"frames": 8, "width": 64, "height": 64, "steps": 4},
        "cuda": {"frames": 16, "width": 256, "height": 256, "steps": 20},
        "tiny": {"frames": 8, "width": 64, "height": 64, "steps": 1}}),
}

#: The bench's own text model per scale (random weights: speed, not quality); the tiny
#: scale runs the tiny demo text model instead.
TEXT_MODELS = {"cpu": {"n_embd": 512, "n_layer": 6, "n_head": 8},
               "cuda": {"n_embd": 768, "n_layer": 12, "n_head": 12}}


def _env() -> dict[str, str]:
    base = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/assay")
    if not base.startswith("postgres"):
        sys.exit("bench/generation.py needs PostgreSQL: set DATABASE_URL=postgresql://…")
    url = urlparse(base)._replace(path=f"/{BENCH_DB}").geturl()
    var = REPO / "var" / ("bench" if BENCH_DB == "assay_bench" else f"bench-{BENCH_DB}")
    return {
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "ASSAY_VAR_DIR": str(var),
        # Shared by every run: demo builds are atomic, locked, and fast when up to date.
        "ASSAY_MODELS_DIR": str(REPO / "var" / "bench" / "models"),
        # Only the tiny text demo: the bench registers its own text model as the default.
        "ASSAY_TEXT_DEMO_MODEL": "tiny",
        "DJANGO_SETTINGS_MODULE": "assay.settings",
        "ASSAY_TORCH_THREADS": THREADS,
        "ASSAY_BATCH_WINDOW_MS": "100",
        "DEBUG": "false",
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def _build_bench_text_model(models_dir: Path, shape: dict[str, int]) -> Path:
    """A GPT-2-shaped model (23M parameters on the CPU scale; random weights: speed, not
    quality), with the demo model's tokenizer."""
    import shutil

    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    target = models_dir / f"bench-text-{shape['n_embd']}x{shape['n_layer']}"
    if (target / "config.json").exists():
        return target
    tokenizer = AutoTokenizer.from_pretrained(models_dir / "demo-text")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, **shape,
                        bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    model = GPT2LMHeadModel(config)
    # Never end early: every call generates exactly max_new_tokens, so runs compare.
    model.generation_config.eos_token_id = None
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    for path in tmp.iterdir():
        path.chmod(0o644)
    tmp.rename(target)
    return target


class Worker:
    """One real Celery worker process on every queue the installed generators use."""

    def __init__(self, env: dict[str, str], queues: list[str]) -> None:
        self.env = env
        self.queues = queues
        self.log = Path(env["ASSAY_VAR_DIR"]) / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log, "wb")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "assay.celery", "worker", "--pool=solo",
             "-Q", ",".join(self.queues), "--loglevel=WARNING", "--without-gossip",
             "--without-mingle", "-n", f"bench-{BENCH_DB}@%h"],
            env={**os.environ, **self.env}, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        time.sleep(6)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            self.proc.wait(timeout=30)


def _wait(job_ids: list[str], timeout: float = 600) -> None:
    """Poll every 25 ms: often enough to add ~1 % to a one-second job, rarely enough not
    to steal the CPU the worker's two torch threads need (polling every 5 ms slowed the
    worker's generation by 20-30 % on a 2-core machine)."""
    from assay.generation.models import GenerationJob

    deadline = time.monotonic() + timeout
    pending = set(job_ids)
    while pending and time.monotonic() < deadline:
        done = GenerationJob.objects.filter(pk__in=pending, status__in=(
            "succeeded", "failed", "cancelled")).values_list("pk", "status", "error")
        for pk, status, error in done:
            if status != "succeeded":
                raise RuntimeError(f"job {pk} {status}: {error}")
            pending.discard(str(pk))
        time.sleep(0.025)
    if pending:
        raise RuntimeError(f"{len(pending)} jobs did not finish in {timeout}s")


def _submit(user: object, project: object, template: str, variables: dict[str, str],
            params: dict[str, object]) -> str:
    from assay.generation.services import submit_generation

    job = submit_generation(user, project=project, template=template, variables=variables,
                            parameters=params)
    return str(job.pk)


def _submit_concurrently(user: object, project: object, template: str,
                         items: list[tuple[dict[str, str], dict[str, object]]]) -> list[str]:
    """One thread per submission, as many users at once; each closes its connection."""
    from django.db import connection

    ids: list[str | None] = [None] * len(items)
    barrier = threading.Barrier(len(items))

    def one(i: int) -> None:
        try:
            barrier.wait()
            ids[i] = _submit(user, project, template, *items[i])
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(items))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [i for i in ids if i]


def _direct(generator_cls: type, model_ref: object, requests: list[object], *, batched: bool,
            device: str = "cpu") -> float:
    """Time direct ``generate`` calls on an already loaded generator."""
    from assay import NullProgress

    gen = _direct.cache.get(generator_cls.id)  # type: ignore[attr-defined]
    if gen is None:
        gen = generator_cls()
        from assay.generation.devices import choose_device

        choice = choose_device(device)
        gen.load(model_ref, choice.device, choice.dtype)
        gen.model_ref = model_ref
        gen.generate(requests[:1], NullProgress())  # warm up kernels, as the worker is
        _direct.cache[generator_cls.id] = gen  # type: ignore[attr-defined]
    _sync(device)
    started = time.perf_counter()
    if batched:
        gen.generate(requests, NullProgress())
    else:
        for request in requests:
            gen.generate([request], NullProgress())
    _sync(device)
    return time.perf_counter() - started


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


_direct.cache = {}  # type: ignore[attr-defined]


def bench_modality(kind: str, ctx: dict[str, object], jobs: int, concurrent: int,
                   device: str) -> None:
    from assay import GenerationRequest, ModelRef
    from assay.generation.models import GenerationJob
    from assay.plugins.manager import get_plugins

    user, project = ctx["user"], ctx["project"]
    template, generator_id, params = ctx[kind]  # type: ignore[misc]
    generator_cls = get_plugins().generator(generator_id)
    jobs, concurrent = max(1, jobs), max(1, concurrent)
    products = [f"Product {i}" for i in range(max(jobs, concurrent))]

    def items(n: int) -> list[tuple[dict[str, str], dict[str, object]]]:
        return [({"product": products[i]}, {**params, "seed": 1000 + i}) for i in range(n)]

    def requests_for(ids: list[str]) -> list[GenerationRequest]:
        rows = {str(j.pk): j for j in GenerationJob.objects.filter(pk__in=ids)}
        return [GenerationRequest(job_id=i, prompt=rows[i].rendered_prompt,
                                  parameters=dict(rows[i].parameters), seed=rows[i].seed)
                for i in ids]

    print(f"\n== {kind}: generator {generator_id}, parameters {params}", flush=True)
    # Cold, then warm: the first job loads the model in the worker.
    cold_start = time.perf_counter()
    first = _submit(user, project, template, *items(1)[0])
    _wait([first])
    cold = time.perf_counter() - cold_start
    warm_start = time.perf_counter()
    second = _submit(user, project, template, *items(2)[1])
    _wait([second])
    warm = time.perf_counter() - warm_start
    model_ref = ModelRef.from_dict(GenerationJob.objects.get(pk=first).model_ref)

    # Sequential: one job at a time through the platform, and the same calls direct.
    seq_ids: list[str] = []
    started = time.perf_counter()
    for variables, p in items(jobs):
        job_id = _submit(user, project, template, variables, p)
        _wait([job_id])
        seq_ids.append(job_id)
    platform_seq = time.perf_counter() - started
    direct_seq = _direct(generator_cls, model_ref, requests_for(seq_ids), batched=False,
                         device=device)

    # Concurrent: many users submit at once; the worker batches them.
    started = time.perf_counter()
    conc_ids = _submit_concurrently(user, project, template, items(concurrent))
    _wait(conc_ids)
    platform_conc = time.perf_counter() - started
    batch_sizes = sorted({GenerationJob.objects.get(pk=i).usage.get("batch_size", 1)
                          for i in conc_ids})
    conc_requests = requests_for(conc_ids)
    direct_conc_seq = _direct(generator_cls, model_ref, conc_requests, batched=False,
                              device=device)
    direct_batched = _direct(generator_cls, model_ref, conc_requests, batched=True,
                             device=device)

    overhead_ms = (platform_seq - direct_seq) / jobs * 1000
    print(f"one direct call                      {direct_seq / jobs * 1000:8.0f} ms")
    print(f"cold job (model load) / warm job     {cold:8.2f} s / {warm:.2f} s  = "
          f"{cold / warm:.2f}x")
    print(f"sequential, {jobs} jobs: platform {platform_seq:.2f} s, direct {direct_seq:.2f} s"
          f"  -> overhead {100 * (platform_seq / direct_seq - 1):+.1f} % "
          f"({overhead_ms:+.0f} ms per job; target <= 5 %)")
    print(f"{concurrent} concurrent jobs through the platform   {platform_conc:8.2f} s "
          f"(batch sizes seen: {batch_sizes})")
    print(f"{concurrent} sequential direct calls              {direct_conc_seq:8.2f} s  -> "
          f"platform throughput {direct_conc_seq / platform_conc:.2f}x "
          f"(text target >= 4x on CPU)")
    print(f"one direct batched call of {concurrent}          {direct_batched:8.2f} s  -> "
          f"platform / batched {direct_batched / platform_conc:.2f}x (target >= 0.9x)",
          flush=True)


def small_params(kind: str, generator_cls: type, scale: str) -> dict[str, object]:
    """The case's parameters for ``scale`` that this generator declares and accepts."""
    wanted = CASES[kind].params[scale]
    declared = {p.name: p for p in generator_cls.all_parameters()}
    kept: dict[str, object] = {}
    for name, value in wanted.items():
        error = (declared[name].validate(value)[1] if name in declared
                 else f"is not a parameter of {generator_cls.id}")
        if error:
            print(f"   ({kind}: {name}={value!r} dropped: {error})")
        else:
            kept[name] = value
    if generator_cls.extra_validation({**generator_cls.validate_parameters({})[0], **kept}):
        print(f"   ({kind}: {kept} refused together; running the generator's defaults)")
        return {}
    return kept


def _modalities(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown modality {', '.join(unknown)} (known: {', '.join(CASES)})")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modalities", type=_modalities, default=list(CASES),
                        help=f"Comma-separated, of {','.join(CASES)} (default: all "
                             "whose generator is installed).")
    parser.add_argument("--jobs", type=int, default=6, help="Sequential jobs.")
    parser.add_argument("--concurrent", type=int, default=16, help="Concurrent jobs.")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the GPU variant).")
    parser.add_argument("--scale", choices=("tiny",), default=None,
                        help="tiny: demo models and the smallest parameters (a smoke run).")
    args = parser.parse_args()
    scale = args.scale or ("cuda" if args.device.startswith("cuda") else "cpu")

    env = _env()
    env["ASSAY_DEVICE"] = args.device
    os.environ.update(env)
    import torch

    torch.set_num_threads(int(THREADS))
    fresh_database(env["DATABASE_URL"], BENCH_DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from assay.accounts.choices import ProjectRole
    from assay.accounts.services import create_team, create_user
    from assay.generation.demo import build_demo_models
    from assay.generation.registry import register_model
    from assay.plugins.manager import get_plugins
    from assay.studio.services.projects import create_project, grant_role
    from assay.studio.services.prompts import create_template

    models_dir = Path(env["ASSAY_MODELS_DIR"])
    started = time.perf_counter()
    build_demo_models(models_dir=models_dir)
    print(f"demo models built or found in {time.perf_counter() - started:.1f} s")
    plugins = get_plugins()
    if "text" in args.modalities and scale in TEXT_MODELS and plugins.generator(
            "text-transformers") is not None:
        text_model = _build_bench_text_model(models_dir, TEXT_MODELS[scale])
        register_model(name="bench-text", generator_id="text-transformers",
                       source=str(text_model), license="bench only", all_projects=True,
                       is_default=True)
    team = create_team("Bench")
    project = create_project(team, "Bench")
    user = create_user("bencher", "bench-password")
    grant_role(project, user, ProjectRole.CREATOR)
    variables = [{"name": "product", "required": True}]
    ctx: dict[str, object] = {"user": user, "project": project}
    kinds: list[str] = []
    for kind in args.modalities:
        case = CASES[kind]
        generator_cls = plugins.generator(case.generator_id)
        if generator_cls is None:
            print(f"== {kind}: generator {case.generator_id} is not installed, skipped")
            continue
        create_template(project, user, name=case.slug.title(), slug=case.slug,
                        generator_id=case.generator_id, text=case.text, variables=variables)
        ctx[kind] = (case.slug, case.generator_id, small_params(kind, generator_cls, scale))
        kinds.append(kind)
    if not kinds:
        print("nothing to measure")
        return

    queues = sorted({plugins.generator(CASES[k].generator_id).queue for k in kinds} | {"cpu"})
    # A timeout's SIGTERM unwinds through ``finally``: the worker (its own session) stops too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    worker = Worker(env, queues)
    worker.start()
    try:
        for kind in kinds:
            bench_modality(kind, ctx, args.jobs, args.concurrent, args.device)
    finally:
        worker.stop()


if __name__ == "__main__":
    main()
