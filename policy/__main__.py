"""The policy pack's entry point: `pulumi preview --policy-pack policy` runs this file.

`PolicyPack(...)` starts the analyzer's gRPC server and serves until the engine stops
it, so nothing imports this module; the policies live in `policy/pack.py` and their
logic in `policy/rules/`.
"""

import sys
from pathlib import Path

# The engine runs this file with the pack's folder on sys.path; the rules import the
# `policy` package (this folder) and the image's contract from the project root.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "docker")]

from pulumi_policy import PolicyPack  # noqa: E402  # after the path set-up above

from policy.pack import DEFAULT_LEVEL, PACK_NAME, policies  # noqa: E402  # same reason

PolicyPack(name=PACK_NAME, policies=policies(), enforcement_level=DEFAULT_LEVEL)
