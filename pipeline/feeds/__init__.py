"""Feeds: the feed list, parsing feed bytes into entries, feed health and the polling pass.

``feedlist`` reads YAML/OPML and discovers feeds in HTML; ``parse`` (RSS/Atom via feedparser),
``jsonfeed`` and ``sitemaps`` turn bytes into entries; ``health`` is the back-off arithmetic;
``poll`` fetches the due feeds and queues their links; ``backfill`` reads news sitemaps for
past windows.
"""
