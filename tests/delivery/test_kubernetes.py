"""Delivery: the Kubernetes manifests, valid, consistent with each other and with the image, and serving."""


import copy
import hashlib
import json
import re
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from tests.support.delivery import K8S, dockerfile_stages, instructions, kustomization, manifests, the
from tests.support.models import REFERENCE_PROFILES, ROOT

MODELS = ROOT / "service" / "models"
# the oldest Kubernetes still commonly supported, and the newest whose schemas kubernetes-validate ships
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())




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
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         make_app: Callable[..., Flask]) -> None:
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
    client: FlaskClient = make_app().test_client()
    assert client.get("/readyz").json["status"] == "ready"
    case = REFERENCE_PROFILES["minimal_required_only_b2b"]
    assert client.post("/assess", json=case["profile"]).json["recommendation"] == case["expected"]


