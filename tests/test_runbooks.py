"""The Mitigation Decision Tree answered from evidence, and the playbook's four runbooks (word for
word, the [PASSWORD] placeholder kept) ranked by what the data shows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warroom.runbooks import (
    ALL_USERS,
    DATABASE_CONNECTION_ERRORS,
    EDGE_FUNCTION_TIMEOUTS,
    ERROR_RATE_INCREASING,
    HIGH_ERROR_RATE,
    RECENT_DEPLOYMENT,
    RUNBOOKS,
    SMS_DELIVERY_FAILURES,
    TREE,
    TREE_DIAGRAM,
    Command,
    Evidence,
    decide,
    fill_placeholders,
    rank_runbooks,
    recorded_answer,
    runbook,
    score_runbooks,
)
from warroom.sources.correlation import Correlation, correlate
from warroom.sources.git import Commit
from warroom.text import register_secret

START = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
NOW = START + timedelta(minutes=60, seconds=30)
SPIKE = [(START + timedelta(minutes=i), 2 if i < 45 else 40) for i in range(60)]
PARENT = "f" * 40


def deploy_commit(**kw: object) -> Commit:
    base: dict[str, object] = {
        "sha": "a1b2c3d" + "0" * 33,
        "short_sha": "a1b2c3d",
        "author": "Ada",
        "author_email": "ada@example.com",
        "committed_at": START + timedelta(minutes=41),
        "subject": "Deploy send-sms v2",
        "parents": (PARENT,),
        "is_deploy": True,
        "deploy_reason": "subject matches 'deploy'",
    }
    base.update(kw)
    return Commit(**base)  # type: ignore[arg-type]


# -- the decision tree ----------------------------------------------------------------------------


def test_tree_is_the_playbooks() -> None:
    assert [(q.text, q.yes, q.no) for q in TREE] == [
        ("Is it a recent deployment?", "Rollback deployment", "Continue investigating"),
        ("Is it affecting all users?", "Check platform status", "Check user-specific data"),
        ("Is error rate increasing?", "Implement circuit breaker", "Continue monitoring"),
    ]
    assert [q.answered_by for q in TREE] == ["deploy correlation", "responder", "error trend"]
    for q in TREE:
        assert q.text in TREE_DIAGRAM
        assert f"├─ YES → {q.yes}" in TREE_DIAGRAM and f"└─ NO → {q.no}" in TREE_DIAGRAM


def test_recent_deployment_yes_gives_the_rollback_ready_to_copy() -> None:
    commit = deploy_commit(functions=("send-sms",), paths=("supabase/functions/send-sms/index.ts",))
    corr = correlate(SPIKE, [commit], NOW)
    assert corr is not None and corr.kind == "deploy"
    a1, _, a3 = decide(corr, "increasing", None)
    assert a1.question is RECENT_DEPLOYMENT and a1.answer == "yes" and a1.from_data and a1.settled
    assert a1.action == "Rollback deployment"
    assert a1.because == "errors rose 4 min after deploy a1b2c3d (Deploy send-sms v2)"
    assert a1.commands == (
        Command("Rollback deployment a1b2c3d", f"git revert {commit.sha}\ngit push\n# Trigger redeployment"),
        Command(
            "Rollback edge function: send-sms", f"git checkout {PARENT}\nsupabase functions deploy send-sms"
        ),
    )
    assert a3.question is ERROR_RATE_INCREASING and a3.answer == "yes"
    assert a3.action == "Implement circuit breaker"


def test_a_migration_suspect_adds_the_migration_rollback() -> None:
    commit = deploy_commit(
        is_deploy=False, deploy_reason="", is_migration=True, migration_paths=("supabase/migrations/7.sql",)
    )
    corr = correlate(SPIKE, [commit], NOW)
    assert corr is not None
    (a1, _, _) = decide(corr, None, None)
    assert a1.answer == "yes"
    assert [c.label for c in a1.commands] == ["Rollback deployment a1b2c3d", "Rollback migration"]
    assert a1.commands[1] == Command(
        "Rollback migration", "-- Run rollback script from scripts/sql/rollbacks/", "sql"
    )


def test_a_merge_suspect_reverts_the_mainline() -> None:
    commit = deploy_commit(parents=(PARENT, "e" * 40))
    corr = correlate(SPIKE, [commit], NOW)
    assert corr is not None
    (a1, _, _) = decide(corr, None, None)
    assert a1.commands[0].text.startswith(f"git revert -m 1 {commit.sha}\n")


@pytest.mark.parametrize(
    ("corr", "answer", "action", "because"),
    [
        (
            Correlation("no_deploy", START + timedelta(minutes=45)),
            "no",
            "Continue investigating",
            "errors rose at 13:45 UTC with no deploy or migration in the 2 h before",
        ),
        (Correlation("no_spike", None), "unknown", "", "no error spike to line deploys up with"),
        (
            Correlation("no_commits", START + timedelta(minutes=45)),
            "unknown",
            "",
            "errors rose at 13:45 UTC; no commits to compare (repository unavailable)",
        ),
        (None, "unknown", "", "no error tallies to line deploys up with"),
    ],
)
def test_recent_deployment_other_answers(
    corr: Correlation | None, answer: str, action: str, because: str
) -> None:
    (a1, _, _) = decide(corr, None, None)
    assert (a1.answer, a1.action, a1.because, a1.commands) == (answer, action, because, ())


@pytest.mark.parametrize(
    ("given", "answer", "action"),
    [
        ("yes", "yes", "Check platform status"),
        ("YES", "yes", "Check platform status"),
        (True, "yes", "Check platform status"),
        ("no", "no", "Check user-specific data"),
        (False, "no", "Check user-specific data"),
        (None, "unanswered", ""),
        ("maybe", "unanswered", ""),
    ],
)
def test_all_users_is_the_responders_answer(given: object, answer: str, action: str) -> None:
    (_, a2, _) = decide(None, None, given)  # type: ignore[arg-type]
    assert a2.question is ALL_USERS and not a2.from_data
    assert (a2.answer, a2.action) == (answer, action)
    assert a2.settled is (answer in ("yes", "no"))


@pytest.mark.parametrize(
    ("trend", "answer", "action"),
    [
        ("increasing", "yes", "Implement circuit breaker"),
        ("steady", "no", "Continue monitoring"),
        ("decreasing", "no", "Continue monitoring"),
        (None, "unknown", ""),
        ("sideways", "unknown", ""),
    ],
)
def test_error_rate_increasing_from_the_trend(trend: str | None, answer: str, action: str) -> None:
    (_, _, a3) = decide(None, trend, None)
    assert (a3.answer, a3.action) == (answer, action)


def test_recorded_answer_from_the_incident() -> None:
    at = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    assert recorded_answer({ALL_USERS.text: ("no", at)}, ALL_USERS) == "no"
    assert recorded_answer({"all_users": ("yes", at)}, ALL_USERS) == "yes"
    assert recorded_answer({}, ALL_USERS) is None


# -- the runbooks as data -------------------------------------------------------------------------------


def test_four_runbooks_in_playbook_order() -> None:
    assert [r.title for r in RUNBOOKS] == [
        "Database Connection Errors",
        "Edge Function Timeouts",
        "High Error Rate",
        "SMS Delivery Failures",
    ]
    assert [r.symptoms for r in RUNBOOKS] == [
        "Cannot connect to database",
        "Functions timing out, 504 errors",
        "Error logs showing many errors",
        "SMS not being delivered",
    ]
    assert runbook("high-error-rate") is HIGH_ERROR_RATE
    with pytest.raises(ValueError, match="unknown runbook 'nope'"):
        runbook("nope")


def test_quick_checks_split_into_commands_and_notes() -> None:
    db = DATABASE_CONNECTION_ERRORS
    assert db.commands == (
        Command(
            "Test connection",
            'psql "postgresql://postgres:[PASSWORD]@db.[PROJECT_REF].supabase.co:5432/postgres"',
            "bash",
        ),
    )
    assert db.notes == ("Check Supabase dashboard", "Check connection pool usage")
    ef = EDGE_FUNCTION_TIMEOUTS
    assert ef.commands == (
        Command("Check function logs", "supabase functions logs FUNCTION_NAME --tail", "bash"),
    )
    assert ef.notes == ("Check function execution time",)
    (top,) = HIGH_ERROR_RATE.commands
    assert top.label == "Top errors in last hour" and top.language == "sql"
    assert top.text.splitlines()[0] == "SELECT error_type, error_message, COUNT(*)"  # no trailing space
    assert top.text.endswith("ORDER BY COUNT(*) DESC;")
    (sms,) = SMS_DELIVERY_FAILURES.commands
    assert sms.label == "Check recent SMS delivery failures"
    assert "WHERE delivery_status = 'failed'\n  AND created_at > NOW() - INTERVAL '1 hour'" in sms.text
    assert HIGH_ERROR_RATE.notes == () and SMS_DELIVERY_FAILURES.notes == ()


def test_the_password_placeholder_is_never_filled() -> None:
    register_secret("s3cr3t-hunter2")
    for rb in RUNBOOKS:
        assert "s3cr3t" not in rb.checks
    text = DATABASE_CONNECTION_ERRORS.commands[0].text
    assert "[PASSWORD]" in text and re.search(r"postgres:[^\[]", text) is None
    filled = fill_placeholders(text, function="x", project_ref="abcd1234")
    assert filled == 'psql "postgresql://postgres:[PASSWORD]@db.abcd1234.supabase.co:5432/postgres"'
    assert fill_placeholders(text, project_ref="x; rm -rf /") == text  # not a project ref: left alone
    logs = EDGE_FUNCTION_TIMEOUTS.commands[0].text
    assert fill_placeholders(logs, function="send-sms") == "supabase functions logs send-sms --tail"
    assert fill_placeholders(logs, function="a b;c") == "supabase functions logs 'a b;c' --tail"


# The copy of the team's playbook kept with the tests (test_playbook checks it against the seed).
PLAYBOOK = Path(__file__).resolve().parent / "data" / "incident-response-playbook.md"


def test_word_for_word_from_the_playbook() -> None:
    text = PLAYBOOK.read_text()
    for rb in RUNBOOKS:
        section = text.split(f"### {rb.title}\n", 1)[1].split("\n---", 1)[0]
        assert f"**Symptoms**: {rb.symptoms}\n" in section
        assert f"```{rb.checks_language}\n{rb.checks}\n```" in section
        for i, solution in enumerate(rb.solutions, 1):
            assert f"\n{i}. {solution}\n" in section + "\n"
        assert f"\n{len(rb.solutions) + 1}. " not in section
    diagram = text.split("**Mitigation Decision Tree**:\n```\n", 1)[1].split("\n```", 1)[0]
    assert [ln.rstrip() for ln in diagram.splitlines()] == TREE_DIAGRAM.splitlines()


# -- ranking --------------------------------------------------------------------------------------------


def keys(evidence: Evidence) -> list[str]:
    return [r.key for r in rank_runbooks(evidence)]


def test_nothing_known_keeps_the_playbook_order() -> None:
    assert keys(Evidence()) == [r.key for r in RUNBOOKS]


def test_database_unreachable_comes_first() -> None:
    ev = Evidence(database_reachable=False, sms_failures=3)
    assert keys(ev)[0] == "database-connection-errors"
    top = score_runbooks(ev)[0]
    assert "the database cannot be reached" in top.reasons


def test_connection_errors_in_the_tally() -> None:
    ev = Evidence(
        top_errors=(
            ("DatabaseError: remaining connection slots are reserved", 420),
            ("SmsError: Twilio 21610 unsubscribed recipient", 30),
        ),
        spike=True,
    )
    assert keys(ev)[:2] == ["database-connection-errors", "high-error-rate"]
    ev = Evidence(connection_usage=0.95)
    assert keys(ev)[0] == "database-connection-errors"


def test_timeouts_in_the_tally() -> None:
    ev = Evidence(
        top_errors=(("FunctionError: send-campaign timed out after 150s (504)", 300), ("TypeError: x", 10)),
        functions_deployed=("send-campaign",),
    )
    assert keys(ev)[0] == "edge-function-timeouts"
    reasons = score_runbooks(ev)[0].reasons
    assert any("send-campaign" in r for r in reasons)


def test_sms_failures_and_twilio() -> None:
    assert keys(Evidence(sms_failures=25))[0] == "sms-delivery-failures"
    assert (
        keys(Evidence(top_errors=(("TwilioError: 30003 Unreachable handset", 50),)))[0]
        == "sms-delivery-failures"
    )
    assert keys(Evidence(upstream_alarms=("Twilio",)))[0] == "sms-delivery-failures"


def test_generic_errors_point_to_high_error_rate() -> None:
    ev = Evidence(top_errors=(("TypeError: cannot read properties of undefined", 900),), spike=True)
    assert keys(ev)[0] == "high-error-rate"


def test_mixed_evidence_weighs_the_share_of_errors() -> None:
    ev = Evidence(
        top_errors=(
            ("SmsError: Twilio rejected the message", 700),
            ("DatabaseError: connection reset by peer", 100),
        )
    )
    assert keys(ev)[:2] == ["sms-delivery-failures", "database-connection-errors"]
    ev = Evidence(
        top_errors=(
            ("DatabaseError: connection reset by peer", 700),
            ("SmsError: Twilio rejected the message", 100),
        )
    )
    order = keys(ev)
    assert order[0] == "database-connection-errors"
    assert order.index("sms-delivery-failures") < order.index("edge-function-timeouts")
