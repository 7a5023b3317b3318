# The README's commands. Each target is a thin alias for a script in scripts/.
.PHONY: run test lint demo bench install scale-test

run:      ## set up and start the monitor (airflow standalone on localhost:8080)
	scripts/run_monitor.sh

test:     ## install what tests need, lint, run the whole test suite
	scripts/test.sh

lint:     ## ruff + mypy
	scripts/lint.sh

demo:     ## offline demo: serve bundled pages/feeds on loopback, ingest, write a digest
	scripts/bootstrap.sh && .venv/bin/python scripts/demo.py

scale-test: ## the DAGs on a real CeleryExecutor cluster: PostgreSQL, Redis, two workers
	scripts/scale_test.sh

bench:    ## benchmarks (print figures; assert nothing)
	scripts/bootstrap.sh test && for b in bench/bench_*.py; do .venv/bin/python "$$b"; done

install:
	scripts/bootstrap.sh
