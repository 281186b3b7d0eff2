"""Reading Dockerfile and Dockerfile.gpu without a Docker daemon: stages, instructions, the
``pip install`` lines and ENV, enough for tests/deploy/test_images.py to check what the
images install and run with."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = {"cpu": REPO / "Dockerfile", "gpu": REPO / "Dockerfile.gpu"}


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ENV, ...
    text: str  # the arguments, continuation lines joined
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def of(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def instructions(path: Path) -> list[Instruction]:
    """Every instruction; comment lines (also inside a continued instruction) dropped."""
    found: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer.append(line[:-1].strip())
            continue
        buffer.append(line)
        joined = " ".join(buffer)
        buffer = []
        keyword, _, rest = joined.partition(" ")
        found.append(Instruction(keyword.upper(), rest.strip(), start))
    return found


def stages(path: Path) -> list[Stage]:
    """The build stages in order; the last one is the image."""
    result: list[Stage] = []
    for instruction in instructions(path):
        if instruction.keyword == "FROM":
            words = [w for w in instruction.text.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            result.append(Stage(words[0], name))
        elif result:
            result[-1].instructions.append(instruction)
    return result


@dataclass(frozen=True)
class PipInstall:
    requirements: tuple[str, ...]
    no_deps: bool
    targets: tuple[str, ...]  # what is installed besides -r files ("." for the project)
    editable: bool


def pip_installs(stage: Stage) -> list[PipInstall]:
    """Each ``pip install`` in the stage's RUN lines."""
    found: list[PipInstall] = []
    for run in stage.of("RUN"):
        for words in _commands(run.text):
            if "pip" not in words or "install" not in words:
                continue
            words = words[words.index("install") + 1:]
            reqs: list[str] = []
            targets: list[str] = []
            editable = False
            i = 0
            while i < len(words):
                word = words[i]
                if word in ("-r", "--requirement"):
                    reqs.append(words[i + 1])
                    i += 1
                elif word in ("-e", "--editable"):
                    editable = True
                    targets.append(words[i + 1])
                    i += 1
                elif not word.startswith("-"):
                    targets.append(word)
                i += 1
            found.append(PipInstall(tuple(reqs), "--no-deps" in words, tuple(targets),
                                    editable))
    return found


def _commands(text: str) -> list[list[str]]:
    """A shell line's simple commands (split on ``&&``, ``||`` and ``;`` outside quotes)."""
    commands: list[list[str]] = [[]]
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    for word in lexer:
        if word in ("&&", "||", ";", "|"):
            commands.append([])
        else:
            commands[-1].append(word)
    return [c for c in commands if c]


def copy_sources(stage: Stage) -> list[str]:
    """The build-context paths a stage COPYs (not those copied from other stages)."""
    sources: list[str] = []
    for copy in stage.of("COPY"):
        words = shlex.split(copy.text)
        if any(w.startswith("--from") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        sources += words[:-1]
    return sources


def env_of(stage: Stage) -> dict[str, str]:
    """The stage's ENV (``KEY=VALUE`` form), unexpanded."""
    env: dict[str, str] = {}
    for instruction in stage.of("ENV"):
        for word in shlex.split(instruction.text):
            key, _, value = word.partition("=")
            env[key] = value
    return env
