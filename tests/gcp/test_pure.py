"""GCP's pure logic without mocks: names, the run.app host, tiers, Cloud Run sizes, pool
budgets, IAM members and conditions, and the GCP config refusals of `parse_config`."""

from __future__ import annotations

import pytest

from mlflow_iac.gcp import iam, naming, sizing
from stacks.config import ConfigError, parse_config, provider_settings

GCP = {"gcp:project": "ml-platform-prod", "gcp:region": "europe-west1"}


# ---------------------------------------------------------------------------- naming


def test_cloud_run_name_is_stable_short_and_valid() -> None:
    name = naming.cloud_run_service_name("mlflow", "prod", "mlflow-server")
    assert name == "mlflow-prod-mlflow-server"
    assert naming.cloud_run_service_name("mlflow", "prod", "mlflow-server") == name
    long = naming.cloud_run_service_name(
        "a-very-long-project-name", "staging-eu-west", "mlflow-server"
    )
    assert len(long) <= naming.CLOUD_RUN_NAME_MAX and long[0].isalpha() and not long.endswith("-")
    assert long != naming.cloud_run_service_name(
        "a-very-long-project-name", "staging-eu-west-2", "mlflow-server"
    )
    assert naming.cloud_run_service_name("MLflow", "Dev_1", "x") == "mlflow-dev-1-x"
    assert naming.cloud_run_service_name("1proj", "s", "x").startswith("m-1proj")


def test_run_app_host_is_the_documented_deterministic_form() -> None:
    assert (
        naming.run_app_host("mlflow-prod-mlflow-server", "123456789012", "europe-west1")
        == "mlflow-prod-mlflow-server-123456789012.europe-west1.run.app"
    )
    # The longest service name still gives a DNS label within 63 characters.
    label = naming.run_app_host("a" * 49, "123456789012", "us-central1").split(".")[0]
    assert len(label) <= 63
    for bad in (("Bad_Name", "1", "us-central1"), ("ok", "12a", "us-central1"), ("ok", "1", "eu")):
        with pytest.raises(ValueError):
            naming.run_app_host(*bad)


def test_account_ids_fit_gcp_rules_and_differ_per_stack_and_role() -> None:
    server = naming.account_id("mlflow", "prod", "mlflow-identity", "server")
    client = naming.account_id("mlflow", "prod", "mlflow-identity", "client")
    other = naming.account_id("mlflow", "dev", "mlflow-identity", "server")
    assert server.startswith("server-") and client.startswith("client-")
    assert len({server, client, other}) == 3
    assert all(naming.ACCOUNT_ID_PATTERN.match(a) for a in (server, client, other))


def test_secret_ids_and_socket_and_registry() -> None:
    assert (
        naming.secret_id("mlflow", "prod", "mlflow-db-password") == "mlflow-prod-mlflow-db-password"
    )
    assert naming.socket_host("p:europe-west1:db") == "/cloudsql/p:europe-west1:db"
    with pytest.raises(ValueError, match="connection_name"):
        naming.socket_host("just-a-name")
    assert (
        naming.image_repository_url("europe-west1", "p", "repo")
        == "europe-west1-docker.pkg.dev/p/repo"
    )


def test_labels_accept_gcp_shapes_and_name_the_bad_tag() -> None:
    assert naming.labels({"team": "ml", "cost-center": "r_d-1"}) == {
        "team": "ml",
        "cost-center": "r_d-1",
    }
    with pytest.raises(ValueError, match="'Team'"):
        naming.labels({"Team": "ml"})
    with pytest.raises(ValueError, match="'ML Platform'"):
        naming.labels({"team": "ML Platform"})


# ---------------------------------------------------------------------------- sizing


def test_versions_tiers_and_flags() -> None:
    assert sizing.database_version("postgresql") == "POSTGRES_16"
    assert sizing.database_version("mysql") == "MYSQL_8_4"
    assert [sizing.db_tier(s) for s in ("small", "medium", "large")] == [
        "db-custom-1-3840",
        "db-custom-2-7680",
        "db-custom-4-15360",
    ]
    assert sizing.db_flags("postgresql", "db-custom-2-7680") == {"max_connections": "400"}
    assert [sizing.db_max_connections(sizing.db_tier(s)) for s in ("small", "large")] == [200, 800]
    assert sizing.db_max_connections("db-n1-highmem-4") == 1386
    assert sizing.db_max_connections("db-custom-96-638976") == sizing.MAX_CONNECTIONS_CAP
    with pytest.raises(ValueError, match="engine: 'oracle'"):
        sizing.database_version("oracle")
    with pytest.raises(ValueError, match="size: 'huge'"):
        sizing.db_tier("huge")


@pytest.mark.parametrize(
    ("engine", "tier", "problem"),
    [
        ("postgresql", "db-custom-2-7680", None),
        ("mysql", "db-custom-1-3840", None),
        ("mysql", "db-n1-standard-2", None),
        ("mysql", "db-n1-highmem-8", None),
        ("postgresql", "db-n1-standard-2", "db-n1 tiers are MySQL's only"),
        ("postgresql", "db-f1-micro", "shared-core tiers have no SLA"),
        ("mysql", "db-g1-small", "shared-core tiers have no SLA"),
        ("postgresql", "db-custom-3-7680", "CPUS 1 or an even number"),
        ("postgresql", "db-custom-2-3000", "from 3840 to 13312"),
        ("postgresql", "db-custom-2-7000", "multiple of 256"),
        ("postgresql", "db-custom-1-8192", "to 6656"),
        ("mysql", "db-n1-standard-3", "db-custom-CPUS-MB (e.g."),
        ("postgresql", "db-perf-optimized-N-8", "db-custom-CPUS-MB (e.g."),
    ],
)
def test_tiers_the_engine_has(engine: str, tier: str, problem: str | None) -> None:
    found = sizing.tier_problem(engine, tier)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
        with pytest.raises(ValueError, match=r"^tier: "):
            sizing.db_flags(engine, tier)


def test_cloud_run_memory_ranges() -> None:
    assert sizing.cloud_run_memory_range(1.0) == (512, 4096)
    assert sizing.cloud_run_memory_range(4.0) == (2048, 16384)
    with pytest.raises(ValueError, match=r"cpu: 0\.5"):
        sizing.cloud_run_memory_range(0.5)


@pytest.mark.parametrize("engines", [3, 4])
def test_pools_fit_the_connection_limit_at_max_instances(engines: int) -> None:
    for tier in (*sizing.DB_TIERS.values(), "db-n1-standard-1"):
        for instances in (1, 4, 10, 30):
            workers = 2
            try:
                pool, overflow = sizing.db_pool_settings(tier, instances, workers, engines)
            except ValueError:
                assert instances > sizing.max_instances_that_fit(tier, workers, engines)
                continue
            total = instances * workers * engines * (pool + overflow)
            assert total <= sizing.db_connection_budget(tier) < sizing.db_max_connections(tier)
            assert pool >= 2 and pool + overflow <= 30


def test_pool_budget_counts_every_engine() -> None:
    # db-custom-1-3840: 200 connections, 180 after the reserve. One instance of 2 workers
    # with 4 engines (tracking, registry, jobs, auth): 180 // 8 = 22 per engine.
    assert sizing.db_pool_settings("db-custom-1-3840", 1, 2, 4) == (7, 15)
    assert sizing.db_pool_settings("db-custom-1-3840", 4, 2, 4) == (2, 3)  # 180 // 32 = 5
    with pytest.raises(ValueError, match=r"x 4 database engines .* allowed: 4 or fewer$"):
        sizing.db_pool_settings("db-custom-1-3840", 5, 2, 4)
    assert sizing.max_instances_that_fit("db-custom-1-3840", 2, 3) == 6  # no auth: 180 // 30


def test_transaction_logs_at_most_seven_days() -> None:
    assert sizing.transaction_log_days(3) == 3
    assert sizing.transaction_log_days(35) == 7


# ---------------------------------------------------------------------------- iam


def test_members_and_condition() -> None:
    assert iam.service_account_member("a@p.iam.gserviceaccount.com") == (
        "serviceAccount:a@p.iam.gserviceaccount.com"
    )
    assert iam.check_members("m", ["user:ana@example.com", "group:ml@example.com"])
    assert iam.iap_service_agent("42") == (
        "serviceAccount:service-42@gcp-sa-iap.iam.gserviceaccount.com"
    )
    for bad in ("allUsers", "allAuthenticatedUsers", "ana@example.com"):
        with pytest.raises(ValueError, match="not an IAM principal"):
            iam.check_members("client_members", [bad])
    expression = iam.cloud_sql_condition_expression("p", "db-1")
    assert 'resource.name == "projects/p/instances/db-1"' in expression
    assert 'resource.type == "sqladmin.googleapis.com/Instance"' in expression


# ---------------------------------------------------------------------------- config


def test_provider_settings_prefer_config_then_environment() -> None:
    def gcp(settings: dict[str, str]) -> dict[str, str]:
        return {k: v for k, v in settings.items() if k.startswith("gcp:")}

    env = {"GOOGLE_CLOUD_PROJECT": "from-env-1", "CLOUDSDK_COMPUTE_REGION": "us-east4"}
    assert gcp(provider_settings({}, env)) == {
        "gcp:project": "from-env-1",
        "gcp:region": "us-east4",
    }
    assert provider_settings({"gcp:project": "from-config"}, env)["gcp:project"] == "from-config"
    assert gcp(provider_settings({}, {})) == {"gcp:project": "", "gcp:region": ""}


def test_gcp_config_parses_keys() -> None:
    config = parse_config(
        {
            "cloud": "gcp",
            "scenario": "direct",
            "dbPrivateIp": "true",
            "clientMembers": '["group:ml@example.com"]',
            "clientAccessKey": "true",
            "kmsKeyName": "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
        },
        provider=GCP,
    )
    assert config.gcp is not None
    assert config.gcp.project == "ml-platform-prod" and config.gcp.region == "europe-west1"
    assert config.gcp.db_private_ip and config.gcp.client_members == ("group:ml@example.com",)
    assert config.artifacts.create_client_access_key


REFUSALS = [
    ({}, {}, "gcp:project: unset"),
    ({}, {"gcp:project": "Bad_Project"}, "gcp:project: 'Bad_Project'"),
    ({}, {"gcp:project": "ml-platform-prod"}, "gcp:region: unset"),
    ({}, {**GCP, "gcp:region": "europe-west1-b"}, "gcp:region: 'europe-west1-b'"),
    ({}, {**GCP, "gcp:region": "eu"}, "gcp:region: 'eu'"),
    ({"serverCpu": "0.5", "serverMemoryMb": "1024"}, GCP, "mlflow:serverCpu"),
    ({"serverMemoryMb": "8192"}, GCP, "mlflow:serverMemoryMb"),
    ({"replicas": "3", "minReplicas": "1"}, GCP, "mlflow:replicas"),
    ({"tags": '{"Team": "ml"}'}, GCP, "mlflow:tags"),
    ({"scenario": "artifacts-only", "dbPrivateIp": "true"}, GCP, "mlflow:dbPrivateIp"),
    ({"clientMembers": '["group:ml@example.com"]'}, GCP, "mlflow:clientMembers"),
    ({"scenario": "direct", "clientMembers": '["allUsers"]'}, GCP, "mlflow:clientMembers"),
    ({"kmsKeyName": "my-key"}, GCP, "mlflow:kmsKeyName"),
    ({"iapMembers": "[]"}, GCP, "mlflow:iapMembers"),
    ({"iapMembers": '["allAuthenticatedUsers"]'}, GCP, "mlflow:iapMembers"),
    ({"dbTier": "custom-2-7680"}, GCP, "mlflow:dbTier"),
    ({"dbTier": "db-custom-2-7680", "dbSize": "large"}, GCP, "mlflow:dbTier"),
    ({"scenario": "artifacts-only", "dbTier": "db-custom-2-7680"}, GCP, "mlflow:dbTier"),
    ({"allowedCidrs": '["10.0.0.0/8"]'}, GCP, "mlflow:allowedCidrs"),
    ({"logRetentionDays": "30"}, GCP, "mlflow:logRetentionDays"),
    ({"vpcId": "vpc-0123456789abcdef0"}, GCP, "mlflow:vpcId"),
    ({"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/k"}, GCP, "mlflow:kmsKeyArn"),
]


@pytest.mark.parametrize(("extra", "provider", "message"), REFUSALS)
def test_gcp_refusals_name_the_key(
    extra: dict[str, str], provider: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"cloud": "gcp", **extra}, provider=provider)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


GCP_ONLY = {
    "dbPrivateIp": "true",
    "dbTier": "x",
    "clientMembers": "[]",
    "iapMembers": "[]",
    "kmsKeyName": "x",
}


@pytest.mark.parametrize("key", sorted(GCP_ONLY))
def test_gcp_keys_are_refused_on_other_clouds(key: str) -> None:
    value = GCP_ONLY[key]
    with pytest.raises(ConfigError, match=f"mlflow:{key}: .*applies to cloud 'gcp'"):
        parse_config({"cloud": "aws", key: value})
