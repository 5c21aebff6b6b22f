"""Reading what is delivered: the Dockerfile and its build context as `docker build` would (no Docker engine
runs here), and the Kubernetes manifests as kustomize lists them."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.models import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"
THE_CMD = ["gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app"]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def dockerfile_stages(path: Path = DOCKERFILE) -> list[list[Instruction]]:
    """The Dockerfile's instructions, stage by stage: comments dropped, `\\` continuations joined."""
    stages: list[list[Instruction]] = []
    logical = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        keyword, _, arguments = (logical + line).strip().partition(" ")
        logical = ""
        instruction = Instruction(keyword.upper(), " ".join(arguments.split()) if keyword.upper() == "RUN"
                                  else arguments.strip())
        if instruction.keyword == "FROM":
            stages.append([])
        stages[-1].append(instruction)
    return stages


def instructions(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.arguments for i in stage if i.keyword == keyword]


def exec_form(arguments: str) -> list[str]:
    command = json.loads(arguments)
    assert isinstance(command, list) and all(isinstance(part, str) for part in command), arguments
    return command


def healthcheck_command(stage: list[Instruction]) -> list[str]:
    [healthcheck] = instructions(stage, "HEALTHCHECK")
    return exec_form(healthcheck.split(" CMD ", 1)[1])


def image_env(stage: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for arguments in instructions(stage, "ENV"):
        env.update(item.split("=", 1) for item in shlex.split(arguments))
    return env


def copies(stage: list[Instruction]) -> list[tuple[list[str], str]]:
    """(sources, destination) of each COPY from the build context (not --from another stage)."""
    result = []
    for arguments in instructions(stage, "COPY"):
        parts = arguments.split()
        if not parts[0].startswith("--from="):
            result.append((parts[:-1], parts[-1]))
    return result


def ignored_by(patterns: list[str]) -> Any:
    """.dockerignore's rule: the last pattern matching the path or one of its parent folders decides."""
    rules = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else "[^/]" if part == "?" else re.escape(part)
                        for part in re.split(r"(\*\*|\*|\?)", pattern))
        rules.append((re.compile(regex), negated))

    def ignored(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        verdict = False
        for regex, negated in rules:
            if any(regex.fullmatch(prefix) for prefix in prefixes):
                verdict = not negated
        return verdict

    return ignored


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def context_files(source: str) -> list[Path]:
    """The files of one COPY source that the build context holds, after .dockerignore."""
    ignored = ignored_by(dockerignore_patterns())
    path = ROOT / source
    candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return [p for p in candidates if not ignored(p.relative_to(ROOT).as_posix())]


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))


def manifests() -> list[dict[str, Any]]:
    documents = []
    for name in kustomization()["resources"]:
        documents += [d for d in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")) if d]
    return documents


def the(kind: str) -> dict[str, Any]:
    [document] = [d for d in manifests() if d["kind"] == kind]
    return document
