"""Plan ids as Prefect's artifact keys see them."""

from __future__ import annotations

from domain.rules.plan_keys import clashing_plan, key_text
from flows.stages import artifact_key


def test_ids_differing_only_in_case_or_separators_share_a_key() -> None:
    """Case and ``_`` ``.`` ``-`` are lost in a key; other letters and digits are not."""
    assert key_text("Shidian_2026.2030") == "shidian-2026-2030"
    assert clashing_plan("shidian-2026-2030", ["old", "Shidian_2026.2030"]) == "Shidian_2026.2030"
    assert clashing_plan("shidian-2026-2031", ["Shidian_2026.2030"]) is None
    assert clashing_plan("a-b", ["a-b"]) is None  # the same plan synced again
    assert artifact_key("Shidian_2026.2030", "status") == "shidian-2026-2030-status"
