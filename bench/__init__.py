"""Benchmark harness of the MLflow server image: `python -m bench.run [--quick]`.

It starts each compared configuration the way the end-to-end tests do (the helpers in
`tests/services.py`), drives it with the real MLflow client, and writes
`bench/results/<date>.json`, `latest.json`, `latest.md` and `latest.png`.
"""
