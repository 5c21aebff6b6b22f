"""Delivery: the Grafana dashboard and the Prometheus alert rules query only what the service really exports."""


import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.delivery import the
from tests.support.models import REFERENCE_PROFILES, ROOT
from tests.support.servers import Server, start_gunicorn, stop_gunicorn

DASHBOARD = ROOT / "deploy" / "grafana" / "strategy-scoring.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yaml"
# metrics the dashboard and alerts query that are not the service's own, and who exports them
EXTERNAL_METRICS = {
    "up": "Prometheus, for every scraped target",
    "kube_deployment_status_replicas_available": "kube-state-metrics",
}
# labels Prometheus puts on every scraped series (`job`, `instance`), or the kubernetes-pods scrape job's labelmap adds
TARGET_LABELS = {"job", "instance", "namespace", "pod", "app_kubernetes_io_name"}




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


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A gunicorn of its own: what it exports is what these requests wrote, not what other tests happened to send."""
    server = start_gunicorn(tmp_path, workers=2)
    yield server
    stop_gunicorn(server)


def exported(server: Server, compare: bool = False) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """What the running service exports: label names by sample name, and sample names by family."""
    # a few requests first, so that every series (a 422's field, a 404) has been written at least once
    for case in REFERENCE_PROFILES.values():
        assert server.post("/assess", json=case["profile"]).status_code == 200
    if compare:  # a shadow assessment (?compare=) writes a family of its own
        default = server.get("/readyz").json()["default_model"]
        assert server.post(f"/assess?compare={default}", json=case["profile"]).status_code == 200
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


def check_dashboard_and_alerts(server: Server, compare: bool) -> None:
    labels, families = exported(server, compare)
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


@pytest.mark.gunicorn
def test_the_dashboard_and_alerts_query_only_metrics_the_service_exports(fresh_server: Server) -> None:
    check_dashboard_and_alerts(fresh_server, compare=False)


@pytest.mark.gunicorn
def test_the_dashboard_shows_shadow_assessments_too(fresh_server: Server) -> None:
    check_dashboard_and_alerts(fresh_server, compare=True)


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
