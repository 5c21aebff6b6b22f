"""The benchmark's comparison with GoRules Zen stays meaningful: the decision graph generated from the model
file must agree with our core. A correctness check only; the benchmark itself is `python -m bench`."""

from bench import MODEL_FILE
from bench.inprocess import check_counterfactuals, single_changes
from bench.profiles import model_document, random_profiles, reference_profiles
from bench.zen_graph import build_graph, disagreements, load_decision, load_engine
from service.scoring import load_model


def test_graph_has_a_node_per_criterion():
    document = model_document(MODEL_FILE)
    graph = build_graph(document)
    names = {node["name"] for node in graph["nodes"]}
    assert {c["name"] for c in document["criteria"]} <= names
    assert {node["type"] for node in graph["nodes"]} >= {"inputNode", "outputNode", "expressionNode"}


def test_zen_agrees_with_our_core():
    decision = load_decision(MODEL_FILE)
    profiles = reference_profiles() + random_profiles(model_document(MODEL_FILE), 50, seed=2024)
    assert disagreements(load_model(MODEL_FILE), decision, profiles) == []
    outcomes = {decision.evaluate(p)["result"]["recommendation"] for p in profiles}
    assert outcomes == {"relational", "hybrid", "transactional"}


def test_zen_what_if_answers_are_our_counterfactuals():
    document = model_document(MODEL_FILE)
    profiles = reference_profiles() + random_profiles(document, 30, seed=7)
    what_if = {id(p): [{"key": "scorecard", "context": changed} for changed in single_changes(document, p)]
               for p in profiles}
    assert check_counterfactuals(load_model(MODEL_FILE), load_engine(MODEL_FILE), profiles, what_if) > 30
