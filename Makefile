# Two commands from a fresh machine: `make demo` and `make test`.
.PHONY: demo test lint bench deploy-check warehouse-check fault-check browser-check clean

demo:  ## Run the daily example DAG end to end against the emulator (no account needed).
	bash scripts/venv.sh .venv 3.3.2 3.11 requirements/dev.txt
	.venv/bin/python -m pip install -q --no-deps -e .
	.venv/bin/python scripts/demo.py

test:  ## Lint, type-check, build the wheel, run the suite on Airflow 2.11 and 3.0-3.3, then the deploy check.
	bash scripts/test.sh

lint:
	bash scripts/venv.sh .venv 3.3.2 3.11 requirements/dev.txt
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

deploy-check:  ## The daily DAG on PostgreSQL + CeleryExecutor/Redis + a separate triggerer (Airflow 3.3.2).
	bash scripts/deploy_check.sh

warehouse-check:  ## The warehouse example DAG upserting every table into a real PostgreSQL (reruns, late rows).
	bash scripts/warehouse_check.sh

fault-check:  ## Kill the triggerer and the worker, restart PostgreSQL and Redis, SIGTERM an extract, mid-run.
	bash scripts/fault_check.sh

browser-check:  ## The connection form and the scorecard tab in Airflow 3.3.2's UI, the scorecard page, in Debian's Chromium.
	bash scripts/browser_check.sh

bench:  ## Benchmarks against their baselines; BENCH_ARGS="--json results.json --plots DIR" to save and draw.
	bash scripts/venv.sh .venv 3.3.2 3.11 requirements/dev.txt
	.venv/bin/python -m pip install -q --no-deps -e .
	.venv/bin/python -m pip install -q -c constraints/airflow-3.3.2-py3.11.txt -r requirements/bench.txt
	.venv/bin/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf .venv .venv-test-* .venv-deploy .venv-tools .ci-logs .airflow-* .browser-test-output dist build demo-output
