# The README's commands. Each target is a thin alias for a script in scripts/.
.PHONY: run test lint demo example bench install shell stop reset scale-test

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
example:  ## rebuild docs/digest-example.* and docs/digest-failed-example.* from the demo
	scripts/bootstrap.sh && .venv/bin/python scripts/demo.py --example docs \
		&& .venv/bin/python scripts/demo.py --offline --example docs

shell:    ## a shell with newsmon on PATH and NEWSMON_HOME=var (what `make run` uses)
	scripts/shell.sh

stop:     ## stop a monitor started with `make run` in another terminal
	scripts/stop_monitor.sh

reset:    ## stop it and delete all its data (var/: database, digests, Airflow home)
	scripts/stop_monitor.sh && rm -rf var

bench:    ## benchmarks (print figures; assert nothing)
	scripts/bootstrap.sh test && for b in bench/bench_*.py; do .venv/bin/python "$$b"; done

install:
	scripts/bootstrap.sh
