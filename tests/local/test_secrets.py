"""The server's secrets wrapper, run by a real `sh` as an unprivileged user.

The wrapper is the script the local stack gives the mlflow-server container as its
entrypoint (`mlflow_iac.local.secrets.secrets_wrapper`). Root reads every file, so the
unreadable cases run as another user: `runuser -u pgtest` when the tests run as root
(`tests.services.SERVICE_USER`), or the current user otherwise. The files sit in a
directory under /tmp that user can reach.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlflow_iac.local.secrets import (
    EXIT_CONFIG,
    SERVER_FILE_MODE,
    secrets_wrapper,
)
from tests import services

TRICKY = "p@ss'w\"o$rd `id` ; & | \\ * ? ~ é 🙂 %s -n"


@pytest.fixture(autouse=True)
def posix_sh() -> None:
    """The wrapper runs under sh: without one the tests cannot run (a failure in CI)."""
    if shutil.which("sh") is None:
        services.unavailable("a POSIX sh")


def reader() -> tuple[str | None, int, int]:
    """(user to run as or None for the current one, its uid, its gid)."""
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(services.SERVICE_USER)
    except KeyError:
        services.unavailable(f"user {services.SERVICE_USER} (tests/install_services.sh)")
        raise
    return services.SERVICE_USER, entry.pw_uid, entry.pw_gid


@pytest.fixture
def secrets_dir() -> Iterator[Path]:
    """An empty directory the reader can list and enter, but not write."""
    path = Path(services._owned_tmpdir("e2e-secrets-", None))  # owned by us, mode 0755
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def put(directory: Path, name: str, value: str, owner: tuple[int, int], mode: int) -> Path:
    """A secret file as the engine would leave it: given owner and mode."""
    path = directory / name
    path.write_text(value)
    if os.geteuid() == 0:
        os.chown(path, *owner)
    path.chmod(mode)
    return path


def run_wrapper(directory: Path, names: list[str], *args: str) -> subprocess.CompletedProcess:
    """The wrapper with `env` as the image's entrypoint, as the reader, like the container."""
    user, _, _ = reader()
    script = secrets_wrapper(names, str(directory), "env")
    cmd = ["sh", "-c", script, "mlflow-server", *args]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], "KEEP": "1", "LC_ALL": "C.UTF-8"},
        check=False,
    )


def environment(out: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


MODE = int(SERVER_FILE_MODE, 8)


def test_owned_files_are_exported_verbatim(secrets_dir: Path) -> None:
    _, uid, gid = reader()
    put(secrets_dir, "DB_PASSWORD", TRICKY, (uid, gid), MODE)
    put(secrets_dir, "AUTH_PASSWORD", "with-trailing-newline\n", (uid, gid), MODE)
    done = run_wrapper(secrets_dir, ["AUTH_PASSWORD", "DB_PASSWORD"])
    assert done.returncode == 0, done.stderr
    env = environment(done.stdout)
    assert env["DB_PASSWORD"] == TRICKY
    assert env["AUTH_PASSWORD"] == "with-trailing-newline"
    assert env["KEEP"] == "1"
    assert not {"f", "v"} & set(env)  # the wrapper's own variables are not exported


def test_group_readable_files_work_when_the_engine_ignores_the_owner(secrets_dir: Path) -> None:
    if os.geteuid() != 0:
        services.unavailable("root, to give a file away (CI runs as root)")
    # The provider applied the group but not the owner: root-owned, the image's group.
    _, _, gid = reader()
    put(secrets_dir, "DB_PASSWORD", "group-can-read", (0, gid), MODE)
    done = run_wrapper(secrets_dir, ["DB_PASSWORD"])
    assert done.returncode == 0, done.stderr
    assert environment(done.stdout)["DB_PASSWORD"] == "group-can-read"


def test_a_missing_file_stops_the_server_and_names_the_file(secrets_dir: Path) -> None:
    _, uid, gid = reader()
    put(secrets_dir, "AUTH_PASSWORD", "present", (uid, gid), MODE)
    done = run_wrapper(secrets_dir, ["AUTH_PASSWORD", "DB_PASSWORD"])
    assert done.returncode == EXIT_CONFIG
    assert done.stderr == f"mlflow-server secrets: {secrets_dir}/DB_PASSWORD is missing\n"
    assert done.stdout == ""  # the entrypoint (`env`) never ran


def test_an_unreadable_file_stops_the_server_and_names_file_owner_and_reader(
    secrets_dir: Path,
) -> None:
    # What a provider that ignores owner and group would leave: root's, 0400. Without root,
    # a 0000 file of our own stands in (the current user cannot read it either).
    _, uid, gid = reader()
    owner = (0, 0) if os.geteuid() == 0 else (uid, gid)
    put(secrets_dir, "DB_PASSWORD", "hidden", owner, 0o400 if os.geteuid() == 0 else 0)
    done = run_wrapper(secrets_dir, ["DB_PASSWORD"])
    assert done.returncode == EXIT_CONFIG
    line = done.stderr.strip()
    assert line.startswith(
        f"mlflow-server secrets: {secrets_dir}/DB_PASSWORD is not readable by uid {uid} gid {gid}: "
    )
    # `ls -ln`: the mode and the numeric owner the reader would need to fix.
    listing = line.split(f"gid {gid}: ", 1)[1]
    expected = "-r-------- 1 0 0 " if os.geteuid() == 0 else f"---------- 1 {uid} {gid} "
    assert listing.startswith(expected) and listing.endswith(f"{secrets_dir}/DB_PASSWORD")
    assert done.stdout == "" and "hidden" not in done.stderr


def test_a_directory_in_place_of_a_file_is_refused(secrets_dir: Path) -> None:
    (secrets_dir / "DB_PASSWORD").mkdir()
    done = run_wrapper(secrets_dir, ["DB_PASSWORD"])
    assert done.returncode == EXIT_CONFIG
    assert "DB_PASSWORD is not readable" in done.stderr


def test_arguments_pass_through_and_no_secrets_is_fine(secrets_dir: Path) -> None:
    user, _, _ = reader()
    script = secrets_wrapper([], str(secrets_dir), "printf '%s|'")
    cmd = ["sh", "-c", script, "mlflow-server", "--a b", "c"]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    assert (done.returncode, done.stdout) == (0, "--a b|c|")


def test_the_old_wrapper_form_hid_the_failure(secrets_dir: Path) -> None:
    # Why the value is read with an assignment of its own: `export "N=$(cat f)"` returns
    # export's status, so `set -e` never sees cat fail and N is exported empty.
    _, uid, gid = reader()
    owner = (0, 0) if os.geteuid() == 0 else (uid, gid)
    path = put(secrets_dir, "DB_PASSWORD", "hidden", owner, 0o400 if os.geteuid() == 0 else 0)
    user, _, _ = reader()
    old = f'set -eu; export "DB_PASSWORD=$(cat {path})"; env'
    cmd = ["sh", "-c", old] if not user else ["runuser", "-u", user, "--", "sh", "-c", old]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and environment(done.stdout)["DB_PASSWORD"] == ""


def test_names_must_be_variable_names() -> None:
    with pytest.raises(ValueError, match=r"^names: 'db-password' is not an environment"):
        secrets_wrapper(["db-password"])
