"""newsmon's work, importable and runnable without Airflow.

Follow one article from feed to email by the folder names::

    net/      the network edge      client (fetching), addresses (SSRF), robots, urls, content
      │
    feeds/    feed -> entries       feedlist, parse, jsonfeed, sitemaps, entries, health, charset
      │
    pages/    page -> article text  extract (trafilatura and other candidates), dates, site rules,
      │                             boilerplate, language, wire, articles, spool
    enrich/   article -> knowledge  steps (the order), relevance, fingerprints / duplicates,
      │                             story_similarity / story_assign, gazetteer / actors,
      │                             reprocess, seed_corpus / seed_store
    digest/   day -> email          model, collect, build, render (+ templates), mailer, deliver

    ingest/   one pass, wired       poll (due feeds -> queued links), stream (fetch queued
                                    pages: claims, fairness, spool, pool), work (the pool's job),
                                    store (a page and its enrichment in one transaction),
                                    backfill (news sitemaps)
    ops/      the monitor itself    doctor (health checks), dirs, hostname (Celery workers),
                                    startup (no garbage collection while loading)
    cli/      the newsmon command   main, feeds

At the top, shared by all of them: ``config`` (one frozen Settings, passed down; nothing
else reads the environment), ``errors`` (the exception tree: transient or permanent),
``windows`` (every day and window rule), ``report`` (what a stage returns) and ``stages``
(the units of work that the CLI and the Airflow DAGs call: the one API).

Below pipeline sits ``storage`` (tables, sessions, repository functions, migrations); it
imports nothing from pipeline but ``pipeline.errors``. The import contracts in
pyproject.toml keep it that way.
"""
