"""The integrations' keys: read from warroom.toml, the environment over the file, every secret
masked in `warroom check` (which probes each integration without side effects) and in clean()."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from test_cli import env, run  # noqa: F401 - the fixture and the subprocess runner
from warroom.config import ConfigError, load_settings
from warroom.text import clean

KEY = "R0UT1NGKEYabcdefghij0123456789AB"
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "t0ken-5e3f9a7b1c2d4e6f8a9b0c1d2e3f"
HOOK = "https://hooks.slack.com/services/T0001/B0001/S3cr3tW3bh00kT0k3nXXXX"
SP_KEY = "0123abcd-4567-89ef-0123-456789abcdef"
PAGE = "kctbh9vrtdwd"


def test_the_environment_gives_the_integrations_keys_over_the_file(tmp_path: Path) -> None:
    conf = tmp_path / "warroom.toml"
    conf.write_text(
        '[pagerduty]\nrouting_key = "from-the-file"\nevents_url = "http://127.0.0.1:9/v2/enqueue"\n'
        '[twilio]\naccount_sid = "ACfile"\nlow_balance = 20\n'
        f'[statuspage]\npage_id = "{PAGE}"\napi_key = "from-the-file"\n'
    )
    given = {
        "WARROOM_PAGERDUTY_ROUTING_KEY": KEY,
        "WARROOM_SLACK_WEBHOOK_URL": HOOK,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "WARROOM_STATUSPAGE_API_KEY": SP_KEY,
    }
    s = load_settings(config=conf, env=given, state_dir=tmp_path / "state", user="ana")
    assert (s.pagerduty.routing_key, s.pagerduty.events_url) == (KEY, "http://127.0.0.1:9/v2/enqueue")
    assert s.slack.webhook_url == HOOK
    assert (s.twilio.account_sid, s.twilio.auth_token, s.twilio.low_balance) == (SID, TOKEN, 20.0)
    assert (s.statuspage.page_id, s.statuspage.api_key) == (PAGE, SP_KEY)
    assert s.statuspage.api_url == "https://api.statuspage.io/v1"
    assert s.pagerduty.configured and s.slack.configured and s.twilio.configured and s.statuspage.configured
    shown = "\n".join(s.describe())
    for secret in (KEY, HOOK, TOKEN, "S3cr3tW3bh00kT0k3nXXXX", SP_KEY):
        assert secret not in shown
        assert clean(f"an error quoting {secret}") == "an error quoting ***"  # registered


def test_nothing_configured_by_default(tmp_path: Path) -> None:
    s = load_settings(env={}, state_dir=tmp_path / "state", user="ana")
    assert not (
        s.pagerduty.configured or s.slack.configured or s.twilio.configured or s.statuspage.configured
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[pagerduty]\nevents_url = "ftp://x"\n', "[pagerduty] events_url: expected an http(s) URL"),
        ('[slack]\nwebhook_url = "hooks.slack.com"\n', "[slack] webhook_url: expected an http(s) URL"),
        ("[twilio]\nlow_balance = -1\n", "[twilio] low_balance: expected a number from 0 to 1e+09"),
        ('[twilio]\nsid = "AC"\n', "[twilio] unknown key 'sid'"),
        (
            '[statuspage]\npage_id = "../../users"\n',
            '[statuspage] page_id: expected a Statuspage page id (letters and digits, like "kctbh9vrtdwd")',
        ),
        ('[statuspage]\napi_url = "api.statuspage.io"\n', "[statuspage] api_url: expected an http(s) URL"),
    ],
)
def test_bad_values_are_refused_in_one_line(tmp_path: Path, toml: str, message: str) -> None:
    conf = tmp_path / "warroom.toml"
    conf.write_text(toml)
    with pytest.raises(ConfigError) as exc:
        load_settings(config=conf, env={}, state_dir=tmp_path / "state")
    assert message in str(exc.value)


class Fake:
    """PagerDuty's and Twilio's endpoints, in a thread (the CLI runs in another process)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.twilio_status = 200
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def answer(self, status: int, data: object) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path))
                if self.path == f"/v1/pages/{PAGE}":
                    ok = self.headers.get("Authorization") == f"OAuth {SP_KEY}"
                    self.answer(
                        200 if ok else 401,
                        {"id": PAGE, "name": "ACE Engage"} if ok else {"error": "Could not authenticate"},
                    )
                elif self.path.endswith("/Balance.json"):
                    ok = fake.twilio_status == 200
                    self.answer(
                        200 if ok else 401,
                        {"currency": "USD", "balance": "42.00"}
                        if ok
                        else {"code": 20003, "message": "Authenticate"},
                    )
                elif self.path.startswith("/2010-04-01/"):
                    ok = fake.twilio_status == 200
                    self.answer(
                        200 if ok else 401,
                        {"sid": SID, "status": "active"}
                        if ok
                        else {"code": 20003, "message": "Authenticate"},
                    )
                else:
                    self.answer(404, {"status": "not found"})

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path))
                self.answer(202, {"status": "success"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake() -> Iterator[Fake]:
    f = Fake()
    thread = threading.Thread(target=f.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f
    finally:
        f.server.shutdown()
        f.server.server_close()


def test_check_probes_each_integration_without_side_effects(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
    fake: Fake,
) -> None:
    conf = tmp_path / "team.toml"
    conf.write_text(
        f'[pagerduty]\nevents_url = "{fake.url}/v2/enqueue"\n[twilio]\napi_url = "{fake.url}"\n'
        f'[statuspage]\npage_id = "{PAGE}"\napi_url = "{fake.url}/v1"\n'
    )
    e = {
        **env,
        "WARROOM_PAGERDUTY_ROUTING_KEY": KEY,
        "WARROOM_SLACK_WEBHOOK_URL": HOOK,
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "WARROOM_STATUSPAGE_API_KEY": SP_KEY,
    }
    p = run(e, "--config", str(conf), "check")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    for secret in (KEY, HOOK, TOKEN, "S3cr3tW3bh00kT0k3nXXXX", SP_KEY):
        assert secret not in out
    lines = p.stdout.splitlines()
    assert "api_key             = ***" in lines
    assert f"statuspage ok: page {PAGE} (ACE Engage) answers, API key accepted (nothing published)" in lines
    assert "routing_key         = ***" in lines
    assert "webhook_url         = https://hooks.slack.com/***" in lines
    assert "auth_token          = ***" in lines
    assert f"pagerduty ok: routing key set, {fake.url}/v2/enqueue answers (nothing sent)" in lines
    assert "slack ok: webhook https://hooks.slack.com/*** set (nothing posted)" in lines
    assert "twilio ok: account active · balance 42.00 USD" in lines
    assert all(method == "GET" for method, _ in fake.requests)  # nobody paged, nothing posted

    fake.twilio_status = 401
    p = run(e, "--config", str(conf), "check")
    assert p.returncode == 1
    assert "twilio: account: credentials rejected (20003: Authenticate)" in p.stdout.splitlines()

    p = run({**e, "WARROOM_STATUSPAGE_API_KEY": "wrong-key-0000"}, "--config", str(conf), "check")
    assert p.returncode == 1 and "wrong-key-0000" not in p.stdout + p.stderr
    line = f"statuspage: page {PAGE}: HTTP 401: Could not authenticate (the API key was refused)"
    assert line in p.stdout.splitlines()

    half = {k: v for k, v in e.items() if k != "WARROOM_STATUSPAGE_API_KEY"}
    p = run(half, "--config", str(conf), "check")
    assert p.returncode == 1 and "statuspage: both page_id and api_key are needed" in p.stdout.splitlines()


def test_the_documented_integrations_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Integrations section: each table's example is a valid configuration."""
    import warroom.text

    # Its placeholder keys ("...") would be registered as secrets for the rest of the session, and
    # mask every "..." that other tests' messages cut to a bound.
    monkeypatch.setattr(warroom.text, "_secrets", set(warroom.text._secrets))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Integrations", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```toml\n")[1:]]
    assert [b.splitlines()[0] for b in blocks] == [
        "[pagerduty]",
        "[slack]",
        "[statuspage]",
        "[twilio]",
        "[database]",
    ]
    conf = tmp_path / "warroom.toml"
    conf.write_text("\n".join(blocks))
    s = load_settings(config=conf, env={}, state_dir=tmp_path / "state", user="ana")
    assert s.pagerduty.events_url == "https://events.pagerduty.com/v2/enqueue"
    assert s.slack.configured and s.twilio.configured and s.twilio.low_balance == 10.0
    assert s.statuspage.configured and s.statuspage.api_url == "https://api.statuspage.io/v1"
    assert s.database.action_dsn and s.database.pause_campaign_sql.endswith("WHERE id = $1")
