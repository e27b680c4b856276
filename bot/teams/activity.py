"""Reading fields of an incoming activity's JSON, whatever shape a sender gave it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def tenant_of(activity: Mapping[str, Any]) -> str:
    """The sender's tenant: whose limit of requests answers to the activity count against, among others."""
    tenant = as_dict(as_dict(activity.get("channelData")).get("tenant")).get("id")
    return str(tenant or as_dict(activity.get("conversation")).get("tenantId") or "")
