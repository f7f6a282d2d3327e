"""Stop timeouts and the proxied uploads' spool, per platform: pure arithmetic, no SDK.

One home for two rules every cloud's `Service` follows:

- **Stops.** The image bounds its own shutdown (`SERVER_SHUTDOWN_SECONDS`: requests in
  flight get that long, then the server exits). The platform's stop timeout (the time
  between SIGTERM and SIGKILL) must be above it, by `STOP_MARGIN_SECONDS`, so that a stop
  ends in the server's clean exit rather than in a SIGKILL. Where the platform lets us set
  the timeout (Docker, ECS, Container Apps) it is `stop_timeout_seconds(shutdown)`; where
  it is fixed (Cloud Run: 10 s) the shutdown bound is `shutdown_seconds_within(grace)`.
- **The spool.** MLflow's proxy writes each proxied upload whole to `SPOOL_DIR` before it
  sends it to the bucket, so the spool must hold the largest upload
  (`ARTIFACT_MAX_UPLOAD_MB`; the image refuses to start otherwise). Each platform gives the
  spool a different place and size: `*_spool_mb` say how much, `upload_limit_problem`
  says whether a configured maximum fits.
"""

from __future__ import annotations

DEFAULT_SHUTDOWN_SECONDS = 8
"""SERVER_SHUTDOWN_SECONDS every stack passes: the image's default (held to it by a test),
and Cloud Run's fixed 10 s grace less the margin."""
STOP_MARGIN_SECONDS = 2
"""Between the image's shutdown bound and SIGKILL: the server's processes exit within about
2 s of the bound (1.7 s measured over a 5 s bound, issue 16), so the platform must wait
`shutdown + 2` before it kills."""
CLOUD_RUN_GRACE_SECONDS = 10
"""Cloud Run sends SIGTERM, then SIGKILL 10 s later; the v2 API has no setting for it."""
FARGATE_STOP_TIMEOUT_MAX = 120
"""ECS `stopTimeout` on Fargate: at most 120 s."""
CONTAINER_APPS_GRACE_MAX = 600
"""Container Apps `terminationGracePeriodSeconds`: at most 600 s."""

SPOOL_DIR = "/spool"
"""Where every stack mounts the spool (a volume meant for it, never the root filesystem);
the image creates the directory, owned by its user, so a fresh volume inherits that."""

FARGATE_DEFAULT_STORAGE_GIB = 20
"""Fargate's ephemeral storage when the task definition sets none (platform 1.4+)."""
FARGATE_STORAGE_GIB_RANGE = (21, 200)
"""What a task definition's `ephemeralStorage.sizeInGiB` may be."""
FARGATE_RESERVED_GIB = 2
"""Of the task's ephemeral storage, what the spool must leave: the image's layers (962 MB
unpacked) and the container's own writes (/tmp, logs)."""
CONTAINER_APPS_EPHEMERAL_GIB = ((0.25, 1), (0.5, 2), (1.0, 4))
"""Container Apps' ephemeral storage per replica by vCPU (0.25 or lower: 1 GiB, 0.5: 2 GiB,
1: 4 GiB, over 1: `CONTAINER_APPS_EPHEMERAL_GIB_MAX`); not configurable."""
CONTAINER_APPS_EPHEMERAL_GIB_MAX = 8
CONTAINER_APPS_RESERVED_MB = 512
"""Of a replica's ephemeral storage, what the spool must leave for the container's own
writable layer (/tmp, Python caches)."""
CLOUD_RUN_REQUEST_MB = 32
"""Cloud Run refuses an HTTP/1 request body over 32 MiB: no single proxied upload is larger
(bigger files go as multipart parts straight to GCS, see the GCP stack's
`clientEnvironment`)."""
WORKER_MEMORY_MB = 512
"""Memory budgeted per uvicorn worker (the sizing modules' 2-workers-per-512 MB rule:
the idle tree is about 330 MB for 2 workers, the rest is headroom for requests)."""

DEFAULT_MAX_UPLOAD_MB = {"local": 1024, "aws": 4096, "gcp": CLOUD_RUN_REQUEST_MB, "azure": 1024}
"""`ARTIFACT_MAX_UPLOAD_MB` per cloud when `artifactMaxUploadMb` is unset: local 1 GiB (the
host's disk), AWS 4 GiB (4 of them fit Fargate's default 18 GiB spool), GCP Cloud Run's
request limit, Azure 1 GiB (fits the smallest replica with 0.5 vCPU or more; a 0.25 vCPU
replica's 512 MB spool refuses it with a clear line)."""


def stop_timeout_seconds(shutdown_seconds: int, most: int | None = None) -> int:
    """The platform stop timeout for a server bounded by `shutdown_seconds`: the bound plus
    `STOP_MARGIN_SECONDS`. ValueError naming `shutdown_seconds` when it exceeds what the
    platform allows (`most`)."""
    if shutdown_seconds < 2:
        raise ValueError(f"shutdown_seconds: {shutdown_seconds} is below the image's minimum 2")
    timeout = shutdown_seconds + STOP_MARGIN_SECONDS
    if most is not None and timeout > most:
        raise ValueError(
            f"shutdown_seconds: {shutdown_seconds} needs a stop timeout of {timeout} s; the "
            f"platform allows {most}: at most {most - STOP_MARGIN_SECONDS}"
        )
    return timeout


def shutdown_seconds_within(grace_seconds: int) -> int:
    """The shutdown bound for a platform whose grace period is fixed at `grace_seconds`."""
    shutdown = grace_seconds - STOP_MARGIN_SECONDS
    if shutdown < 2:
        raise ValueError(f"grace_seconds: {grace_seconds} leaves no room for a clean shutdown")
    return shutdown


def fargate_spool_mb(storage_gib: int | None) -> int:
    """The spool of a Fargate task with `storage_gib` of ephemeral storage (None: Fargate's
    default 20 GiB), less what the image and the container's own writes take."""
    gib = FARGATE_DEFAULT_STORAGE_GIB if storage_gib is None else storage_gib
    low, high = FARGATE_STORAGE_GIB_RANGE
    if storage_gib is not None and not low <= storage_gib <= high:
        raise ValueError(f"storage_gib: {storage_gib} is not from {low} to {high}")
    return (gib - FARGATE_RESERVED_GIB) * 1024


def container_apps_ephemeral_gib(cpu: float) -> int:
    """A Container Apps replica's ephemeral storage for `cpu` vCPU."""
    for most_cpu, gib in CONTAINER_APPS_EPHEMERAL_GIB:
        if cpu <= most_cpu:
            return gib
    return CONTAINER_APPS_EPHEMERAL_GIB_MAX


def container_apps_spool_mb(cpu: float) -> int:
    """The spool (an EmptyDir volume) of a replica with `cpu` vCPU."""
    return container_apps_ephemeral_gib(cpu) * 1024 - CONTAINER_APPS_RESERVED_MB


def cloud_run_spool_mb(memory_mb: int, workers: int) -> int:
    """The size limit of a Cloud Run instance's in-memory spool: the memory its `workers`
    do not need (`WORKER_MEMORY_MB` each). Capped, so that a burst of uploads fails one
    upload with ENOSPC instead of the whole instance with an out-of-memory kill."""
    return max(0, memory_mb - workers * WORKER_MEMORY_MB)


def cloud_run_memory_needed(workers: int, max_upload_mb: int) -> int:
    """The least memory (MB) a Cloud Run instance with `workers` needs to spool one upload
    of `max_upload_mb` next to its workers."""
    return workers * WORKER_MEMORY_MB + max_upload_mb


def upload_limit_problem(
    max_upload_mb: int, spool_mb: int, request_mb: int | None = None
) -> str | None:
    """None when an upload of `max_upload_mb` fits a spool of `spool_mb` (and the platform's
    request limit `request_mb`), else the limit, as words for an error message."""
    if request_mb is not None and max_upload_mb > request_mb:
        return f"at most {request_mb} (the platform's request size limit, MiB)"
    if max_upload_mb > spool_mb:
        return f"at most {spool_mb} (the spool's size, MB)"
    return None
