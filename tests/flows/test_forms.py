"""The Prefect UI's run forms: one deployment per flow with a name of its own, every field
titled and described in Chinese, the 经办人 of an action required, no "None" choices."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings, get_settings, temporary_settings
from duban.orchestration import prefect_client
from flows.deployments import deployments
from flows.forms import chinese_form, field

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ACTIONS = {"延期审批", "核验销号", "退回重报"}


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    return {d.name: d for d in deployments(settings, "shidian-2021-2025")}


def test_each_deployment_is_named_for_what_it_does_and_its_plan(forms: dict[str, Any]) -> None:
    assert len(forms) == 11
    assert all(name.endswith(" · shidian-2021-2025") for name in forms)
    assert {name.split(" · ")[0] for name in forms} >= ACTIONS | {
        "每日督办",
        "每周简报",
        "月通报",
        "季度推进",
        "考评通报",
    }
    assert all(CHINESE.search(d.description or "") for d in forms.values())


def test_every_field_has_a_chinese_title_and_description(forms: dict[str, Any]) -> None:
    for name, deployment in forms.items():
        for key, prop in deployment._parameter_openapi_schema.properties.items():
            assert CHINESE.search(prop["title"]), (name, key, prop)
            assert CHINESE.search(prop.get("description", "")), (name, key, prop)


def test_no_field_offers_a_choice_with_none(forms: dict[str, Any]) -> None:
    for deployment in forms.values():
        for prop in deployment._parameter_openapi_schema.properties.values():
            assert "anyOf" not in prop, prop


def test_a_date_is_a_date_field(forms: dict[str, Any]) -> None:
    schema = forms["延期审批 · shidian-2021-2025"]._parameter_openapi_schema
    assert schema.properties["new_due"]["format"] == "date"
    assert schema.properties["item_id"]["type"] == "integer"


def test_the_actor_of_every_action_is_required_and_not_blank(forms: dict[str, Any]) -> None:
    for label in ACTIONS:
        schema = forms[f"{label} · shidian-2021-2025"]._parameter_openapi_schema
        assert "actor" in schema.required
        actor = schema.properties["actor"]
        assert actor["title"] == "经办人"
        assert re.search(actor["pattern"], "张三") and not re.search(actor["pattern"], "   ")


def test_chinese_form_leaves_fields_without_a_title_as_prefect_made_them() -> None:
    def flow_fn(a: int = field("甲", "说明"), b: str | None = None) -> None: ...

    properties: dict[str, Any] = {
        "a": {"title": "a", "type": "integer"},
        "b": {"title": "b", "anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
    }
    chinese_form(properties, flow_fn)
    assert properties == {
        "a": {"title": "甲", "type": "integer"},
        "b": {"title": "b", "type": "string", "default": None},
    }


@pytest.mark.slow
def test_the_verify_form_in_the_prefect_ui_reads_in_chinese(
    settings: Settings, prefect_api: str, tmp_path: Path
) -> None:
    """The 核验销号 deployment registered on a real server: its run form in headless chromium
    at 1,400 px shows the Chinese titles and descriptions and the required 经办人; screenshot
    kept in ``DUBAN_TEST_ARTIFACTS`` when set."""
    from tests.flows.test_desk_on_a_server import wait_for_text  # noqa: PLC0415
    from tests.web.chromium import phone  # noqa: PLC0415

    with temporary_settings(prefect_api_url=prefect_api), prefect_client(get_settings()):
        verify = next(
            d for d in deployments(get_settings(), "demo-plan") if d.name.startswith("核验销号")
        )
        deployment_id = verify.apply()
    shots = Path(os.environ.get("DUBAN_TEST_ARTIFACTS") or tmp_path) / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    ui = prefect_api.removesuffix("/api")
    with phone(tmp_path, 1400, 1000, mobile=False) as page:
        page.open(f"{ui}/deployments/deployment/{deployment_id}/run")
        wait_for_text(page, "经办人")
        text = page.evaluate("document.body.innerText")
        page.screenshot(shots / "verify-form.png")
    for shown in ("核验销号 · demo-plan", "事项编号", "待核验销号清单中的事项编号", "核验意见"):
        assert shown in text, shown
    assert "None" not in text and "str |" not in text
