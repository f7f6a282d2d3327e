"""The server profile's aggregation (`bench/profile.py`), without py-spy or a server."""

from __future__ import annotations

from bench import profile

COLLAPSED = """\
process 1:"python -m uvicorn";run (uvicorn/main.py:630);handle (mlflow/server/handlers.py:10);log_batch (mlflow/store/tracking/sqlalchemy_store.py:99);do_execute (sqlalchemy/engine/default.py:1192) 6
process 1:"python -m uvicorn";run (uvicorn/main.py:630);handle (mlflow/server/handlers.py:10);parse (google/protobuf/json_format.py:5) 3
process 1:"python -m uvicorn";select (selectors.py:468) 1

not a stack line
"""


def test_parse_collapsed_reads_frames_and_counts() -> None:
    stacks = profile.parse_collapsed(COLLAPSED)
    assert [n for _, n in stacks] == [6, 3, 1]
    assert stacks[0][0][-1] == "do_execute (sqlalchemy/engine/default.py:1192)"
    assert stacks[2][0] == ['process 1:"python -m uvicorn"', "select (selectors.py:468)"]


def test_summarize_counts_every_layer_on_a_stack_and_the_leaves() -> None:
    summary = profile.summarize(profile.parse_collapsed(COLLAPSED), top=2)
    assert summary["samples"] == 10
    assert summary["layers_pct"] == {
        "MLflow tracking store": 60.0,
        "MLflow REST handlers": 90.0,
        "SQLAlchemy": 60.0,
        "protobuf / JSON": 30.0,
        "web stack (Flask, Starlette, uvicorn)": 90.0,
    }
    assert summary["top_self_pct"] == [
        ["do_execute (sqlalchemy/engine/default.py:1192)", 60.0],
        ["parse (google/protobuf/json_format.py:5)", 30.0],
    ]


def test_summarize_of_nothing_is_empty_not_a_division_error() -> None:
    assert profile.summarize([]) == {"samples": 0, "layers_pct": {}, "top_self_pct": []}


def test_markdown_names_each_workload_and_its_layers() -> None:
    summary = profile.summarize(profile.parse_collapsed(COLLAPSED))
    text = profile.markdown(
        {
            "date": "2026-11-23T00:00:00+00:00",
            "machine": "2 CPUs (test)",
            "py_spy": "0.4.3",
            "rate": 100,
            "workloads": [summary | {"workload": "tracking, 16 clients, 20 s", "errors": 0}],
        }
    )
    assert "#### tracking, 16 clients, 20 s (10 samples; errors 0)" in text
    assert "| SQLAlchemy | 60.0 |" in text
    assert "| `do_execute (sqlalchemy/engine/default.py:1192)` | 60.0 |" in text
