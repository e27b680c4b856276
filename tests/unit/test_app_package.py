"""The Teams app package: a manifest that validates against Microsoft's own schema, icons as Teams wants."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from PIL import Image

from bot.app_package import PackageError, build
from bot.config import Settings
from bot.router import parse_command

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "node_modules" / "@microsoft" / "app-manifest" / "build" / "json-schemas" / "teams"
BOT_ID = "11111111-2222-3333-4444-555555555555"


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"app_id": BOT_ID, "public_base_url": "https://lartraff.example.se", **overrides}
    return Settings(_env_file=None, **values)


def _schemas() -> Path:
    if not SCHEMAS.exists():
        if os.environ.get("LARTRAFF_REQUIRE_E2E") == "1":
            pytest.fail("@microsoft/app-manifest not installed (npm ci)")
        pytest.skip("@microsoft/app-manifest not installed (npm ci)")
    return SCHEMAS


@pytest.fixture
def package(tmp_path: Path) -> zipfile.ZipFile:
    path = build(_settings(), tmp_path / "app.zip")
    return zipfile.ZipFile(path)


def _json(package: zipfile.ZipFile, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(package.read(name))
    return data


def test_package_holds_manifest_localization_and_icons(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "en.json", "manifest.json", "outline.png"]


def test_manifest_validates_against_the_newest_official_schema(package: zipfile.ZipFile) -> None:
    schemas = _schemas()
    newest = max(
        (p.name for p in schemas.iterdir() if re.fullmatch(r"v1\.\d+", p.name)), key=lambda v: int(v.split(".")[1])
    )
    manifest = _json(package, "manifest.json")
    assert f"v{manifest['manifestVersion']}" == newest
    schema = json.loads((schemas / newest / "MicrosoftTeams.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    localization = json.loads(
        (schemas / newest / "MicrosoftTeams.Localization.schema.json").read_text(encoding="utf-8")
    )
    jsonschema.Draft7Validator(localization).validate(_json(package, "en.json"))


def test_manifest_carries_the_settings(package: zipfile.ZipFile) -> None:
    manifest = _json(package, "manifest.json")
    assert manifest["id"] == BOT_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["developer"]["privacyUrl"] == "https://lartraff.example.se/privacy"
    assert manifest["validDomains"] == ["lartraff.example.se"]
    assert manifest["localizationInfo"]["defaultLanguageTag"] == "sv-se"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team"}
    assert "${" not in json.dumps(manifest) + json.dumps(_json(package, "en.json"))


def test_every_listed_command_is_understood_in_both_languages(package: zipfile.ZipFile) -> None:
    manifest = _json(package, "manifest.json")
    titles = [c["title"] for lst in manifest["bots"][0]["commandLists"] for c in lst["commands"]]
    titles += [v for k, v in _json(package, "en.json").items() if k.endswith(".title")]
    assert titles
    assert [t for t in titles if parse_command(t) is None] == []


def test_icons_have_the_sizes_and_transparency_teams_requires(package: zipfile.ZipFile) -> None:
    color = Image.open(io.BytesIO(package.read("color.png")))
    assert color.size == (192, 192)
    outline = Image.open(io.BytesIO(package.read("outline.png"))).convert("RGBA")
    assert outline.size == (32, 32)
    pixels = cast("list[tuple[int, int, int, int]]", list(outline.get_flattened_data()))
    assert all(a == 0 or (r, g, b) == (255, 255, 255) for r, g, b, a in pixels), "outline is white on transparent"
    assert any(a == 0 for *_, a in pixels)
    assert any(a == 255 for *_, a in pixels)


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"app_id": ""}, "MicrosoftAppId"),
        ({"public_base_url": "http://insecure.example.se"}, "PUBLIC_BASE_URL"),
        ({"teams_app_id": "not-a-guid"}, "TEAMS_APP_ID"),
    ],
)
def test_missing_or_wrong_settings_are_named(tmp_path: Path, overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(PackageError, match=problem):
        build(_settings(**overrides), tmp_path / "app.zip")
    assert not (tmp_path / "app.zip").exists()
