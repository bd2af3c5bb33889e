"""Live monitoring: follow growing logs, evaluate alert rules, notify (``dashscope-logs watch``).

- ``rules``: the TOML rules file and the default rules
- ``follow``: ``tail -F`` over paths and globs, parsing only the appended bytes
- ``engine``: rules on a sliding window -> alerts (incidents, cooldown, recovery)
- ``notify``: JSON, DingTalk, Feishu/Lark, WeCom and Slack webhooks
- ``state``: offsets, rule state and the alert log in the state directory
- ``watcher``: the loop tying them together
"""

from __future__ import annotations

from ingest.monitor.engine import Alert, Engine
from ingest.monitor.rules import RulesError, RuleSet, load_rules

__all__ = ["Alert", "Engine", "RuleSet", "RulesError", "load_rules"]
