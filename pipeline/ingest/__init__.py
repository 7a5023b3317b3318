"""The ingest pass: feeds -> pages -> enrich wired together for one run.

The stage packages below it each do one step on plain values (``feeds`` parses, ``pages``
extracts, ``enrich`` decides); this package is where they meet the queue and the database:
``due`` says which feeds are due (all that an empty pass imports), ``poll`` polls the due
feeds and queues their links, ``stream`` fetches the queued pages as they come (claims,
spool, process pool), ``work`` is the pool's job (extraction plus the text-only
enrichment), ``store`` writes one page and its enrichment in one transaction, and
``backfill`` reads news sitemaps for past windows.
"""
