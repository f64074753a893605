from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from beerolympics.cli import main
from beerolympics.settings import SETTINGS, Settings, SettingsError, markdown_table

README = Path(__file__).parents[2] / "README.md"


def test_defaults_need_nothing() -> None:
    settings = Settings.load({}, environ={})
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.store_url == "sqlite:///data/beerolympics.db"


def test_flags_beat_environment_beats_default() -> None:
    env = {"BEEROLYMPICS_PORT": "9000", "BEEROLYMPICS_DEMO": "yes"}
    assert Settings.load({}, environ=env).port == 9000
    assert Settings.load({}, environ=env).demo is True
    assert Settings.load({"port": "9100"}, environ=env).port == 9100


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("port", "eighty", "port (BEEROLYMPICS_PORT): expected an integer"),
        ("port", "70000", "port (BEEROLYMPICS_PORT): expected at most 65535"),
        ("demo", "perhaps", "demo (BEEROLYMPICS_DEMO): expected true or false"),
        ("log_level", "loud", "log_level (BEEROLYMPICS_LOG_LEVEL): expected one of"),
        (
            "database_url",
            "mysql://x",
            "database_url (BEEROLYMPICS_DATABASE_URL): expected a URL starting with sqlite",
        ),
        ("poll_interval", "0", "poll_interval (BEEROLYMPICS_POLL_INTERVAL): expected at least"),
        (
            "pubsub_url",
            "amqp://x",
            "pubsub_url (BEEROLYMPICS_PUBSUB_URL): expected a URL starting with memory://",
        ),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.load({}, environ={f"BEEROLYMPICS_{name.upper()}": value})


def test_bad_flag_names_the_flag() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "x", "--get", "/healthz"])
    assert result.exit_code != 0
    assert "port (--port): expected an integer" in result.output


def test_readme_settings_table_is_current() -> None:
    text = README.read_text()
    section = text.split("<!-- settings:start -->\n")[1].split("<!-- settings:end -->")[0]
    assert section.strip() == markdown_table(), (
        "README settings are stale: run `beerolympics settings --markdown` and paste the table"
    )


def test_every_setting_has_help_and_a_flag_in_serve_help() -> None:
    help_text = CliRunner().invoke(main, ["serve", "--help"], terminal_width=200).output
    for setting in SETTINGS:
        assert setting.help
        assert setting.flag in help_text
        assert setting.env in help_text


def test_every_command_is_in_the_readme() -> None:
    text = README.read_text()
    for name in main.commands:
        assert f"`beerolympics {name}`" in text, f"command {name} is not documented"
