"""What a user does with the server, through the real MLflow client.

`tracking_flow`: experiment, params/metrics incl. log_batch, artifacts up/list/down, a
tiny pyfunc model logged, registered and loaded back, search_runs. `artifacts_flow`:
the same artifact round trip against an artifacts-only server.
"""

from __future__ import annotations

import filecmp
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.artifacts
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.pyfunc.model import PythonModel
from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository


class TinyModel(PythonModel):
    """A pyfunc model with no dependencies: the length of each `text` value."""

    # MLflow's base `predict` has no return annotation, so pyright infers None for it.
    def predict(self, context, model_input, params: dict[str, Any] | None = None):  # pyright: ignore[reportIncompatibleMethodOverride]
        """Return len() of each value of the `text` column."""
        return [len(str(value)) for value in model_input["text"]]


@dataclass
class FlowResult:
    """What the flow created, for scenario-specific checks."""

    experiment_id: str
    run_id: str
    artifact_location: str
    model_name: str


def _write_files(root: Path) -> tuple[Path, Path]:
    """A single file and a small directory of artifacts to upload."""
    root.mkdir(parents=True, exist_ok=True)
    single = root / "notes.txt"
    single.write_text("hello artifacts\n" * 50)
    folder = root / "data"
    folder.mkdir(exist_ok=True)
    (folder / "a.csv").write_text("x,y\n1,2\n")
    (folder / "b.bin").write_bytes(bytes(range(256)) * 8)
    return single, folder


def tracking_flow(tracking_uri: str, workdir: Path, register: bool = True) -> FlowResult:
    """Drive a tracking server end to end with the MLflow client and check every answer."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    client = MlflowClient(tracking_uri, registry_uri=tracking_uri)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    experiment_id = client.create_experiment(name)
    run = client.create_run(experiment_id, run_name="flow")
    run_id = run.info.run_id
    client.log_param(run_id, "alpha", "0.5")
    client.log_metric(run_id, "loss", 0.9, step=0)
    client.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5 - i * 0.1, 0, i + 1) for i in range(3)],
        params=[Param("layers", "3"), Param("optimizer", "adam")],
        tags=[RunTag("team", "e2e")],
    )
    single, folder = _write_files(workdir / "upload")
    client.log_artifact(run_id, str(single))
    client.log_artifacts(run_id, str(folder), "data")
    listed = {f.path for f in client.list_artifacts(run_id, "data")}
    assert listed == {"data/a.csv", "data/b.bin"}, listed
    down = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run_id,
            artifact_path="data",
            dst_path=str(workdir / "down"),
            tracking_uri=tracking_uri,
        )
    )
    for item in ("a.csv", "b.bin"):
        assert filecmp.cmp(folder / item, down / item, shallow=False), item

    model_name = f"m-{name}"
    if register:
        mlflow.set_experiment(experiment_id=experiment_id)
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=TinyModel(),
                pip_requirements=["mlflow"],
                registered_model_name=model_name,
            )
        assert str(info.registered_model_version) == "1", info.registered_model_version
        loaded = mlflow.pyfunc.load_model(f"models:/{model_name}/1")
        prediction = list(loaded.predict(pd.DataFrame({"text": ["a", "abc"]})))
        assert prediction == [1, 3], prediction
        assert client.get_registered_model(model_name).name == model_name
    client.set_terminated(run_id)

    found = client.search_runs([experiment_id], "metrics.loss < 0.4 and params.layers = '3'")
    assert [r.info.run_id for r in found] == [run_id]
    fetched = client.get_run(run_id)
    assert fetched.data.params == {"alpha": "0.5", "layers": "3", "optimizer": "adam"}
    assert abs(fetched.data.metrics["loss"] - 0.3) < 1e-9
    history = client.get_metric_history(run_id, "loss")
    assert len(history) == 4
    experiment = client.get_experiment(experiment_id)
    return FlowResult(experiment_id, run_id, experiment.artifact_location, model_name)


def artifacts_flow(server_url: str, workdir: Path) -> str:
    """Upload, list and download through an artifacts-only server; return the path used."""
    prefix = f"e2e-{uuid.uuid4().hex[:8]}"
    repo = get_artifact_repository(f"{server_url}/api/2.0/mlflow-artifacts/artifacts/{prefix}")
    single, folder = _write_files(workdir / "upload")
    repo.log_artifact(str(single))
    repo.log_artifacts(str(folder), "data")
    listed = {f.path for f in repo.list_artifacts("data")}
    assert listed == {"data/a.csv", "data/b.bin"}, listed
    (workdir / "down").mkdir(parents=True, exist_ok=True)
    down = Path(repo.download_artifacts("data", dst_path=str(workdir / "down")))
    for item in ("a.csv", "b.bin"):
        assert filecmp.cmp(folder / item, down / item, shallow=False), item
    return prefix
