"""Enrichment of stored articles: relevance, duplicates, stories, actors, and the seed corpus.

``steps`` runs the steps on one article (ingest and reprocess both end there);
``relevance`` scores the Korea focus, ``fingerprints`` and ``duplicates`` recognise what is
already known, ``story_similarity`` and ``story_assign`` group articles into stories,
``gazetteer`` and ``actors`` tag people, states and organisations; ``seed_corpus`` and
``seed_store`` load the seeds; ``reprocess`` re-runs the steps over stored pages.
"""
