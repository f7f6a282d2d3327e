"""Artifact path: upload + download through the image's proxy (scenario 5) vs direct to S3 (4).

Two entrypoint servers on the same moto S3 endpoint run side by side: one proxied
(`ARTIFACT_MODE=proxied`, clients only know the tracking URL) and one direct
(`ARTIFACT_MODE=direct`, the client writes to the bucket with its own credentials).
Modes alternate within each size and round. A third mode, `proxied-mpu`, is the proxied
server with the client's MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=true: files at or above
MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE (500 MB by default) then go up as parts straight
to S3 through presigned URLs.

Multipart is read off the stored object: S3 (and moto) give an object written by a
multipart upload the ETag `"<md5>-<number of parts>"`.
"""

# MLflow, boto3 and matplotlib load lazily: `--help` and the report stay fast without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from bench import proc
from bench.servers import CONFIGS, Services, make_server, new_database, running

MiB = 1024 * 1024
MODES = ("direct", "proxied", "proxied-mpu")


def _make_file(path: Path, size_mb: int) -> str:
    """A file of `size_mb` MiB (one random MiB repeated); returns its sha256."""
    block = os.urandom(MiB)
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        for _ in range(size_mb):
            handle.write(block)
            digest.update(block)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for _ in range(1 << 20):
            chunk = handle.read(8 * MiB)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def _s3_client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )


@contextlib.contextmanager
def _env(values: dict[str, str]):
    """Set client-side environment variables for a block."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run(svc: Services, sizes_mb: list[int], rounds: int, engine: str) -> dict[str, Any]:
    """Time upload and download of each size per mode; report MB/s, parts and server peak."""
    from mlflow import MlflowClient

    config = CONFIGS["a"] if engine == "postgresql" else CONFIGS["b"]
    if engine == "sqlite":
        config = CONFIGS["a"].__class__("s", "image-sqlite", "image, SQLite", True, "sqlite")
    moto = svc.moto()
    s3 = _s3_client(moto.endpoint)
    buckets = {"proxied": svc.bucket(), "direct": svc.bucket()}
    proxied = make_server(svc, config, new_database(svc, engine), bucket=buckets["proxied"])
    direct = make_server(
        svc,
        config,
        new_database(svc, engine),
        bucket=buckets["direct"],
        extra_env={"ARTIFACT_MODE": "direct"},
    )
    samples: list[dict[str, Any]] = []
    client_env = {
        **moto.env,  # scenario 4: the client needs the bucket's endpoint and credentials
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "600",
    }
    with running(proxied), running(direct), _env(client_env):
        servers = {"proxied": proxied, "direct": direct, "proxied-mpu": proxied}
        for size in sizes_mb:
            source = svc.tmp / f"artifact-{size}mb.bin"
            digest = _make_file(source, size)
            for rnd in range(rounds):
                order = MODES[rnd % 3 :] + MODES[: rnd % 3]
                for mode in order:
                    server = servers[mode]
                    bucket = buckets["direct" if mode == "direct" else "proxied"]
                    mpu = "true" if mode == "proxied-mpu" else "false"
                    with _env({"MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD": mpu}):
                        samples.append(
                            _round_trip(
                                client=MlflowClient(server.url),
                                s3=s3,
                                bucket=bucket,
                                server=server,
                                source=source,
                                digest=digest,
                                svc=svc,
                            )
                            | {"mode": mode, "size_mb": size, "round": rnd}
                        )
            source.unlink(missing_ok=True)
    return {"engine": engine, "sizes_mb": sizes_mb, "rounds": rounds, "samples": samples}


def _round_trip(
    *, client: Any, s3: Any, bucket: str, server: Any, source: Path, digest: str, svc: Services
) -> dict[str, Any]:
    """Upload then download one file through `client`; check it; delete it from S3."""
    size_mb = source.stat().st_size / MiB
    run_id = client.create_run("0").info.run_id
    with proc.PeakSampler(server.server_pid(), interval=0.2) as up_peak:
        start = time.perf_counter()
        client.log_artifact(run_id, str(source))
        upload_s = time.perf_counter() - start
    keys = [
        obj["Key"]
        for obj in s3.list_objects_v2(Bucket=bucket, Prefix=f"0/{run_id}/").get("Contents", [])
    ]
    key = next(k for k in keys if k.endswith(source.name))
    etag = s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    parts = int(etag.rsplit("-", 1)[1]) if "-" in etag else 1
    dst = svc.tmp / f"down-{run_id}"
    dst.mkdir()
    with proc.PeakSampler(server.server_pid(), interval=0.2) as down_peak:
        start = time.perf_counter()
        local = client.download_artifacts(run_id, source.name, str(dst))
        download_s = time.perf_counter() - start
    intact = _sha256(Path(local)) == digest
    Path(local).unlink(missing_ok=True)
    dst.rmdir()
    s3.delete_object(Bucket=bucket, Key=key)
    return {
        "upload_s": round(upload_s, 3),
        "download_s": round(download_s, 3),
        "upload_mb_s": round(size_mb / upload_s, 1),
        "download_mb_s": round(size_mb / download_s, 1),
        "s3_parts": parts,
        "multipart": parts > 1,
        "intact": intact,
        "server_peak_pss_mb_up": up_peak.peak.pss_mb,
        "server_peak_pss_mb_down": down_peak.peak.pss_mb,
    }
