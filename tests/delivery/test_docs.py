"""The README and the docs say what the code does: the profile table is the command's output, the example's
request works on a fresh clone and its answer names every field, and every "contract §N" points at docs/contract.md."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable

from flask import Flask

from service.commands.profile_fields import profile_fields_table
from service.schemas.responses import AssessmentSchema
from tests.support.models import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRACT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")
# references in files other developers own at the time of writing (issue 11, item 4): the integrator points them at
# docs/contract.md once those branches are merged, and empties this set


def test_the_readme_is_read_in_five_minutes() -> None:
    assert len(README.splitlines()) <= 220
    assert "http://localhost:8000/" in README and "scripts/serve" in README and "scripts/test" in README


def test_the_readmes_profile_table_is_what_the_command_prints(app: Flask) -> None:
    block = re.search(r"<!-- profile-fields:[^\n]*-->\n(.*?)<!-- /profile-fields -->", README, re.DOTALL)
    assert block, "the README holds the generated table between its markers"
    assert block.group(1) == profile_fields_table(app), (
        "regenerate it: .venv/bin/flask --app service profile-fields")
    printed = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "service", "profile-fields"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert printed == block.group(1)


def test_the_readmes_example_works_and_names_every_field(make_app: Callable[..., Flask]) -> None:
    command = re.search(r"\$ curl -s '?(localhost:8000[^'\s]+)'? .*?-d '(.*?)'\n", README, re.DOTALL)
    assert command, "the first example is a curl with a body"
    url, body = command.groups()
    answer = re.search(r"```jsonc\n(.*?)```", README, re.DOTALL).group(1)
    named = re.findall(r'^  "(\w+)":', answer, re.MULTILINE)
    fields = [field.data_key or name for name, field in AssessmentSchema().fields.items()]
    assert named == fields, "the example's answer shows every top-level field, in the order the service sends them"
    response = make_app().test_client().post(url.removeprefix("localhost:8000"), json=json.loads(body))
    assert response.status_code == 200, "the example uses only models the repository ships"
    sent = response.get_json()
    assert list(sent) == fields
    for name in ("external_id", "industry", "recommendation"):
        assert f'"{name}": {json.dumps(sent[name])}' in answer


def test_every_contract_reference_points_at_a_section_of_docs_contract() -> None:
    sections = set(re.findall(r"^## (\d+)\. ", CONTRACT, re.MULTILINE))
    files = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    found = 0
    for name in files:
        if not name.endswith((".py", ".md", ".js", ".yaml", ".html")) or name == "docs/contract.md":
            continue
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            for match in re.finditer(r"contract(?:\.md)? §(\d+)", line):
                found += 1
                assert match.group(1) in sections, f"{name}: §{match.group(1)} is no section of docs/contract.md"
                assert re.search(rf"docs/contract\.md §{match.group(1)}|\[contract §{match.group(1)}\]\(([./]*"
                                 rf"docs/)?contract\.md#{match.group(1)}-", line), f"{name}: {line.strip()}"
    assert found >= 8
