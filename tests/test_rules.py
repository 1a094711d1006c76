"""The date rules of domain.md: window, status thresholds, points and processing days, policy as data."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from intents import rules
from knowledge.policy import POLICY_PATH, PolicyError, load_policy
from intents.workdays import WorkdayCalendar

T = date(2026, 11, 23)


def test_window_and_days() -> None:
    window = rules.permit_window(date(2026, 12, 5), T)
    assert rules.facts_of(window) == {"expiry_date": "2026-12-05", "window_start": "2026-11-05",
                                      "window_end": "2027-02-03", "days_to_expiry": 12, "status": "in_window"}


@pytest.mark.parametrize("days, status", [
    (31, "too_early"), (30, "in_window"), (0, "in_window"), (-1, "grace"), (-60, "grace"),
    (-61, "recalculated"), (-90, "recalculated"), (-91, "reapply"), (-400, "reapply"),
])
def test_status_thresholds(days: int, status: str) -> None:
    assert rules.permit_status(days) == status
    assert rules.permit_window(T + timedelta(days=days), T).status == status


def test_overdue_days_without_an_expiry_date() -> None:
    assert rules.facts_of(rules.permit_overdue_days(40)) == {"days_to_expiry": -40, "status": "grace"}
    assert rules.facts_of(rules.permit_overdue_days(80)) == {"days_to_expiry": -80, "status": "recalculated"}


def test_points_after_endorsement_over_the_national_day_holiday() -> None:
    result = rules.points_after_endorsement(date(2026, 9, 30))
    assert rules.facts_of(result) == {
        "endorsed_date": "2026-09-30", "points_confirm_from": "2026-10-10",  # a make-up Saturday
        "points_confirm_typical_by": "2026-10-15", "points_deadline": "2026-11-29", "workday_calendar": "official"}


def test_points_deadline_only() -> None:
    assert rules.facts_of(rules.points_deadline(date(2026, 9, 1))) == {
        "endorsed_date": "2026-09-01", "points_deadline": "2026-10-31"}


def test_paper_and_processing_days() -> None:
    assert rules.facts_of(rules.paper_submit(date(2026, 5, 8))) == {
        "review_date": "2026-05-08", "paper_submit_from": "2026-05-11", "workday_calendar": "official"}
    assert rules.facts_of(rules.processing_result(date(2026, 11, 16))) == {
        "submitted_date": "2026-11-16", "result_typical_by": "2026-11-25", "result_expected_by": "2026-12-14",
        "workday_calendar": "official"}


def test_counting_into_2027_is_statutory_only_unless_an_operator_file_exists(tmp_path: Path) -> None:
    # From Mon 2026-12-28: 12-29, 30, 31 (1-3); 01-01 元旦 off, 01-02/03 weekend; 01-04..07 (4-7); 01-08 (8);
    # 01-11..15 (9-13); 01-18..22 (14-18); 01-25 (19), 01-26 (20).
    result = rules.processing_result(date(2026, 12, 28))
    assert (result.result_typical_by, result.result_expected_by) == (date(2027, 1, 7), date(2027, 1, 26))
    assert result.workday_calendar == "statutory_only"
    (tmp_path / "2027.toml").write_text('source = "test"\nholidays = ["2027-01-01"]\n', encoding="utf-8")
    result = rules.processing_result(date(2026, 12, 28), calendar=WorkdayCalendar(tmp_path))
    assert result.workday_calendar == "official"
    assert result.result_typical_by == date(2027, 1, 7)  # 12-29, 30, 31, (01-01 off) 01-04, 05, 06, 07


def test_figures_come_from_the_policy_file() -> None:
    policy = rules.policy()
    assert policy.window_opens_days_before_expiry == 30
    assert all(policy.sources[name] for name in policy.sources)
    stricter = replace(policy, reapply_after_days_overdue=60)
    assert rules.permit_status(-61, rules=stricter) == "reapply"
    earlier = replace(policy, window_opens_days_before_expiry=45)
    assert rules.permit_window(T + timedelta(days=40), T, rules=earlier).status == "in_window"


def test_policy_file_errors_name_the_figure(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    text = POLICY_PATH.read_text(encoding="utf-8").replace("value = 90", "value = -5")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="reapply_after_days_overdue"):
        load_policy(path)
