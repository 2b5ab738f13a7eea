"""Deployments of real cities built the way an operator builds them: the example's commands, run by ``app.py``.

Each fixture runs ``app.py geography import`` and ``app.py import`` (in this process, through
``app.main``) into a fresh ``var/`` with the example's ``gridpulse.toml``, exactly as
``examples/<name>/README.md`` says, and returns the deployment's settings. The real files come
from ``../shared/data``; the tests skip with a reason when it is absent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import app
from settings import Settings, load_settings
from tests.conftest import shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def build_deployment(var: Path, example: str, geography: Path, source: str, export: Path,
                     monkeypatch: pytest.MonkeyPatch) -> Settings:
    """``examples/<example>``'s commands into ``var``; returns its settings."""
    config = EXAMPLES / example / "gridpulse.toml"
    env = {"GRIDPULSE_CONFIG": str(config), "GRIDPULSE_VAR_DIR": str(var)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert app.main(["geography", "import", "--mapping", str(EXAMPLES / example / "geography.toml"),
                     str(geography)]) == 0
    assert app.main(["import", "--source", str(EXAMPLES / example / source), str(export)]) == 0
    return load_settings(env=env, toml_path=None)


def _la(tmp_path_factory, name: str, export: str, source: str) -> Settings:
    councils = shared_data("la311", "la_nc_boundary_2019_modified.geojson")
    with pytest.MonkeyPatch.context() as mp:
        return build_deployment(tmp_path_factory.mktemp(name) / "var", "la311", councils, source,
                                shared_data("la311", export), mp)


@pytest.fixture(scope="module")
def la2020(tmp_path_factory) -> Settings:
    """LA's 2020 extract (10,000 requests) on its 99 Neighborhood Councils."""
    return _la(tmp_path_factory, "la2020", "la311_requests_2020_10k.csv", "source-2020.toml")


@pytest.fixture(scope="module")
def la2017(tmp_path_factory) -> Settings:
    """LA's 2017 extract (9,999 requests, CamelCase columns, AM/PM dates) through its own mapping."""
    return _la(tmp_path_factory, "la2017", "MyLA311_Service_Request_Data_2017_Subset.csv", "source-2017.toml")
