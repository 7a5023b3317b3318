"""The compiled gazetteer, cached on disk by the content hash of its YAML file.

Parsing seeds/actors.yaml and building the alias automaton took seconds at
every start, and every Airflow task starts afresh. The compiled Gazetteer
(records plus the Aho-Corasick matcher) is pickled under NEWSMON_HOME/cache,
named by the SHA-256 of the file's bytes and a format version: an edited file
has another hash, so a stale cache can never be used, and a missing, corrupt
or unwritable cache only costs the slow path. The cache lives in newsmon's own
data directory, written by newsmon; it is as trusted as the database beside it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
from pathlib import Path

from pipeline.enrich.actors import warm_matcher
from pipeline.enrich.gazetteer import Gazetteer
from pipeline.errors import ConfigError

log = logging.getLogger(__name__)

#: Bump when Gazetteer, Actor or the matcher change shape.
FORMAT = b"newsmon-gazetteer-1"


def cache_path(path: Path, cache_dir: Path) -> Path:
    """Where the compiled form of the gazetteer file at ``path`` is cached."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read actor gazetteer: {exc.strerror}", path=str(path)) from exc
    digest = hashlib.sha256(FORMAT + b"\0" + data).hexdigest()[:40]
    return cache_dir / f"gazetteer-{digest}.pickle"


def load_gazetteer(path: Path, cache_dir: Path | None) -> Gazetteer:
    """The gazetteer of ``path``, from the cache when its content was compiled before."""
    if cache_dir is None:
        return warm_matcher(Gazetteer.load(path))
    target = cache_path(path, cache_dir)
    try:
        with target.open("rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, Gazetteer):
            return cached
        log.warning("ignoring gazetteer cache %s: not a gazetteer", target)
    except FileNotFoundError:
        pass
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        log.warning("ignoring unreadable gazetteer cache %s: %s", target, exc)
    gazetteer = warm_matcher(Gazetteer.load(path))
    _store(target, gazetteer)
    return gazetteer


def _store(target: Path, gazetteer: Gazetteer) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # write-then-rename: a concurrent reader sees the old file or the whole new one
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".gazetteer-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(gazetteer, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("cannot write gazetteer cache %s: %s", target, exc)
