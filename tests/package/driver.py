"""Run one example program under Pulumi's mocks inside the fresh virtualenv of
`test_examples.py`, and print what it did as JSON on the last line.

This file is copied beside copies of `tests/harness.py` and the AWS mock tables
(`tests/aws/conftest.py`): the repository itself is never on `sys.path` here, so
`mlflow_iac` can only come from the installed wheel.

usage: python -I driver.py <example dir> <config as JSON> <secret keys as JSON>
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I left the script's folder out
# The AWS mock tables live in a pytest conftest; this venv has no pytest, so a stand-in
# for the one decorator the module applies lets it import.
stand_in = types.ModuleType("pytest")
setattr(stand_in, "fixture", lambda **_: lambda f: f)  # noqa: B010  # ModuleType declares no attributes
sys.modules["pytest"] = stand_in

from tests import harness  # noqa: E402  # after the path and the stand-in above
from tests.aws import conftest as aws_mocks  # noqa: E402

example, config, secret_keys = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
harness.OUTPUTS.update(aws_mocks.AWS_OUTPUTS)
harness.INVOKES.update(aws_mocks.AWS_INVOKES)
os.environ["AWS_REGION"] = aws_mocks.REGION
os.chdir(example)  # Pulumi runs a program in its own folder


def program() -> None:
    """The example's __main__.py, run as the Pulumi language host runs it."""
    runpy.run_path(str(example / "__main__.py"), run_name="__main__")


result = harness.run_program(
    program,
    config=config,
    secret_keys=tuple(secret_keys),
)

import mlflow_iac  # noqa: E402  # already loaded by the example; asked where from
from mlflow_iac.image import default_context  # noqa: E402

print(
    json.dumps(
        {
            "mlflow_iac": mlflow_iac.__file__,
            "version": mlflow_iac.__version__,
            "default_context": str(default_context()),
            "modules": sorted(m for m in sys.modules if m.startswith("pulumi_")),
            "resources": [
                {"type": r.type, "name": r.name, "inputs": r.inputs} for r in result.mocks.resources
            ],
            "outputs": sorted(result.outputs),
            "secret_outputs": sorted(result.secret_outputs),
        },
        default=str,
    )
)
