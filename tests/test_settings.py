"""Settings: defaults, TOML and environment overrides, and errors that name the setting."""

from pathlib import Path

import pytest

from settings import Settings, SettingsError, load_settings


def test_defaults_without_overrides(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={})
    assert s.port == 8050 and s.host == "127.0.0.1"
    assert s.timezone == "Asia/Shanghai"
    assert s.current_file == s.var_dir / "warehouse" / "CURRENT"
    assert s.sla_accept_seconds == 60 and s.sla_other_close_working_days == 3


def test_environment_overrides_and_converts_types():
    s = load_settings(env={"GRIDPULSE_PORT": "9000", "GRIDPULSE_DEBUG": "true", "GRIDPULSE_VAR_DIR": "/tmp/gp",
                           "GRIDPULSE_STATUS_AMBER_BELOW": "0.9"})
    assert s.port == 9000 and s.debug is True and s.var_dir == Path("/tmp/gp") and s.status_amber_below == 0.9


def test_toml_file_then_environment_wins(tmp_path):
    cfg = tmp_path / "gp.toml"
    cfg.write_text('port = 8100\nlanguage = "en"\n[sla."ENV-01"]\nclose_hours = 12\n', encoding="utf-8")
    s = load_settings(env={"GRIDPULSE_CONFIG": str(cfg), "GRIDPULSE_PORT": "8200"})
    assert s.port == 8200 and s.language == "en"
    assert s.sla_overrides == {"ENV-01": {"close_hours": 12}}


@pytest.mark.parametrize("env, named", [
    ({"GRIDPULSE_PORT": "eighty"}, "GRIDPULSE_PORT"),
    ({"GRIDPULSE_PORT": "70000"}, "GRIDPULSE_PORT"),
    ({"GRIDPULSE_TIMEZONE": "Mars/Olympus"}, "GRIDPULSE_TIMEZONE"),
    ({"GRIDPULSE_LANGUAGE": "fr"}, "GRIDPULSE_LANGUAGE"),
    ({"GRIDPULSE_ETL_INTERVAL_SECONDS": "0"}, "GRIDPULSE_ETL_INTERVAL_SECONDS"),
    ({"GRIDPULSE_REFERENCE_CRON": "at two"}, "GRIDPULSE_REFERENCE_CRON"),
    ({"GRIDPULSE_DEBUG": "maybe"}, "GRIDPULSE_DEBUG"),
    ({"GRIDPULSE_PROT": "8050"}, "GRIDPULSE_PROT"),
    ({"GRIDPULSE_DEMO_BOUNDARY": "/no/such/file.geojson"}, "GRIDPULSE_DEMO_BOUNDARY"),
])
def test_bad_value_stops_with_the_setting_named(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env=env)


def test_bad_toml_names_the_key(tmp_path):
    cfg = tmp_path / "gp.toml"
    cfg.write_text('[sla."ENV-01"]\nclose_days = 2\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"sla\.ENV-01\.close_days"):
        load_settings(env={"GRIDPULSE_CONFIG": str(cfg)})
    cfg.write_text('[sla."ENV-01"]\nclose_working_days = 1.5\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"sla\.ENV-01\.close_working_days: expected a positive whole number"):
        load_settings(env={"GRIDPULSE_CONFIG": str(cfg)})
    cfg.write_text("port = [1\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="GRIDPULSE_CONFIG"):
        load_settings(env={"GRIDPULSE_CONFIG": str(cfg)})


def test_replace_validates():
    with pytest.raises(SettingsError, match="port"):
        Settings().replace(port=0)


def test_app_refuses_to_start_on_a_bad_setting(monkeypatch, capsys):
    import app

    monkeypatch.setenv("GRIDPULSE_PORT", "not-a-port")
    assert app.main(["demo"]) == 2
    assert "GRIDPULSE_PORT" in capsys.readouterr().err


def test_every_setting_is_documented():
    from dataclasses import fields

    text = (Path(__file__).resolve().parents[1] / "docs" / "settings.md").read_text(encoding="utf-8")
    missing = [f.name for f in fields(Settings) if f"| `{f.name}` |" not in text]
    assert missing == []


@pytest.mark.parametrize("name", ["DISTRICT_ID", "DISTRICT_NAME", "DISTRICT_NAME_EN", "BASEMAP_TILES"])
def test_the_deployment_identity_is_no_setting(name):
    """The district's id and names come from the warehouse's areas; setting them is an error, not ignored."""
    with pytest.raises(SettingsError, match=f"GRIDPULSE_{name}"):
        load_settings(env={f"GRIDPULSE_{name}": "x"}, toml_path=None)
    settings = load_settings(env={}, toml_path=None)
    assert not hasattr(settings, "logs_dir") and not hasattr(settings, "quarantine_dir")


_STORE = {"GRIDPULSE_OBJECT_STORE_URL": "s3://gridpulse-snapshots/hz", "GRIDPULSE_OBJECT_STORE_ROLE": "pull"}


@pytest.mark.parametrize("env, named", [
    ({"GRIDPULSE_OBJECT_STORE_URL": "s3://gridpulse-snapshots"}, "GRIDPULSE_OBJECT_STORE_ROLE"),  # role required
    ({"GRIDPULSE_OBJECT_STORE_ROLE": "pull"}, "GRIDPULSE_OBJECT_STORE_ROLE"),  # a role without a store
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_ROLE": "both"}, "GRIDPULSE_OBJECT_STORE_ROLE"),
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_URL": "https://gridpulse-snapshots"}, "GRIDPULSE_OBJECT_STORE_URL"),
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_URL": "s3://GP"}, "GRIDPULSE_OBJECT_STORE_URL"),  # not a bucket name
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_ENDPOINT": "minio:9000"}, "GRIDPULSE_OBJECT_STORE_ENDPOINT"),
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_ADDRESSING": "dns"}, "GRIDPULSE_OBJECT_STORE_ADDRESSING"),
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_POLL_SECONDS": "0"}, "GRIDPULSE_OBJECT_STORE_POLL_SECONDS"),
    ({**_STORE, "GRIDPULSE_OBJECT_STORE_PART_MB": "4"}, "GRIDPULSE_OBJECT_STORE_PART_MB"),
])
def test_bad_object_store_settings_are_named(env, named):
    with pytest.raises(SettingsError, match=named):
        load_settings(env=env, toml_path=None)


@pytest.mark.parametrize("name", ["OBJECT_STORE_URL", "OBJECT_STORE_ENDPOINT"])
def test_a_secret_in_an_object_store_url_is_refused_unechoed(name):
    value = "s3://AKIDEXAMPLE:s3cr3tvalue@gridpulse-snapshots" if name == "OBJECT_STORE_URL" else \
        "https://AKIDEXAMPLE:s3cr3tvalue@oss-cn-hangzhou.aliyuncs.com"
    with pytest.raises(SettingsError, match=f"GRIDPULSE_{name}") as caught:
        load_settings(env={**_STORE, f"GRIDPULSE_{name}": value}, toml_path=None)
    assert "s3cr3tvalue" not in str(caught.value)


def test_object_store_settings_accepted():
    s = load_settings(env={**_STORE, "GRIDPULSE_OBJECT_STORE_ENDPOINT": "http://127.0.0.1:9000",
                           "GRIDPULSE_OBJECT_STORE_ADDRESSING": "path", "GRIDPULSE_OBJECT_STORE_REGION": "cn-hangzhou"},
                      toml_path=None)
    assert (s.object_store_role, s.object_store_poll_seconds, s.object_store_part_mb) == ("pull", 5, 64)
    assert load_settings(env={}, toml_path=None).object_store_url == ""  # off by default
