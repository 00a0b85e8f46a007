"""The documentation's examples are real: they validate and match what the code prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from config.settings import Settings
from duban.cli import app
from tasks_catalog.expand import plan_items
from tasks_catalog.loader import load_catalog

DOCS = Path(__file__).parents[1] / "docs"


def test_catalogue_example_validates_with_the_documented_summary(tmp_path: Path) -> None:
    """The complete example in docs/catalogue.md is valid and gives the stated counts."""
    text = (DOCS / "catalogue.md").read_text(encoding="utf-8")
    example = text.split("## A complete example")[1].split("```yaml\n")[1].split("```")[0]
    folder = tmp_path / "example"
    folder.mkdir()
    (folder / "plan.yaml").write_text(example, encoding="utf-8")
    catalog, warnings = load_catalog(folder)
    assert warnings == []
    assert len(plan_items(catalog)) == 14
    stated = re.search(r"`(目录 example-2024-2026 校验通过：[^`]+)`", text)
    assert stated is not None
    result = CliRunner().invoke(app, ["catalog", "validate", str(folder)])
    assert stated.group(1) in result.stdout.replace("\n", " ")


def test_status_json_example_has_the_real_keys(settings: Settings) -> None:
    """The example in docs/status-json.md has exactly the keys the command emits."""
    text = (DOCS / "status-json.md").read_text(encoding="utf-8")
    documented = json.loads(text.split("```json\n")[1].split("```")[0])
    runner = CliRunner()
    runner.invoke(app, ["catalog", "sync"], catch_exceptions=False)
    real = json.loads(
        runner.invoke(app, ["status", "--as-of", "2021-12-27", "--task", "1", "--json"]).stdout
    )
    assert set(real) == set(documented)
    assert set(real["items"][0]) == set(documented["items"][0])
    assert set(real["tasks"][0]) == set(documented["tasks"][0])
    assert real["summary"] == documented["summary"]
    assert real["items"][0] == documented["items"][0]
