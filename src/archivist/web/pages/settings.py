"""The *Settings* page's context, shared by its two parts: the solution's settings (``admin``) and
its retention rules (``retention_rules``), so that neither page module imports the other."""

from __future__ import annotations

from typing import Any

from archivist.accounts.models import Solution


def settings_form(solution: Solution) -> dict[str, str]:
    return {
        "country": solution.country,
        "timezone": solution.timezone,
        "nightly_at": solution.nightly_at,
        "replacement": solution.replacement,
        "preview_warn_percent": f"{solution.preview_warn_share * 100:g}",
        "audit_retention_days": str(solution.audit_retention_days),
        "own_email_domains": "\n".join(solution.own_email_domains or []),
        "access_purposes": solution.access_purposes,
        "access_recipients": solution.access_recipients,
        "access_source": solution.access_source,
    }


def settings_context(solution: Solution, rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The whole *Settings* page: the settings form and ``rules``, the retention rules section."""
    return {
        "title": "Settings",
        "solution": solution,
        "form": settings_form(solution),
        "errors": {},
        "notice": None,
        **rules,
        **extra,
    }
