"""One vocabulary: the image's contract and every cloud's mappings agree with
`mlflow_iac/vocabulary.py`."""

from __future__ import annotations

import pytest
from mlflow_image import contract

from mlflow_iac import vocabulary
from mlflow_iac.aws import sizing


def test_image_contract_speaks_the_same_words() -> None:
    assert contract.ENGINES == vocabulary.ENGINES
    assert contract.AUTH_PERMISSIONS == vocabulary.PERMISSIONS
    assert set(contract.ARTIFACT_MODES) == set(vocabulary.ARTIFACT_MODE_BY_SCENARIO.values())
    assert vocabulary.DEFAULT_PERMISSION in vocabulary.PERMISSIONS


def test_scenario_sets_are_subsets_of_the_scenarios() -> None:
    assert set(vocabulary.CLOUD_SCENARIOS) <= set(vocabulary.SCENARIOS)
    assert set(vocabulary.DATABASE_SCENARIOS) <= set(vocabulary.SCENARIOS)
    assert set(vocabulary.ARTIFACT_MODE_BY_SCENARIO) == set(vocabulary.CLOUD_SCENARIOS)
    assert sorted(vocabulary.SCENARIOS.values()) == [3, 4, 5, 6]


def test_aws_maps_every_engine_and_size() -> None:
    assert set(sizing.DB_ENGINES) == set(vocabulary.ENGINES)
    assert set(sizing.DB_INSTANCE_CLASSES) == set(vocabulary.DB_SIZES)


def test_require_choice_names_key_value_and_choices() -> None:
    assert vocabulary.require_choice("db_engine", "mysql", vocabulary.ENGINES) == "mysql"
    with pytest.raises(ValueError, match=r"^db_engine: 'oracle' is not one of postgresql, mysql$"):
        vocabulary.require_choice("db_engine", "oracle", vocabulary.ENGINES)
