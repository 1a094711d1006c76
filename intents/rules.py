"""The permit and points date rules of domain.md as pure functions; the figures come from knowledge/policy.toml."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from functools import lru_cache

# OFFICIAL, STATUTORY_ONLY, WEEKENDS_ONLY: the results' workday_calendar values, decided in intents.workdays.
from intents.workdays import OFFICIAL, STATUTORY_ONLY, WEEKENDS_ONLY, WorkdayCalendar, nth_workday_after, weakest  # noqa: F401
from knowledge.policy import Policy, load_policy


TOO_EARLY = "too_early"
IN_WINDOW = "in_window"
GRACE = "grace"
RECALCULATED = "recalculated"
REAPPLY = "reapply"


@lru_cache(maxsize=1)
def policy() -> Policy:
    """The process-wide policy, read once from knowledge/policy.toml."""
    return load_policy()


def facts_of(result: object) -> dict[str, object]:
    """A rule result as replay facts: dates as YYYY-MM-DD, None left out."""
    out: dict[str, object] = {}
    for field in fields(result):  # type: ignore[arg-type]
        value = getattr(result, field.name)
        if value is not None:
            out[field.name] = value.isoformat() if isinstance(value, date) else value
    return out


def permit_status(days_to_expiry: int, *, rules: Policy | None = None) -> str:
    """too_early / in_window / grace / recalculated / reapply for E − T in days."""
    rules = rules or policy()
    if days_to_expiry > rules.window_opens_days_before_expiry:
        return TOO_EARLY
    if days_to_expiry >= 0:
        return IN_WINDOW
    overdue = -days_to_expiry
    if overdue <= rules.window_closes_days_after_expiry:
        return GRACE
    if overdue <= rules.reapply_after_days_overdue:
        return RECALCULATED
    return REAPPLY


@dataclass(frozen=True)
class PermitWindow:
    """The endorsement window around an expiry date E, seen from the message date T."""

    expiry_date: date | None
    window_start: date | None
    window_end: date | None
    days_to_expiry: int
    status: str


def permit_window(expiry: date, today: date, *, rules: Policy | None = None) -> PermitWindow:
    """Window E − 30 … E + 60, days to expiry and status."""
    rules = rules or policy()
    days = (expiry - today).days
    return PermitWindow(
        expiry_date=expiry,
        window_start=expiry - timedelta(days=rules.window_opens_days_before_expiry),
        window_end=expiry + timedelta(days=rules.window_closes_days_after_expiry),
        days_to_expiry=days,
        status=permit_status(days, rules=rules),
    )


def permit_overdue_days(overdue_days: int, *, rules: Policy | None = None) -> PermitWindow:
    """Status when only "expired N days ago" is known: no expiry date is claimed."""
    return PermitWindow(None, None, None, -overdue_days, permit_status(-overdue_days, rules=rules))


@dataclass(frozen=True)
class PointsAfterEndorsement:
    """When the points can be confirmed after endorsement S, and by when they must be renewed."""

    endorsed_date: date
    points_confirm_from: date
    points_confirm_typical_by: date
    points_deadline: date
    workday_calendar: str


@dataclass(frozen=True)
class PointsDeadline:
    """By when the points must be renewed after endorsement S."""

    endorsed_date: date
    points_deadline: date


def points_deadline(endorsed: date, *, rules: Policy | None = None) -> PointsDeadline:
    """S + 60 days only (the deadline question needs no working days)."""
    rules = rules or policy()
    return PointsDeadline(endorsed, endorsed + timedelta(days=rules.points_deadline_days_after_endorsement))


def points_after_endorsement(
    endorsed: date, *, rules: Policy | None = None, calendar: WorkdayCalendar | None = None
) -> PointsAfterEndorsement:
    """Confirm from the 3rd working day after S, typically by the 7th; deadline S + 60."""
    rules = rules or policy()
    confirm_from, calendar_from = nth_workday_after(endorsed, rules.points_confirm_from_workday, calendar=calendar)
    typical_by, calendar_by = nth_workday_after(endorsed, rules.points_confirm_typical_workday, calendar=calendar)
    return PointsAfterEndorsement(
        endorsed_date=endorsed,
        points_confirm_from=confirm_from,
        points_confirm_typical_by=typical_by,
        points_deadline=points_deadline(endorsed, rules=rules).points_deadline,
        workday_calendar=weakest(calendar_from, calendar_by),
    )


@dataclass(frozen=True)
class PaperSubmission:
    """The day the employer's HR may bring the paper materials after the online review."""

    review_date: date
    paper_submit_from: date
    workday_calendar: str


def paper_submit(review: date, *, rules: Policy | None = None, calendar: WorkdayCalendar | None = None) -> PaperSubmission:
    """The 2nd working day after the review date."""
    rules = rules or policy()
    day, workday_calendar = nth_workday_after(review, rules.paper_submit_workday, calendar=calendar)
    return PaperSubmission(review, day, workday_calendar)


@dataclass(frozen=True)
class ProcessingResult:
    """When the result of a submitted points application is to be expected."""

    submitted_date: date
    result_typical_by: date
    result_expected_by: date
    workday_calendar: str


def processing_result(
    submitted: date, *, rules: Policy | None = None, calendar: WorkdayCalendar | None = None
) -> ProcessingResult:
    """Typically by the 7th working day after submission, at the latest by the 20th."""
    rules = rules or policy()
    typical, calendar_typical = nth_workday_after(submitted, rules.result_typical_workday, calendar=calendar)
    expected, calendar_expected = nth_workday_after(submitted, rules.result_expected_workday, calendar=calendar)
    return ProcessingResult(submitted, typical, expected, weakest(calendar_typical, calendar_expected))
