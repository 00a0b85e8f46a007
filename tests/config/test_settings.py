"""Where settings come from: values given in code, else ``DUBAN_*`` variables of the
environment, else those of ``./.env``, else the defaults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.errors import SettingError
from config.settings import Settings, get_settings, reload_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No DUBAN_* variable from outside; the working directory is the test's own folder."""
    for field in Settings.model_fields:
        monkeypatch.delenv(f"DUBAN_{field.upper()}", raising=False)
    monkeypatch.chdir(tmp_path)
    reload_settings()
    yield
    reload_settings()


def test_the_defaults_hold_without_any_variable() -> None:
    """Nothing set: each setting is its declared default."""
    settings = Settings()
    assert settings.yellow_workdays == 5
    assert settings.channel == "file"
    assert settings.database_url is None


def test_a_variable_sets_its_setting_whatever_the_case_of_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``DUBAN_YELLOW_WORKDAYS`` and ``duban_pace_margin`` both count, parsed to their types."""
    monkeypatch.setenv("DUBAN_YELLOW_WORKDAYS", "3")
    monkeypatch.setenv("duban_pace_margin", "40")
    monkeypatch.setenv("DUBAN_SQL_ECHO", "true")
    settings = get_settings()
    assert (settings.yellow_workdays, settings.pace_margin, settings.sql_echo) == (3, 40, True)


def test_the_environment_wins_over_dot_env_and_code_over_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ``.env`` line counts unless the environment sets the same name; a value given in code
    wins over both; lines of other programs are ignored."""
    Path(".env").write_text(
        "DUBAN_YELLOW_WORKDAYS=2\nDUBAN_PACE_MARGIN=30\nOTHER_PROGRAM=1\nDUBAN_NO_SUCH=1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("DUBAN_PACE_MARGIN", "50")
    settings = Settings()
    assert (settings.yellow_workdays, settings.pace_margin) == (2, 50)
    assert Settings(pace_margin=60).pace_margin == 60


def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value that does not validate is refused with one Chinese line naming the variable."""
    monkeypatch.setenv("DUBAN_YELLOW_WORKDAYS", "-1")
    with pytest.raises(SettingError, match="DUBAN_YELLOW_WORKDAYS"):
        get_settings()
