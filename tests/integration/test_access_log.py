"""Nothing in the server's log lets an office match a submission to the minute a client left
the room: respondent requests are not logged, no link token appears anywhere in the log.
What a real server writes to its log is read by tests/integration/test_workers.py, whose
server (`serve --workers 2`, the production way) the respondents' pages and API are sent to
(2026-11-30: this file's own server, started for that alone, cost 2.4 s of CPU); here, how
paths are told apart and written."""

from __future__ import annotations

from survey.security import is_respondent_path, loggable_path


def test_it_tells_respondent_routes_from_staff_routes() -> None:
    assert is_respondent_path("/s/abc")
    assert is_respondent_path("/k/abc/thanks")
    assert is_respondent_path("/api/v1/responses")
    assert is_respondent_path("/api/v1/links/abc/questionnaire")
    assert not is_respondent_path("/api/v1/results")
    assert not is_respondent_path("/dashboard/")
    assert not is_respondent_path("/static/css/respond.css")
    assert not is_respondent_path("/schema/openapi.json")


def test_it_writes_paths_for_error_logs_without_the_link_token() -> None:
    assert loggable_path("/s/Xy-12_ab/thanks") == "/s/{token}/thanks"
    assert loggable_path("/k/Xy-12_ab") == "/k/{token}"
    assert loggable_path("/api/v1/links/Xy-12_ab/questionnaire") == (
        "/api/v1/links/{token}/questionnaire"
    )
    assert loggable_path("/dashboard/") == "/dashboard/"
