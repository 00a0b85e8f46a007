"""The Prefect UI's run forms: one deployment per flow with a name of its own, every field
titled and described in Chinese, the 经办人 of an action required, no "None" choices."""

from __future__ import annotations

import re
from typing import Any

import pytest

from config.settings import Settings
from flows.deployments import deployments
from flows.forms import chinese_form, field

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ACTIONS = {"延期审批", "核验销号", "退回重报"}


@pytest.fixture(scope="module")
def forms(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(home=tmp_path_factory.mktemp("home"))
    return {d.name: d for d in deployments(settings, "shidian-2021-2025")}


def test_each_deployment_is_named_for_what_it_does_and_its_plan(forms: dict[str, Any]) -> None:
    assert len(forms) == 8
    assert all(name.endswith(" · shidian-2021-2025") for name in forms)
    assert {name.split(" · ")[0] for name in forms} >= ACTIONS | {"每日督办", "每周简报"}
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
