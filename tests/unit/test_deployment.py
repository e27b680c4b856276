"""The deployment guide, the Bicep and the container image agree with the settings the code reads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "infra" / "README.md").read_text(encoding="utf-8")
BICEP = (ROOT / "infra" / "main.bicep").read_text(encoding="utf-8")
DOCKERFILE = (ROOT / "infra" / "Dockerfile").read_text(encoding="utf-8")
PARAMS = (ROOT / "infra" / "main.bicepparam").read_text(encoding="utf-8")
SETTING_NAMES = {
    str(getattr(field.validation_alias, "choices", [field.validation_alias])[0])
    for field in Settings.model_fields.values()
}
# What the deployment must set for the bot to work in a tenant.
REQUIRED = {
    "HOST", "PORT", "DATABASE_URL", "MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppType",
    "MicrosoftAppTenantId", "ALLOWED_TENANT_IDS", "PUBLIC_BASE_URL",
}  # fmt: skip
PLATFORM_SETTINGS = {"WEBSITES_PORT"}  # read by App Service, not by the bot


def _bicep_app_settings() -> dict[str, str]:
    return dict(re.findall(r"^\s*\{ name: '([^']+)', value: (.+) \}$", BICEP, flags=re.MULTILINE))


def _guide_settings_table() -> set[str]:
    section = GUIDE.split("## 4. Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in re.findall(r"^\| ([^|]+) \|", section, flags=re.MULTILINE):
        names.update(re.findall(r"`([A-Za-z_]+)`", row))
    return names


def test_bicep_sets_only_settings_the_code_reads() -> None:
    settings = set(_bicep_app_settings())
    assert settings - SETTING_NAMES - PLATFORM_SETTINGS == set()
    assert settings >= REQUIRED


def test_secrets_come_from_key_vault() -> None:
    settings = _bicep_app_settings()
    for secret in ("DATABASE_URL", "MicrosoftAppPassword"):
        assert settings[secret].startswith("'@Microsoft.KeyVault(SecretUri=")


def test_guide_table_matches_the_bicep() -> None:
    assert _guide_settings_table() == set(_bicep_app_settings()) - PLATFORM_SETTINGS


def test_every_setting_the_guide_names_exists() -> None:
    named = set(re.findall(r"`((?:Microsoft|[A-Z])[A-Za-z]*_?[A-Z_]*)`", GUIDE))
    looks_like_setting = {n for n in named if (n.isupper() and "_" in n) or n.startswith("Microsoft")}
    assert looks_like_setting - SETTING_NAMES - PLATFORM_SETTINGS == set()


def test_every_resource_the_guide_names_is_in_the_bicep() -> None:
    types = set(re.findall(r"`(Microsoft\.[A-Za-z]+/[A-Za-z]+)`", GUIDE))
    assert len(types) >= 6
    declared = set(re.findall(r"^resource \w+ '([^@']+)@", BICEP, flags=re.MULTILINE))
    assert types <= declared
    assert "Microsoft.BotService/botServices/channels" in declared
    assert "MsTeamsChannel" in BICEP
    assert "msaAppType: 'SingleTenant'" in BICEP


def test_container_serves_on_the_port_the_platform_expects() -> None:
    port = _bicep_app_settings()["WEBSITES_PORT"].strip("'")
    assert f"PORT={port}" in DOCKERFILE
    assert f"EXPOSE {port}" in DOCKERFILE
    assert 'CMD ["python", "app.py", "serve"]' in DOCKERFILE
    assert "uv sync --frozen --no-dev" in DOCKERFILE
    assert "USER lartraff" in DOCKERFILE, "the bot does not run as root"


def test_container_copies_what_the_app_imports() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() or p.name in {"bot", "cards"}}
    for package in packages - {"tests"}:
        assert f"COPY {package} ./{package}" in DOCKERFILE


def test_the_instances_connections_fit_the_database_server() -> None:
    """Standard_B1ms takes 35 user connections; every instance keeps its whole pool open under load."""
    assert "'Standard_B1ms'" in BICEP
    (most,) = re.findall(r"@maxValue\((\d+)\)\nparam instanceCount", BICEP)
    ((cap, share),) = re.findall(
        r"min\((\d+), div\((\d+), instanceCount\)\)", _bicep_app_settings()["DATABASE_POOL_SIZE"]
    )
    for instances in range(1, int(most) + 1):
        pool = min(int(cap), int(share) // instances)
        assert pool >= 1
        assert instances * pool < 35


def test_the_association_guide_is_tied_to_the_settings_and_the_bicep() -> None:
    section = GUIDE.split("## 6c.", 1)[1].split("\n## ", 1)[0]
    for needed in ("AzureADMultipleOrgs", "SingleTenant", "`MEMBER_TENANTS`", "`MEETING_LOBBY_BYPASS`",
                   "Setup policies", "External access", "OnlineMeetings.ReadWrite.All"):  # fmt: skip
        assert needed in section, needed
    settings = _bicep_app_settings()
    assert settings["MEMBER_TENANTS"] == "memberTenants"
    assert settings["MEETING_LOBBY_BYPASS"] == "meetingLobbyBypass"
    assert "msaAppType: 'SingleTenant'" in BICEP, "a new MultiTenant bot resource can no longer be made"
    allowed = re.search(r"@allowed\(\[([^\]]*)\]\)\nparam meetingLobbyBypass", BICEP)
    assert allowed is not None
    values = set(re.findall(r"'([^']+)'", allowed[1]))
    assert values == set(Settings.model_fields["meeting_lobby_bypass"].annotation.__args__)  # type: ignore[union-attr]
    example = re.search(r"^param memberTenants = '([^']*)'", PARAMS, flags=re.MULTILINE)
    assert example is not None
    members = Settings(_env_file=None, member_tenants=example[1]).member_tenants
    assert [name for _, name in members] == ["Luleå kommun", "Piteå kommun"]


def test_the_container_and_the_benchmark_run_python_alike() -> None:
    """The memory budget is measured as the container runs the bot: docstrings and asserts stripped."""
    hotpath = (ROOT / "tests" / "bench" / "hotpath.py").read_text(encoding="utf-8")
    assert "PYTHONOPTIMIZE=2" in DOCKERFILE
    assert '"PYTHONOPTIMIZE": "2"' in hotpath
