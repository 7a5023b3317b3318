"""Operations: what keeps a running monitor honest about its own state.

``doctor`` checks settings, database, SMTP, feed list and disk (``newsmon doctor`` and the
``newsmon_doctor`` DAG); ``dirs`` makes sure the data directory is usable before a stage
writes; ``hostname`` tells Airflow which Celery worker ran a task.
"""
