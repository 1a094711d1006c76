"""Policy figures (knowledge/policy.toml): the numbers of domain.md's date rules, each with its source, validated."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

POLICY_PATH = Path(__file__).resolve().parent / "policy.toml"


class PolicyError(ValueError):
    """knowledge/policy.toml is missing a figure or has one that is not a positive whole number."""


@dataclass(frozen=True)
class Policy:
    """The figures of domain.md's table; `sources` says where each comes from."""

    window_opens_days_before_expiry: int
    window_closes_days_after_expiry: int
    reapply_after_days_overdue: int
    reregistration_wait_months: int
    points_confirm_from_workday: int
    points_confirm_typical_workday: int
    points_deadline_days_after_endorsement: int
    paper_submit_workday: int
    result_typical_workday: int
    result_expected_workday: int
    sources: dict[str, str]


def load_policy(path: Path = POLICY_PATH) -> Policy:
    """Read the policy figures; raises PolicyError naming the figure that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: cannot be read ({exc})") from None
    values: dict[str, int] = {}
    sources: dict[str, str] = {}
    for field in fields(Policy):
        if field.name == "sources":
            continue
        entry = data.get(field.name)
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), int) or entry["value"] < 1:
            raise PolicyError(f"{path}: [{field.name}] needs `value`, a positive whole number")
        if not isinstance(entry.get("source"), str):
            raise PolicyError(f"{path}: [{field.name}] needs `source`")
        values[field.name] = entry["value"]
        sources[field.name] = entry["source"]
    return Policy(**values, sources=sources)
