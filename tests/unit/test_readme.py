"""The README documents every setting the code reads."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_documented() -> None:
    text = README.read_text(encoding="utf-8")
    names = []
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", [alias])
        names.append(str(choices[0]))
    missing = [name for name in names if f"`{name}`" not in text]
    assert missing == []
    assert len(names) >= 14
