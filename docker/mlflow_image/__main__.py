"""`python -m mlflow_image [migrate] [extra mlflow server args]`: the image's entrypoint."""

import sys

from mlflow_image.entrypoint import main

if __name__ == "__main__":
    sys.exit(main())
