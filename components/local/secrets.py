"""How secrets reach the local containers: files under /run/secrets, and for the
mlflow-server image a `sh` wrapper that loads them into its environment.

Resource-free. A plain `docker run` has no secret store, and whatever is in a
container's environment shows in `docker inspect`; files uploaded into the container
do not. The official database and MinIO images read `*_FILE` variables themselves;
the mlflow-server image reads its contract's variables, so `secrets_wrapper` exports
each file as the variable of the same name right before it execs the image's own
entrypoint.
"""

from __future__ import annotations

SECRETS_DIR = "/run/secrets"
"""Where secrets are uploaded as files: Docker's own convention (compose and swarm secrets)."""
IMAGE_ENTRYPOINT = "python -m mlflow_image"
"""The mlflow-server image's own ENTRYPOINT, exec'd by the secrets wrapper."""


def secrets_wrapper(directory: str = SECRETS_DIR, command: str = IMAGE_ENTRYPOINT) -> str:
    """The `sh -c` script that loads /run/secrets/<NAME> files into NAME and execs `command`.

    Any character of a value survives (command substitution in double quotes is not
    split or globbed); only trailing newlines are dropped, and generated secrets have none.
    """
    return (
        "set -eu; "
        f'for f in {directory}/*; do [ -f "$f" ] || continue; '
        'export "${f##*/}=$(cat "$f")"; done; '
        f'exec {command} "$@"'
    )
