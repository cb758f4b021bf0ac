"""The playbook's Mitigation Decision Tree and its runbooks for common incidents, as data.

:func:`decide` answers the tree's three questions from the evidence the console has:

1. "Is it a recent deployment?" from deploy correlation (:mod:`warroom.sources.correlation`):
   yes when a deploy or migration landed shortly before the error spike, with the rollback
   commands ready to copy (``git revert``, and the edge-function rollback when the commit touched
   ``supabase/functions/<name>/``).
2. "Is it affecting all users?" is the responder's call: the UI journals it as
   ``Answered(question=ALL_USERS.text, answer="yes"|"no")`` and passes the recorded answer back.
3. "Is error rate increasing?" from the tallies' trend (:func:`~warroom.sources.correlation.error_trend`).

:data:`RUNBOOKS` holds the playbook's four runbooks (symptoms, quick checks with their commands,
solutions) word for word; the connection string keeps its ``[PASSWORD]`` placeholder.
:func:`rank_runbooks` puts first the one that matches what the data shows, from an
:class:`Evidence` of plain values the UI fills from whichever sources it has.

Pure: no I/O, no clock, no Textual.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from warroom.sources.correlation import Correlation, Trend, trend_word
from warroom.sources.git import function_rollback_commands, revert_command

AnswerValue = Literal["yes", "no", "unknown", "unanswered"]
Language = Literal["bash", "sql", "text"]


# -- the decision tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    text: str  # the playbook's words
    yes: str  # the branch taken on yes
    no: str  # the branch taken on no
    answered_by: str  # what answers it: "deploy correlation", "responder", "error trend"

    def branch(self, said: str) -> str:
        """The branch taken on ``said`` ("yes" or "no")."""
        return self.yes if said == "yes" else self.no


RECENT_DEPLOYMENT = Question(
    "recent_deployment",
    "Is it a recent deployment?",
    "Rollback deployment",
    "Continue investigating",
    "deploy correlation",
)
ALL_USERS = Question(
    "all_users",
    "Is it affecting all users?",
    "Check platform status",
    "Check user-specific data",
    "responder",
)
ERROR_RATE_INCREASING = Question(
    "error_rate_increasing",
    "Is error rate increasing?",
    "Implement circuit breaker",
    "Continue monitoring",
    "error trend",
)
TREE: tuple[Question, ...] = (RECENT_DEPLOYMENT, ALL_USERS, ERROR_RATE_INCREASING)

# The tree as the playbook draws it (without the trailing space after the first question).
TREE_DIAGRAM = """\
Is it a recent deployment?
├─ YES → Rollback deployment
└─ NO → Continue investigating

Is it affecting all users?
├─ YES → Check platform status
└─ NO → Check user-specific data

Is error rate increasing?
├─ YES → Implement circuit breaker
└─ NO → Continue monitoring"""


@dataclass(frozen=True)
class Command:
    """Something to copy: a shell command (or several lines) or an SQL query."""

    label: str  # "Test connection", "Rollback deployment"
    text: str  # ready to paste
    language: Language = "bash"


@dataclass(frozen=True)
class Answer:
    question: Question
    answer: AnswerValue  # unknown: the data cannot tell; unanswered: the responder has not said
    action: str  # the branch to take ("" while unknown or unanswered)
    because: str  # the evidence, in one line
    commands: tuple[Command, ...] = ()

    @property
    def from_data(self) -> bool:
        """True when the console answered from evidence, False for the responder's answer."""
        return self.question.answered_by != "responder"

    @property
    def settled(self) -> bool:
        return self.answer in ("yes", "no")


def rollback_commands(correlation: Correlation) -> tuple[Command, ...]:
    """The playbook's mitigation commands for the suspected commit (empty without a suspect)."""
    commit = correlation.commit
    if not correlation.suspected or commit is None:
        return ()
    out = [
        Command(
            f"Rollback deployment {commit.short_sha}",
            "\n".join((revert_command(commit), "git push", "# Trigger redeployment")),
        )
    ]
    fn = function_rollback_commands(commit)
    if fn:
        names = ", ".join(commit.functions) or "all functions (shared code changed)"
        out.append(Command(f"Rollback edge function: {names}", "\n".join(fn)))
    if commit.is_migration:
        out.append(Command("Rollback migration", "-- Run rollback script from scripts/sql/rollbacks/", "sql"))
    return tuple(out)


def _normalise_answer(value: str | bool | None) -> Literal["yes", "no"] | None:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return None
    word = str(value).strip().lower()
    if word in ("yes", "y", "true"):
        return "yes"
    if word in ("no", "n", "false"):
        return "no"
    return None


def recorded_answer(answers: Mapping[str, tuple[str, datetime]], question: Question) -> str | None:
    """The responder's answer to ``question`` from ``Incident.answers`` (keyed by question text
    or key), or None when there is none."""
    for k in (question.text, question.key):
        if k in answers:
            return answers[k][0]
    return None


def decide(
    correlation: Correlation | None,
    errors_trend: Trend | str | None,
    all_users_answer: str | bool | None,
) -> list[Answer]:
    """The three questions of the Mitigation Decision Tree, answered as far as the evidence goes.

    ``correlation``: from :func:`~warroom.sources.correlation.correlate` (None: no error data).
    ``errors_trend``: ``increasing``/``steady``/``decreasing`` from
    :func:`~warroom.sources.correlation.error_trend` or the tallies' ``Trend.direction`` (the same
    words); None (or any other word) when there is no data.
    ``all_users_answer``: the responder's recorded answer ("yes"/"no", or None when unanswered).
    """
    q1 = RECENT_DEPLOYMENT
    if correlation is None:
        a1 = Answer(q1, "unknown", "", "no error tallies to line deploys up with")
    elif correlation.kind == "deploy":
        a1 = Answer(q1, "yes", q1.yes, correlation.sentence, rollback_commands(correlation))
    elif correlation.kind == "no_deploy":
        a1 = Answer(q1, "no", q1.no, correlation.sentence)
    elif correlation.kind == "no_commits":
        a1 = Answer(q1, "unknown", "", correlation.sentence)
    else:
        a1 = Answer(q1, "unknown", "", "no error spike to line deploys up with")

    q2 = ALL_USERS
    said = _normalise_answer(all_users_answer)
    if said is None:
        a2 = Answer(q2, "unanswered", "", "the responder has not answered yet")
    else:
        a2 = Answer(q2, said, q2.branch(said), f"the responder answered {said}")

    q3 = ERROR_RATE_INCREASING
    trend = trend_word(errors_trend)
    if trend is None:
        a3 = Answer(q3, "unknown", "", "no error tallies")
    else:
        said3: Literal["yes", "no"] = "yes" if trend == "increasing" else "no"
        a3 = Answer(q3, said3, q3.branch(said3), f"errors per minute are {trend}")
    return [a1, a2, a3]


# -- runbooks ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runbook:
    key: str
    title: str
    symptoms: str
    checks_language: Language
    checks: str  # the playbook's "Quick Checks" block, verbatim
    solutions: tuple[str, ...]

    @property
    def commands(self) -> tuple[Command, ...]:
        """The quick checks that are commands, each under its comment, ready to copy."""
        return _split_block(self.checks, self.checks_language)[0]

    @property
    def notes(self) -> tuple[str, ...]:
        """The quick checks that are only words ("Check Supabase dashboard")."""
        return _split_block(self.checks, self.checks_language)[1]


def _split_block(block: str, language: Language) -> tuple[tuple[Command, ...], tuple[str, ...]]:
    """A code block as (commands under their comment, comments with no command under them)."""
    prefix = "--" if language == "sql" else "#"
    commands: list[Command] = []
    notes: list[str] = []
    label = ""
    body: list[str] = []

    def flush() -> None:
        nonlocal label, body
        if body:
            commands.append(Command(label or "Run", "\n".join(body), language))
        elif label:
            notes.append(label)
        label, body = "", []

    for line in block.splitlines():
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith(prefix):
            if body or label:
                flush()
            label = stripped[len(prefix) :].strip()
        else:
            body.append(line.rstrip())
    flush()
    return tuple(commands), tuple(notes)


DATABASE_CONNECTION_ERRORS = Runbook(
    "database-connection-errors",
    "Database Connection Errors",
    "Cannot connect to database",
    "bash",
    "# Test connection\n"
    'psql "postgresql://postgres:[PASSWORD]@db.[PROJECT_REF].supabase.co:5432/postgres"\n'
    "\n"
    "# Check Supabase dashboard\n"
    "# Check connection pool usage",
    (
        "Check connection string environment variables",
        "Verify database is not paused (Supabase free tier)",
        "Check connection pool limits",
        "Review recent database migrations",
        "Check Supabase status page",
    ),
)
EDGE_FUNCTION_TIMEOUTS = Runbook(
    "edge-function-timeouts",
    "Edge Function Timeouts",
    "Functions timing out, 504 errors",
    "bash",
    "# Check function logs\nsupabase functions logs FUNCTION_NAME --tail\n\n# Check function execution time",
    (
        "Optimize slow queries in function",
        "Add caching for expensive operations",
        "Increase function timeout limit",
        "Break into smaller functions",
        "Add database indexes",
    ),
)
HIGH_ERROR_RATE = Runbook(
    "high-error-rate",
    "High Error Rate",
    "Error logs showing many errors",
    "sql",
    "-- Top errors in last hour\n"
    "SELECT error_type, error_message, COUNT(*) \n"  # the playbook's trailing space, kept
    "FROM error_logs\n"
    "WHERE occurred_at > NOW() - INTERVAL '1 hour'\n"
    "GROUP BY error_type, error_message\n"
    "ORDER BY COUNT(*) DESC;",
    (
        "Identify most common error",
        "Check if recent deployment caused it",
        "Roll back if deployment-related",
        "Add error handling if missing",
        "Fix root cause",
    ),
)
SMS_DELIVERY_FAILURES = Runbook(
    "sms-delivery-failures",
    "SMS Delivery Failures",
    "SMS not being delivered",
    "sql",
    "-- Check recent SMS delivery failures\n"
    "SELECT phone_number, error_message, COUNT(*)\n"
    "FROM sms_delivery_log\n"
    "WHERE delivery_status = 'failed'\n"
    "  AND created_at > NOW() - INTERVAL '1 hour'\n"
    "GROUP BY phone_number, error_message;",
    (
        "Check Twilio account status",
        "Verify Twilio credentials",
        "Check account balance",
        "Verify phone number format",
        "Check rate limits",
        "Review error messages from Twilio",
    ),
)
RUNBOOKS: tuple[Runbook, ...] = (
    DATABASE_CONNECTION_ERRORS,
    EDGE_FUNCTION_TIMEOUTS,
    HIGH_ERROR_RATE,
    SMS_DELIVERY_FAILURES,
)


def runbook(key: str) -> Runbook:
    for rb in RUNBOOKS:
        if rb.key == key:
            return rb
    raise ValueError(f"unknown runbook {key!r} (expected one of {', '.join(r.key for r in RUNBOOKS)})")


def fill_placeholders(text: str, *, function: str | None = None, project_ref: str | None = None) -> str:
    """``FUNCTION_NAME`` and ``[PROJECT_REF]`` filled in (shell-quoted); ``[PASSWORD]`` never is."""
    if function:
        text = text.replace("FUNCTION_NAME", shlex.quote(function))
    if project_ref and re.fullmatch(r"[A-Za-z0-9-]+", project_ref):
        text = text.replace("[PROJECT_REF]", project_ref)
    return text


# -- ranking ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What the data shows, as plain values; leave out what you do not know.

    ``top_errors``: the tally's rows as (text, count), text being the error type and message
    (``"DatabaseError: too many clients already"``). ``database_reachable``: False when the
    monitored database cannot be reached, None when unknown. ``connection_usage``: connections
    in use / ``max_connections`` (0..1). ``sms_failures``: failed SMS deliveries in the last hour.
    ``upstream_alarms``: names of alarming status pages or degraded components
    (``"Twilio"``, ``"Supabase › Edge Functions"``). ``functions_deployed``: edge functions the
    suspected commit touched. ``spike``: an error spike is under way.
    """

    top_errors: tuple[tuple[str, int], ...] = ()
    database_reachable: bool | None = None
    connection_usage: float | None = None
    sms_failures: int = 0
    upstream_alarms: tuple[str, ...] = ()
    functions_deployed: tuple[str, ...] = ()
    spike: bool = False


@dataclass(frozen=True)
class RunbookMatch:
    runbook: Runbook
    score: float
    reasons: tuple[str, ...]  # why it matches, for the pane ("database unreachable")


_PATTERNS: dict[str, re.Pattern[str]] = {
    DATABASE_CONNECTION_ERRORS.key: re.compile(
        r"connect|connection|too many clients|remaining connection slots|\bpool|econnrefused"
        r"|could not translate host|database .*(?:paused|unavailable|not accepting)",
        re.IGNORECASE,
    ),
    EDGE_FUNCTION_TIMEOUTS.key: re.compile(
        r"time[ds]? ?out|timeout|\b504\b|gateway time|deadline exceeded|edge function|wall ?clock",
        re.IGNORECASE,
    ),
    SMS_DELIVERY_FAILURES.key: re.compile(r"\bsms\b|twilio|undelivered|delivery fail", re.IGNORECASE),
}
_UPSTREAM: dict[str, re.Pattern[str]] = {
    DATABASE_CONNECTION_ERRORS.key: re.compile(r"database|postgres|pooler|supavisor", re.IGNORECASE),
    EDGE_FUNCTION_TIMEOUTS.key: re.compile(r"edge function|functions", re.IGNORECASE),
    SMS_DELIVERY_FAILURES.key: re.compile(r"twilio|sms|messaging", re.IGNORECASE),
}


def score_runbooks(evidence: Evidence) -> list[RunbookMatch]:
    """Every runbook with how well it matches ``evidence``, best first (playbook order on ties)."""
    total = sum(max(0, n) for _, n in evidence.top_errors)
    scores: dict[str, float] = {rb.key: 0.0 for rb in RUNBOOKS}
    reasons: dict[str, list[str]] = {rb.key: [] for rb in RUNBOOKS}

    def add(key: str, points: float, why: str) -> None:
        scores[key] += points
        reasons[key].append(why)

    # The share of the error tally each runbook's words explain (the top error counts double).
    for key, rx in _PATTERNS.items():
        matched = [(i, text, n) for i, (text, n) in enumerate(evidence.top_errors) if rx.search(text)]
        if not matched:
            continue
        share = sum(max(0, n) for _, _, n in matched) / total if total else 0.0
        top = any(i == 0 for i, _, _ in matched)
        points = 40 * share + (20 if top else 5)
        add(key, points, f"{len(matched)} of the top errors ({share:.0%} of errors) look like it")

    db = DATABASE_CONNECTION_ERRORS.key
    if evidence.database_reachable is False:
        add(db, 100, "the database cannot be reached")
    if evidence.connection_usage is not None and evidence.connection_usage >= 0.9:
        add(db, 40, f"connections at {evidence.connection_usage:.0%} of max_connections")

    sms = SMS_DELIVERY_FAILURES.key
    if evidence.sms_failures > 0:
        add(sms, 50 + min(30, evidence.sms_failures / 10), f"{evidence.sms_failures} SMS deliveries failed")

    for key, rx in _UPSTREAM.items():
        hits = [name for name in evidence.upstream_alarms if rx.search(name)]
        if hits:
            add(key, 25, f"upstream: {', '.join(hits)}")

    fn = EDGE_FUNCTION_TIMEOUTS.key
    if evidence.functions_deployed and scores[fn] > 0:
        add(fn, 10, f"edge functions just deployed: {', '.join(evidence.functions_deployed)}")

    high = HIGH_ERROR_RATE.key
    if evidence.spike:
        add(high, 30, "errors are spiking")
    elif total:
        add(high, 10, f"{total} errors in the tally")

    order = {rb.key: i for i, rb in enumerate(RUNBOOKS)}
    matches = [RunbookMatch(rb, scores[rb.key], tuple(reasons[rb.key])) for rb in RUNBOOKS]
    matches.sort(key=lambda m: (-m.score, order[m.runbook.key]))
    return matches


def rank_runbooks(evidence: Evidence) -> list[Runbook]:
    """The four runbooks, the one matching what the data shows first (playbook order on ties)."""
    return [m.runbook for m in score_runbooks(evidence)]
