"""Pages: from a queued link to an article's clean text and metadata.

``fetch`` fetches the queued pages and stores them; ``extract`` runs trafilatura with its
fallbacks, ``boilerplate`` removes site furniture, ``language`` identifies the language,
``wire`` finds news-agency credits, ``articles`` maps an extraction onto an Article row.
"""
