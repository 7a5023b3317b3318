"""What enrichment needs loaded once per task, kept apart from the enrichment steps.

The Toolkit is built at the start of every ingest (a broken actor file must fail
each run loudly), also when nothing is due; this module imports only the
gazetteer, the matcher and the rules, not the steps, so an empty pass does not
pay for numpy, the story modules or the extractor.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.enrich.gazetteer import Gazetteer
from pipeline.enrich.relevance import RelevanceRules, load_rules


@dataclass(frozen=True)
class Toolkit:
    """What enrichment needs loaded once per task: gazetteer, relevance rules, settings."""

    settings: Settings
    gazetteer: Gazetteer
    rules: RelevanceRules

    @classmethod
    def load(cls, settings: Settings) -> Toolkit:
        """Load the gazetteer (compiled form cached under NEWSMON_HOME/cache) and the rules."""
        from pipeline.enrich.gazetteer_cache import load_gazetteer

        return cls(
            settings=settings,
            gazetteer=load_gazetteer(settings.actors_path, settings.cache_dir),
            rules=load_rules(settings.relevance_path),
        )
