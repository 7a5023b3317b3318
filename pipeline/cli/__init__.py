"""The ``newsmon`` command: ``main`` parses arguments and calls :mod:`pipeline.stages`."""

from pipeline.cli.main import main

__all__ = ["main"]
