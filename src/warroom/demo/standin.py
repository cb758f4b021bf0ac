"""A local stand-in for the Supabase and Twilio status pages (Atlassian Statuspage v2 JSON).

``warroom demo`` must run where there is no internet, so the status pages pane reads this server
on 127.0.0.1 instead of status.supabase.com and status.twilio.com. It serves, for each page
(``/supabase`` and ``/twilio``), the documented public endpoints with the real shapes:

- ``/<page>/api/v2/summary.json`` (page, status, components, unresolved incidents, upcoming and
  in-progress maintenances), ``status.json``, ``components.json``, ``incidents/unresolved.json``,
  ``incidents.json`` and ``scheduled-maintenances/upcoming.json``.

The story, relative to when the stand-in started: Supabase is fully operational with one
maintenance scheduled in a few days (the incident is not the platform's fault); Twilio shows a
minor, unrelated incident (delayed delivery receipts to T-Mobile US, one degraded component) that
is resolved a few minutes into the demo, so the pane sees a component recover.

The pages' words (their components, the maintenance, the incident and its updates) are data,
``status_pages.toml``; this module gives them times and the real JSON shapes. The content is made
up and the console says so (``DemoSession.standin``); it never pretends to be the real page.
Anything else gets a 404.
"""

from __future__ import annotations

import hashlib
import json
import threading
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from warroom.durations import parse_duration, utc_now
from warroom.settings import StatusPage

Clock = Callable[[], datetime]

THREAD_NAME = "warroom-demo-standin"
# What a page says when all is well (Statuspage's own words).
_ALL_WELL = {"indicator": "none", "description": "All Systems Operational"}


def _offset(text: str) -> timedelta:
    """``-47m`` or ``+4m``: how long before or after the stand-in started."""
    size = parse_duration(text.lstrip("+-"))
    return -size if text.startswith("-") else size


@cache
def _words() -> dict[str, Any]:
    """The pages' words (``status_pages.toml``), read once."""
    text = resources.files("warroom.demo").joinpath("status_pages.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# How long after the stand-in starts Twilio's incident is resolved.
TWILIO_RESOLVES_AFTER = _offset(_words()["twilio"]["incident"]["updates"][-1]["at"])


def _sid(*parts: str) -> str:
    """A stable 12-character Statuspage-style id (lowercase letters and digits)."""
    digest = hashlib.sha256("/".join(parts).encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(alphabet[b % 36] for b in digest[:12])


def _stamp(at: datetime, tz: ZoneInfo) -> str:
    """Statuspage's timestamp form: local to the page, milliseconds, numeric offset."""
    local = at.astimezone(tz)
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if tz.key == "Etc/UTC" else text


class _Page:
    """One status page's content as a function of time."""

    def __init__(self, slug: str) -> None:
        words = _words()[slug]
        self.slug = slug
        self.words = words
        self.name: str = words["name"]
        self.real_url: str = words["real_url"]
        self.page_id: str = words.get("page_id") or _sid(slug, "page")
        self.tz = ZoneInfo(words["time_zone"])
        self.since: datetime = _words()["components_since"]
        self.layout = [(c["name"], list(c.get("children", []))) for c in words["components"]]

    def component(
        self, name: str, group: str | None, status: str, position: int, changed: datetime
    ) -> dict[str, Any]:
        return {
            "id": _sid(self.slug, "component", name),
            "name": name,
            "status": status,
            "created_at": _stamp(self.since, self.tz),
            "updated_at": _stamp(changed, self.tz),
            "position": position,
            "description": None,
            "showcase": group is None,
            "start_date": self.since.date().isoformat(),
            "group_id": _sid(self.slug, "component", group) if group else None,
            "page_id": self.page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    def group(self, name: str, children: list[str], position: int, changed: datetime) -> dict[str, Any]:
        return {
            **self.component(name, None, "operational", position, changed),
            "showcase": False,
            "start_date": None,
            "group": True,
            "components": [_sid(self.slug, "component", c) for c in children],
        }

    def page(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.page_id,
            "name": self.name,
            "url": self.real_url,
            "time_zone": self.tz.key,
            "updated_at": _stamp(now - timedelta(minutes=1), self.tz),
        }


_GROUP_STATUS = ("operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage")


class StatusStandIn:
    """The stand-in server. :meth:`start` binds 127.0.0.1 on a free port; :meth:`close` stops it."""

    def __init__(self, clock: Clock = utc_now, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.clock = clock
        self.started_at = clock()
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._supabase = _Page("supabase")
        self._twilio = _Page("twilio")

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> StatusStandIn:
        with self._lock:
            if self._server is not None:
                return self
            standin = self

            class Handler(_Handler):
                owner = standin

            server = ThreadingHTTPServer((self._host, self._port), Handler)
            server.daemon_threads = False
            server.block_on_close = True  # close() waits for requests in flight: no thread left behind
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=THREAD_NAME, daemon=True
            )
            self._thread.start()
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the status stand-in is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pages(self) -> tuple[StatusPage, ...]:
        """The pages for ``Settings.status.pages`` (same names as the real defaults)."""
        return (
            StatusPage("Supabase", f"{self.base_url}/supabase"),
            StatusPage("Twilio", f"{self.base_url}/twilio"),
        )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop serving and join the thread. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=10)

    # -- content ------------------------------------------------------------------------------------
    def document(self, path: str) -> dict[str, Any] | None:
        """The JSON document for a request path, or None (404)."""
        parts = path.split("?", 1)[0].strip("/").split("/")
        if len(parts) < 4 or parts[1:3] != ["api", "v2"]:
            return None
        page = {"supabase": self._supabase, "twilio": self._twilio}.get(parts[0])
        if page is None:
            return None
        endpoint = "/".join(parts[3:])
        summary = self._summary(page, self.clock())
        if endpoint == "summary.json":
            return summary
        base = {"page": summary["page"]}
        if endpoint == "status.json":
            return {**base, "status": summary["status"]}
        if endpoint == "components.json":
            return {**base, "components": summary["components"]}
        if endpoint in ("incidents/unresolved.json", "incidents.json"):
            incidents = summary["incidents"]
            if endpoint == "incidents.json":
                incidents = incidents + self._past_incidents(page, self.clock())
            return {**base, "incidents": incidents}
        if endpoint in ("scheduled-maintenances/upcoming.json", "scheduled-maintenances.json"):
            return {**base, "scheduled_maintenances": summary["scheduled_maintenances"]}
        return None

    def _summary(self, page: _Page, now: datetime) -> dict[str, Any]:
        if page is self._supabase:
            return self._supabase_summary(now)
        return self._twilio_summary(now)

    @staticmethod
    def _components(
        page: _Page,
        now: datetime,
        layout: list[tuple[str, list[str]]],
        status_of: dict[str, tuple[str, datetime]],
        quiet_since: datetime,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        position = 1
        for name, children in layout:
            if not children:
                status, changed = status_of.get(name, ("operational", quiet_since))
                out.append(page.component(name, None, status, position, changed))
                position += 1
                continue
            group = page.group(name, children, position, quiet_since)
            out.append(group)
            position += 1
            worst = 0
            for i, child in enumerate(children, start=1):
                status, changed = status_of.get(child, ("operational", quiet_since))
                worst = max(worst, _GROUP_STATUS.index(status))
                out.append(page.component(child, name, status, i, changed))
                if changed > quiet_since:
                    group["updated_at"] = _stamp(changed, page.tz)
            group["status"] = _GROUP_STATUS[worst]
        return out

    def _supabase_summary(self, now: datetime) -> dict[str, Any]:
        page = self._supabase
        quiet = self.started_at + _offset(page.words["quiet_since"])
        components = self._components(page, now, page.layout, {}, quiet)
        words = page.words["maintenance"]
        start = (self.started_at + timedelta(days=words["in_days"])).replace(
            hour=words["at_hour"], minute=0, second=0, microsecond=0
        )
        created = self.started_at + _offset(words["announced"])
        maintenance_id = _sid("supabase", "maintenance", start.isoformat())
        pooler = _sid("supabase", "component", words["component"])
        maintenance = {
            "id": maintenance_id,
            "name": words["name"],
            "status": "scheduled",
            "created_at": _stamp(created, page.tz),
            "updated_at": _stamp(created, page.tz),
            "monitoring_at": None,
            "resolved_at": None,
            "impact": "maintenance",
            "shortlink": f"https://stspg.io/{maintenance_id[:7]}",
            "started_at": _stamp(start, page.tz),
            "page_id": page.page_id,
            "scheduled_for": _stamp(start, page.tz),
            "scheduled_until": _stamp(start + parse_duration(words["lasts"]), page.tz),
            "incident_updates": [
                {
                    "id": _sid(maintenance_id, "update", "1"),
                    "status": "scheduled",
                    "body": words["body"],
                    "incident_id": maintenance_id,
                    "created_at": _stamp(created, page.tz),
                    "updated_at": _stamp(created, page.tz),
                    "display_at": _stamp(created, page.tz),
                    "affected_components": [
                        {
                            "code": pooler,
                            "name": words["component"],
                            "old_status": "operational",
                            "new_status": "operational",
                        }
                    ],
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
            ],
            "components": [c for c in components if c["id"] == pooler],
        }
        return {
            "page": page.page(now),
            "status": dict(_ALL_WELL),
            "components": components,
            "incidents": [],
            "scheduled_maintenances": [maintenance],
        }

    def _twilio_incident(self, now: datetime) -> tuple[dict[str, Any], bool]:
        """The carrier incident and whether it is still unresolved at ``now``."""
        page = self._twilio
        words = page.words["incident"]
        steps = [
            (self.started_at + _offset(u["at"]), u["status"], u["component_status"], u["body"])
            for u in words["updates"]
        ]
        began = steps[0][0]
        at_status = {status: at for at, status, _, _ in steps}
        incident_id = _sid("twilio", "incident", began.isoformat())
        component = _sid("twilio", "component", words["component"])
        shown = [s for s in steps if s[0] <= now] or steps[:1]
        updates = []
        previous = "operational"
        for at, status, component_status, body in shown:
            updates.append(
                {
                    "id": _sid(incident_id, "update", status),
                    "status": status,
                    "body": body,
                    "incident_id": incident_id,
                    "created_at": _stamp(at, page.tz),
                    "updated_at": _stamp(at, page.tz),
                    "display_at": _stamp(at, page.tz),
                    "affected_components": [
                        {
                            "code": component,
                            "name": words["component_label"],
                            "old_status": previous,
                            "new_status": component_status,
                        }
                    ],
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
            )
            previous = component_status
        updates.reverse()  # newest first, as Statuspage lists them
        latest_at, latest_status = shown[-1][0], shown[-1][1]
        is_resolved = latest_status == "resolved"
        monitoring = at_status["monitoring"]
        incident = {
            "id": incident_id,
            "name": words["name"],
            "status": latest_status,
            "created_at": _stamp(began, page.tz),
            "updated_at": _stamp(latest_at, page.tz),
            "monitoring_at": _stamp(monitoring, page.tz) if now >= monitoring else None,
            "resolved_at": _stamp(at_status["resolved"], page.tz) if is_resolved else None,
            "impact": words["impact"],
            "shortlink": f"https://stspg.io/{incident_id[:8]}",
            "started_at": _stamp(began, page.tz),
            "page_id": page.page_id,
            "incident_updates": updates,
            "components": [],
        }
        return incident, not is_resolved

    def _twilio_summary(self, now: datetime) -> dict[str, Any]:
        page = self._twilio
        words = page.words["incident"]
        incident, unresolved = self._twilio_incident(now)
        changed = datetime.fromisoformat(incident["updated_at"]).astimezone(UTC)
        status_of = {words["component"]: ("degraded_performance" if unresolved else "operational", changed)}
        quiet = self.started_at + _offset(page.words["quiet_since"])
        components = self._components(page, now, page.layout, status_of, quiet)
        if unresolved:
            incident["components"] = [c for c in components if c["name"] == words["component"]]
            status = {"indicator": words["indicator"], "description": words["description"]}
        else:
            status = dict(_ALL_WELL)
        return {
            "page": page.page(now),
            "status": status,
            "components": components,
            "incidents": [incident] if unresolved else [],
            "scheduled_maintenances": [],
        }

    def _past_incidents(self, page: _Page, now: datetime) -> list[dict[str, Any]]:
        if page is not self._twilio:
            return []
        incident, unresolved = self._twilio_incident(now)
        return [] if unresolved else [incident]


class _Handler(BaseHTTPRequestHandler):
    owner: StatusStandIn
    server_version = "warroom-standin/1"
    timeout = 5  # a client that connects and says nothing cannot hold a thread for long

    def _send(self, head_only: bool) -> None:
        try:
            doc = self.owner.document(self.path)
        except Exception as exc:  # a bug here must answer, not kill the thread
            body = json.dumps({"error": f"stand-in failure: {type(exc).__name__}"}).encode()
            self._reply(500, body, head_only)
            return
        if doc is None:
            self._reply(404, json.dumps({"error": "Not found"}).encode(), head_only)
            return
        self._reply(200, json.dumps(doc, indent=None, separators=(",", ":")).encode(), head_only)

    def _reply(self, code: int, body: bytes, head_only: bool) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=0, private, must-revalidate")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(head_only=False)

    def do_HEAD(self) -> None:
        self._send(head_only=True)

    def log_message(self, format: str, *args: Any) -> None:
        return  # the console owns the terminal

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            pass  # a client that went away mid-answer
