"""Demo data for the embedded default: a team, a project, a prompt and one user per role.

Idempotent: a second run finds what exists and only prints the logins again. The demo
password is generated once and kept in ASSAY_VAR_DIR/demo-logins.txt (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from assay.accounts.choices import GlobalRole, ProjectRole
from assay.accounts.models import Team, User
from assay.accounts.services import create_team, create_user
from assay.audit.context import Actor, audit_context
from assay.studio.models import Project, PromptTemplate
from assay.studio.services.projects import create_project, grant_role
from assay.studio.services.prompts import create_template

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    # username, project role, global role
    ("creator", ProjectRole.CREATOR, GlobalRole.NONE),
    ("reviewer", ProjectRole.REVIEWER, GlobalRole.NONE),
    ("owner", ProjectRole.OWNER, GlobalRole.NONE),
    ("auditor", "", GlobalRole.AUDITOR),
    ("admin", "", GlobalRole.ADMIN),
)

#: An instruction, because the embedded default text model (SmolLM2-135M-Instruct) answers
#: one; it names the product in what it writes.
DEMO_PROMPT = (
    "Write two sentences of product copy introducing {{ product }} to {{ audience }}."
)


@dataclass
class DemoLogins:
    """What `make run` prints."""

    password: str
    usernames: list[str]
    project_slug: str


def _demo_password() -> str:
    path = settings.VAR_DIR / "demo-logins.txt"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    password = "demo-" + secrets.token_urlsafe(9)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password


_PRODUCT = {"name": "product", "description": "Product name", "required": True}

#: One prompt per kind of content, each on its first-party generator (the image, speech,
#: music and video demo models make noise; the portal says so until real ones are
#: registered).
DEMO_TEMPLATES: tuple[dict[str, Any], ...] = (
    {"name": "Product intro", "slug": "product-intro",
     "description": "Opening lines for a product page.", "text": DEMO_PROMPT,
     "variables": [_PRODUCT, {"name": "audience", "description": "Who it is for",
                              "required": False, "default": "busy teams"}],
     "generator_id": "text-transformers",
     "default_parameters": {"max_new_tokens": 80, "temperature": 0.7}},
    {"name": "Product shot", "slug": "product-shot",
     "description": "A hero image for a product page (the demo model draws noise).",
     "text": "a studio photo of {{ product }}, {{ style }}",
     "variables": [_PRODUCT, {"name": "style", "description": "Look and feel",
                              "required": False, "default": "soft light, clean background"}],
     "generator_id": "image-diffusers",
     "default_parameters": {"width": 256, "height": 256, "steps": 8}},
    {"name": "Voice-over", "slug": "voice-over",
     "description": "A short spoken line for a video or an ad (the demo voice is noise).",
     "text": "Meet {{ product }}. Made for {{ audience }}.",
     "variables": [_PRODUCT, {"name": "audience", "description": "Who it is for",
                              "required": False, "default": "busy teams"}],
     "generator_id": "speech-vits", "default_parameters": {}},
    {"name": "Jingle", "slug": "jingle",
     "description": "A few seconds of music for a product clip (the demo model is noise).",
     "text": "{{ mood }} jingle for {{ product }}",
     "variables": [_PRODUCT, {"name": "mood", "description": "Mood", "required": False,
                              "default": "bright, upbeat"}],
     "generator_id": "music-musicgen", "default_parameters": {"duration": 3}},
    {"name": "Teaser clip", "slug": "teaser-clip",
     "description": "A short looping clip for social posts (the demo model is noise).",
     "text": "{{ product }} on a desk, slow camera move",
     "variables": [_PRODUCT],
     "generator_id": "video-animatediff",
     "default_parameters": {"frames": 8, "fps": 8, "width": 128, "height": 128, "steps": 4}},
)


def bootstrap_demo() -> DemoLogins:
    """Create the demo team, project, users and prompt templates if they are missing."""
    password = _demo_password()
    with audit_context(actor=Actor.system("bootstrap")), transaction.atomic():
        team = Team.objects.filter(slug="demo").first() or create_team("Demo Team", slug="demo")
        project = Project.objects.filter(slug="spring-launch").first() or create_project(
            team, "Spring Launch", slug="spring-launch",
            description="Demo project: launch copy for a made-up product line.")
        users: dict[str, User] = {}
        for username, role, global_role in DEMO_USERS:
            user = User.objects.filter(username=username).first() or create_user(
                username, password, email=f"{username}@example.com", global_role=global_role,
                is_staff=global_role == GlobalRole.ADMIN)
            users[username] = user
            if role:
                grant_role(project, user, role)
        for spec in DEMO_TEMPLATES:
            if not PromptTemplate.objects.filter(project=project, slug=spec["slug"]).exists():
                create_template(project, users["owner"], **spec)
    return DemoLogins(password, [u for u, _, _ in DEMO_USERS], project.slug)
