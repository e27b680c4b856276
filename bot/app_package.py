"""Builds the Teams app package (a zip of manifest.json, en.json and the icons) from manifest/ and the settings."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings

MANIFEST_DIR = Path(__file__).resolve().parents[1] / "manifest"
FILES = ("manifest.json", "en.json", "color.png", "outline.png")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(Exception):
    """A setting the package needs is missing or wrong; the message says which."""


def _values(settings: Settings) -> dict[str, str]:
    problems = []
    if not _GUID.match(settings.app_id):
        problems.append("MicrosoftAppId must be the bot's app id (a GUID)")
    teams_app_id = settings.teams_app_id or settings.app_id
    if settings.teams_app_id and not _GUID.match(settings.teams_app_id):
        problems.append("TEAMS_APP_ID must be a GUID")
    base = urlsplit(settings.public_base_url)
    if base.scheme != "https" or not base.hostname:
        problems.append("PUBLIC_BASE_URL must be the bot's public https address, e.g. https://lartraff.example.se")
    if problems:
        raise PackageError("; ".join(problems))
    root = settings.public_base_url.rstrip("/")
    return {
        "version": settings.app_version,
        "teams_app_id": teams_app_id,
        "bot_id": settings.app_id,
        "developer_name": settings.app_developer_name,
        "website_url": root,
        "privacy_url": f"{root}/privacy",
        "terms_url": f"{root}/terms",
        "name_short": settings.app_name,
        "name_full": f"{settings.app_name} – lärträffar i Teams",
        "name_short_en": settings.app_name,
        "name_full_en": f"{settings.app_name} – learning sessions in Teams",
        "domain": str(base.hostname),
    }


def _fill(node: Any, values: dict[str, str]) -> Any:
    """Substitute ${name} inside JSON string values, so that values never break the JSON."""
    if isinstance(node, str):
        return Template(node).substitute(values)
    if isinstance(node, list):
        return [_fill(item, values) for item in node]
    if isinstance(node, dict):
        return {key: _fill(value, values) for key, value in node.items()}
    return node


def render(settings: Settings, source: Path = MANIFEST_DIR) -> dict[str, Any]:
    """The filled manifest.json and en.json, by file name."""
    values = _values(settings)
    return {
        name: _fill(json.loads((source / name).read_text(encoding="utf-8")), values)
        for name in ("manifest.json", "en.json")
    }


def build(settings: Settings, output: Path, source: Path = MANIFEST_DIR) -> Path:
    documents = render(settings, source)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            if name in documents:
                archive.writestr(name, json.dumps(documents[name], ensure_ascii=False, indent=2))
            else:
                archive.write(source / name, arcname=name)
    return output
