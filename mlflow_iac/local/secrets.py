"""How secrets reach the local containers: files under /run/secrets, and for the
mlflow-server image a `sh` wrapper that loads them into its environment.

Resource-free. A plain `docker run` has no secret store, and whatever is in a
container's environment shows in `docker inspect`; files uploaded into the container
do not. The official database and MinIO images read `*_FILE` variables themselves
(their entrypoints start as root, so any owner works); the mlflow-server image runs
as its own user and reads its contract's variables, so `secrets_wrapper` exports each
named file as the variable of the same name right before it execs the image's own
entrypoint.

Who can read the server's files: they are uploaded owned by the image's user *and*
group (`SERVER_FILE_OWNER`, `SERVER_FILE_GROUP`) with mode 0440
(`SERVER_FILE_MODE`). The Docker provider documents both `owner` and `group` as
numeric ids used directly; the group bit means the files stay readable when only one
of the two is applied, and the image's process runs as `10001:10001` (docker/Dockerfile
`USER 10001:10001`). Should neither arrive, the wrapper stops before MLflow starts with
one line naming the file, its owner and mode and the reader's uid/gid, instead of an
empty variable and a misleading "DB_PASSWORD is not set".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

SECRETS_DIR = "/run/secrets"
"""Where secrets are uploaded as files: Docker's own convention (compose and swarm secrets)."""
IMAGE_ENTRYPOINT = "python -m mlflow_image"
"""The mlflow-server image's own ENTRYPOINT, exec'd by the secrets wrapper."""
SERVER_FILE_OWNER = "10001"
"""The mlflow-server image's user (docker/Dockerfile)."""
SERVER_FILE_GROUP = "10001"
"""The mlflow-server image's group (docker/Dockerfile `USER 10001:10001`)."""
SERVER_FILE_MODE = "0440"
"""Owner and group read, nobody else: readable when the engine applies either id."""
EXIT_CONFIG = 2
"""The wrapper's exit status on a missing or unreadable file: the image's own status for a
configuration error (docker/mlflow_image/entrypoint.py)."""

_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def secrets_wrapper(
    names: Sequence[str], directory: str = SECRETS_DIR, command: str = IMAGE_ENTRYPOINT
) -> str:
    """The `sh -c` script that loads `<directory>/<NAME>` into NAME for each of `names`,
    then execs `command` with the script's arguments.

    Each file must exist and be readable by the container's user: otherwise the script
    prints one line naming the file (with `ls -ln`'s owner and mode, and the reader's
    uid/gid) and exits with status 2, before the server starts. The value is read with an
    assignment of its own, whose status `set -e` sees (inside `export "N=$(cat f)"` it
    would not). Any character of a value survives (command substitution in double quotes
    is not split or globbed); only trailing newlines are dropped, and generated secrets
    have none. The names (environment variable names, never values) are part of the script.
    """
    for name in names:
        if not _NAME.match(name):
            raise ValueError(f"names: {name!r} is not an environment variable name")
    die = f'die() {{ echo "mlflow-server secrets: $*" >&2; exit {EXIT_CONFIG}; }}; '
    load = (
        "load() { "
        f'f="{directory}/$1"; '
        '[ -e "$f" ] || die "$f is missing"; '
        '{ [ -f "$f" ] && [ -r "$f" ]; } || '
        'die "$f is not readable by uid $(id -u) gid $(id -g): $(ls -ln "$f")"; '
        'v="$(cat "$f")" || die "$f could not be read"; '
        'export "$1=$v"; }; '
    )
    calls = "".join(f"load {name}; " for name in names)
    return f'set -eu; {die}{load}{calls}exec {command} "$@"'
