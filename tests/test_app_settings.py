"""Settings given as arguments: `create_app(settings)` answers with exactly those, whatever the
`TAKEOFF_*` environment says."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import APISettings, LimitSettings, Settings, StoreSettings

KEY = "another-key-0123456789"


def test_groups_and_single_fields_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKEOFF_ITEMS_DEFAULT_LIMIT", "50")
    monkeypatch.setenv("TAKEOFF_MAX_FEATURES", "7")
    monkeypatch.setenv("TAKEOFF_API_KEYS", '["from-the-environment-0123"]')
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path), api_keys=[KEY], items_default_limit=3
    )
    assert settings.store.data_dir == tmp_path
    assert settings.api.api_keys == [KEY]
    assert settings.limits.items_default_limit == 3
    assert settings.limits.max_features == 7  # not given: read from the environment
    assert Settings().limits.items_default_limit == 50


def test_a_setting_given_twice_or_unknown_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="data_dir given both alone and in store"):
        Settings(store=StoreSettings(data_dir=tmp_path), data_dir=tmp_path)
    with pytest.raises(TypeError, match="unknown setting"):
        Settings(items_limit=3)


def test_the_app_uses_the_settings_it_is_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TAKEOFF_DATA_DIR", str(tmp_path / "environment"))
    monkeypatch.setenv("TAKEOFF_API_KEYS", '["from-the-environment-0123"]')
    monkeypatch.setenv("TAKEOFF_TILE_URL", "https://tiles.example.org/{z}/{x}/{y}.png")
    settings = Settings(
        store=StoreSettings(data_dir=tmp_path / "given"),
        api=APISettings(api_keys=[KEY], tile_url="https://given.example.org/{z}/{x}/{y}.png"),
        limits=LimitSettings(items_default_limit=4, items_max_limit=6),
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/collections/roads/items").json()["numberReturned"] == 4
        assert client.get("/collections/roads/items?limit=50").json()["numberReturned"] == 6
        page = client.get("/", headers={"Accept": "text/html"}).text
        assert "given.example.org" in page and "tiles.example.org" not in page
        catalog = client.get("/catalogs/example-eur").json()
        del catalog["version"]
        refused = client.post(
            "/catalogs", json=catalog, headers={"X-API-Key": "from-the-environment-0123"}
        )
        assert refused.status_code == 401
        saved = client.post("/catalogs", json=catalog, headers={"X-API-Key": KEY})
        assert saved.status_code == 201, saved.text
    assert (tmp_path / "given" / "takeoff.sqlite3").is_file()
    assert not (tmp_path / "environment").exists()
