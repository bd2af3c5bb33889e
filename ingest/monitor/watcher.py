"""The watch loop: poll the files, feed the engine, send and log the alerts, save the state."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from ingest.monitor.engine import Alert, Engine
from ingest.monitor.follow import Follower
from ingest.monitor.notify import Webhook
from ingest.monitor.rules import RuleSet
from ingest.monitor.state import StateDir


class Watcher:
    def __init__(
        self,
        patterns: Iterable[str],
        ruleset: RuleSet,
        state_dir: str,
        webhooks: Iterable[Webhook] = (),
        *,
        tz: str = "Asia/Shanghai",
        from_start: bool = False,
        on_alert: Callable[[Alert, list[dict[str, Any]]], None] | None = None,
        send_attempts: int = 4,
        send_backoff: float = 1.0,
    ) -> None:
        self.state = StateDir(state_dir)
        saved = self.state.load()
        self.follower = Follower(patterns, tz, saved.get("files"), from_start=from_start)
        self.engine = Engine(ruleset, tz)
        if saved.get("engine"):
            self.engine.load(saved["engine"])
        self.webhooks = list(webhooks)
        self.on_alert = on_alert
        self.send_attempts = send_attempts
        self.send_backoff = send_backoff
        self._wall_at_latest = time.time()
        self.events_seen = 0

    def now(self) -> float:
        """Log time: the newest event plus the wall-clock time since it was read."""
        wall = time.time()
        if self.engine.latest is None:
            return wall
        return self.engine.latest + max(0.0, wall - self._wall_at_latest)

    def step(self, *, flush: bool = False) -> list[Alert]:
        """One poll: read, evaluate, notify, save. Returns the alerts sent."""
        frame = self.follower.poll(flush=flush)
        if not frame.empty:
            before = self.engine.latest
            now = time.time() if before is None else self.now()
            self.engine.add(frame, now, context=self.follower.context)
            if self.engine.latest != before:
                self._wall_at_latest = time.time()
            self.events_seen += len(frame)
        alerts = self.engine.evaluate(self.now())
        for alert in alerts:
            self.deliver(alert)
        self.state.save(self.follower.state(), self.engine.dump())
        return alerts

    def deliver(self, alert: Alert) -> None:
        results = []
        for hook in self.webhooks:
            ok, answer = hook.send(alert, attempts=self.send_attempts, backoff=self.send_backoff)
            results.append(
                {"type": hook.kind, "url": _redact(hook.url), "ok": ok, "answer": answer}
            )
        self.state.log_alert({**alert.to_dict(), "deliveries": results})
        if self.on_alert is not None:
            self.on_alert(alert, results)

    def run(
        self,
        interval: float = 2.0,
        *,
        duration: float | None = None,
        once: bool = False,
        stop: Callable[[], bool] = lambda: False,
    ) -> None:
        deadline = None if duration is None else time.monotonic() + duration
        try:
            while True:
                self.step(flush=once)
                if once or stop() or (deadline is not None and time.monotonic() >= deadline):
                    break
                time.sleep(interval)
        finally:
            # release what is held back and checkpoint it, so a restart repeats nothing
            self.step(flush=True)
            self.follower.close()


def _redact(url: str) -> str:
    """Webhook URLs carry their access token: keep the host and path only."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
