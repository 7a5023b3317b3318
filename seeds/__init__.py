"""The bundled seed corpus and configuration, shipped as package data.

The five seed articles (kept byte for byte as delivered), their manifest, the feed list, the
actor gazetteer and the relevance terms. newsmon finds them through :data:`SEEDS_DIR`, so an
installed wheel has them too.
"""

from importlib import resources
from pathlib import Path

SEEDS_DIR = Path(str(resources.files(__name__)))
