"""robots.txt rules (RFC 9309) as a pure value; fetching happens in pipeline.net.client.

Status handling follows RFC 9309 section 2.3.1: 2xx -> parse the rules,
4xx -> no rules (everything allowed), 5xx/unreachable -> the caller treats the
host as temporarily disallowed (a transient error, retried on a later pass).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.robotparser import RobotFileParser

#: Crawl-delay values above this are ignored as unreasonable (seconds).
MAX_CRAWL_DELAY = 30.0


def agent_token(user_agent: str) -> str:
    """The product token robots.txt groups match against ("newsmon/0.1 (...)" -> "newsmon")."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0].strip().lower() or "*"


@dataclass
class RobotsRules:
    """Parsed rules of one host. ``parser is None`` means "allow everything"."""

    parser: RobotFileParser | None = None
    agent: str = "*"
    _delay: float | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, text: str, user_agent: str) -> RobotsRules:
        """The rules of a robots.txt body for ``user_agent``'s product token.

        A Crawl-delay is capped at MAX_CRAWL_DELAY; one that is not a number is ignored.
        """
        rp = RobotFileParser()
        rp.parse(text.splitlines())
        agent = agent_token(user_agent)
        delay: float | None = None
        raw = rp.crawl_delay(agent)
        if raw is not None:
            try:
                delay = min(float(raw), MAX_CRAWL_DELAY)
            except (TypeError, ValueError):
                delay = None
        return cls(rp, agent, delay)

    @classmethod
    def allow_all(cls) -> RobotsRules:
        """No rules: everything allowed (robots.txt answered 4xx or was unusable)."""
        return cls(None)

    def allowed(self, url: str) -> bool:
        """Whether the rules let our agent fetch ``url``."""
        if self.parser is None:
            return True
        return self.parser.can_fetch(self.agent, url)

    @property
    def crawl_delay(self) -> float | None:
        """Seconds between requests the host asks of our agent (capped), or None."""
        return self._delay
