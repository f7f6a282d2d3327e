"""`Service`: the mlflow-server image on ECS Fargate behind an Application Load Balancer."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build
import pulumi_random as random
from pulumi_aws import (
    acm,
    appautoscaling,
    cloudfront,
    cloudwatch,
    ecr,
    ecs,
    iam,
    lb,
    secretsmanager,
)

from mlflow_iac.aws.bucket import AccessLogBucket
from mlflow_iac.aws.iam import check_kms_key_arn, read_secrets_policy, service_assume_role_policy
from mlflow_iac.aws.naming import physical_name
from mlflow_iac.aws.sizing import (
    DB_ENGINES,
    DB_INSTANCE_CLASSES,
    FARGATE_CPU,
    db_pool_settings,
    fargate_memory_sizes,
    server_workers,
)
from mlflow_iac.db_pool import server_engines
from mlflow_iac.environment import (
    DEFAULT_PORT,
    DatabaseEndpoint,
    ServerEnvironment,
    server_environment,
)
from mlflow_iac.image import build_context, context_digest
from mlflow_iac.limits import (
    DEFAULT_SHUTDOWN_SECONDS,
    FARGATE_STOP_TIMEOUT_MAX,
    SPOOL_DIR,
    fargate_spool_mb,
    stop_timeout_seconds,
    upload_limit_problem,
)

CONTAINER_NAME = "mlflow"
EXECUTION_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
"""AWS-managed: ECR pull and CloudWatch Logs writes, nothing else (secrets are added per ARN)."""
IDLE_TIMEOUT_SECONDS = 300
"""ALB idle timeout: a large artifact upload through the proxy may pause this long; the image's
SERVER_KEEP_ALIVE_SECONDS (650) stays above it, so the ALB never reuses a closed connection."""
CPU_TARGET_PERCENT = 60.0
"""Target-tracking: add tasks when the average CPU goes above this."""
HEALTH_GRACE_SECONDS = 600
"""The first task on an empty database runs every migration before it serves /health."""
ORIGIN_HEADER = "X-Origin-Verify"
"""Header CloudFront adds with a generated value; the load balancer forwards only requests
carrying it (the prefix list admits every CloudFront distribution, not only ours)."""
ORIGIN_READ_TIMEOUT_SECONDS = 60
"""CloudFront's origin response timeout: the most it allows without a quota increase (the
wait for the first byte after the request, and between packets)."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only."""
HEALTH_COMMAND = (
    "import os, urllib.request; urllib.request.urlopen("
    "'http://127.0.0.1:%s/health' % os.environ.get('PORT', '5000'), timeout=4)"
)
"""The image's own HEALTHCHECK (python: the slim base image has no curl)."""
IMAGE_USER = "10001:10001"
"""The image's own non-root user, stated so that ECS never runs it as another."""
TASK_VOLUMES = {"tmp": "/tmp", "spool": SPOOL_DIR}
"""Task volume name -> container path: the only writable places of the read-only container
(/tmp for Python and the entrypoint's private files; the spool for proxied uploads)."""
SECRET_SUFFIXES = {
    "AUTH_PASSWORD": "admin-password",
    "MLFLOW_FLASK_SERVER_SECRET_KEY": "flask-secret-key",
}


class ServiceArgs(TypedDict, total=False):
    """Inputs of `Service`. Fields that decide which resources exist are plain values."""

    scenario: Required[str]
    """direct, proxied or artifacts-only. Required."""
    artifact_url: Required[pulumi.Input[str]]
    """s3://bucket of the artifacts. Required."""
    database: DatabaseEndpoint | None
    """The backend store (direct, proxied); None for artifacts-only."""
    auth_database: DatabaseEndpoint | None
    """artifacts-only with auth: the PostgreSQL database of the basic-auth tables (reaches
    the container as the secret AUTH_DATABASE_URL)."""
    database_password_value_from: pulumi.Input[str] | None
    """ECS `valueFrom` of the database password (`<secret arn>:password::`); with `database`."""
    database_secret_arn: pulumi.Input[str] | None
    """ARN of that secret: the execution role may read it; with `database`."""
    database_size: str | None
    """small, medium or large: the size of the `Database` the servers connect to (`database`,
    else `auth_database`), whose connection limit their pools are budgeted against at
    `max_replicas`, counting every engine a worker opens there
    (MLFLOW_SQLALCHEMYSTORE_POOL_SIZE / _MAX_OVERFLOW, see `sizing.db_pool_settings`). None:
    the image's defaults (10 + 20 per worker and engine), unbudgeted."""
    auth_enabled: bool
    """Run MLflow's basic-auth app. Default False."""
    admin_username: str
    """The basic-auth admin user. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (secret): stored in Secrets Manager; required with auth."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    domain: str | None
    """Custom domain: an ACM certificate (DNS validation), HTTPS, HTTP redirected to HTTPS.
    Without one, CloudFront (its default certificate) serves HTTPS in front of the load
    balancer, unless `public_http`."""
    public_http: bool
    """Without a domain: no CloudFront, plain HTTP on the load balancer (passwords cross the
    network in clear). Not with `domain`. Default False."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts (beyond the ALB name and the domain)."""
    vpc_id: Required[pulumi.Input[str]]
    """VPC of the target group. Required."""
    public_subnet_ids: Required[pulumi.Input[Sequence[str]]]
    """Subnets of the load balancer. Required."""
    private_subnet_ids: Required[pulumi.Input[Sequence[str]]]
    """Subnets of the tasks (no public IP). Required."""
    load_balancer_security_group_id: Required[pulumi.Input[str]]
    """Security group of the load balancer. Required."""
    service_security_group_id: Required[pulumi.Input[str]]
    """Security group of the tasks. Required."""
    task_role_arn: Required[pulumi.Input[str]]
    """Role the containers run as (bucket access, from `Identity`). Required."""
    replicas: int
    """Tasks at deploy time. Default 2."""
    min_replicas: int
    """Autoscaling lower bound. Default `replicas`."""
    max_replicas: int
    """Autoscaling upper bound. Default max(4, replicas)."""
    cpu: float
    """vCPU per task: 0.25, 0.5, 1, 2 or 4. Default 1."""
    memory_mb: int
    """Memory per task in MB (Fargate's ranges per cpu). Default 2048."""
    ephemeral_storage_gib: int | None
    """The task's ephemeral storage, 21 to 200 GiB; None: Fargate's default 20 GiB. The
    spool (a task volume at /spool) gets it less 2 GiB (the image, /tmp)."""
    max_upload_mb: int | None
    """Largest proxied upload in MB (ARTIFACT_MAX_UPLOAD_MB): the image refuses to start
    when the spool cannot hold it; refused here first. None: no check (and none with
    direct, where nothing is spooled)."""
    log_retention_days: int
    """CloudWatch log retention. Default 30."""
    image_context: str
    """Docker build context of the mlflow-server image, built and pushed to a new ECR repository.
    Default: the context packaged with mlflow-iac (`mlflow_iac.image.default_context()`).
    Not with `image`."""
    image: str | None
    """A prebuilt image reference instead (no ECR repository, no build)."""
    deletion_protection: bool
    """Destroy refuses to delete the ECR repository while it holds images (no
    `force_delete`), the load balancer (ALB deletion protection) and the access-log bucket.
    Default True."""
    access_logs: bool
    """The load balancer's access logs to a new bucket (`AccessLogBucket`). Default True."""
    access_log_days: int
    """Days the access logs are kept. Default `log_retention_days`."""
    kms_key_arn: str | None
    """Customer-managed KMS key (key ARN) of the secrets, the log group and the ECR
    repository; None: AWS-managed keys. Its key policy must let CloudWatch Logs use it
    (README, AWS: KMS)."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Service(pulumi.ComponentResource):
    """The MLflow server: the project's image on ECS Fargate behind an Application Load Balancer.

    The container environment comes from `mlflow_iac.environment.server_environment`: its
    plain part is the task's `environment`; every secret value goes to Secrets Manager (one
    secret each; the database password is the `Database`'s own secret) and reaches the
    container through ECS `secrets` / `valueFrom`, read by the execution role, whose policy
    names exactly those secrets.

    Migrations: the image's entrypoint takes a database advisory lock, migrates, then
    serves, so replicas starting together never race and a rolling deployment migrates
    before its first new task turns healthy. A one-shot migration task would need a
    run-task hook between the task definition and the service update, which Pulumi does
    not offer. The grace period (600 s) covers a first migration of an empty database.

    Children: Repository, LifecyclePolicy, Image (docker-build) when building; LogGroup,
    Cluster, RandomPassword (Flask key), Secret + SecretVersion per secret, Role +
    RolePolicyAttachment + RolePolicy (execution), TaskDefinition, `AccessLogBucket`
    (with access logs), LoadBalancer,
    TargetGroup, Listener x1-2, Certificate + CertificateValidation (domain),
    Service (ECS), Target + Policy (autoscaling).
    """

    url: pulumi.Output[str]
    """Tracking URI: https://<domain> with a domain, else http://<load balancer DNS name>."""
    load_balancer_dns_name: pulumi.Output[str]
    """DNS name of the load balancer (point the domain's CNAME/alias here)."""
    admin_password_secret_arn: pulumi.Output[str | None]
    """Secrets Manager ARN of the admin password (with auth)."""
    flask_secret_key_secret_arn: pulumi.Output[str | None]
    """Secrets Manager ARN of the Flask session key (with auth)."""
    certificate_validation_records: pulumi.Output[list[dict[str, str]]]
    """DNS records (name, type, value) validating the domain's certificate; [] without one."""
    cluster_name: pulumi.Output[str]
    """ECS cluster name."""
    service_name: pulumi.Output[str]
    """ECS service name."""
    image_ref: pulumi.Output[str]
    """The image the tasks run (repository@digest when built here)."""
    container_definitions: pulumi.Output[str]
    """The task definition's container definitions JSON."""

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        s = _validate(args)
        super().__init__("mlflow-aws:index:Service", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)
        # Not `_protect`: pulumi.Resource keeps Pulumi's own protect flag there, and every
        # child would inherit it (a protected task definition cannot be replaced by a new
        # image, a protected service not deleted).
        self._deletion_protection: bool = args.get("deletion_protection", True)
        self._kms_key_arn = args.get("kms_key_arn")
        self._ready: list[pulumi.Resource] = []
        """What tasks need in place before the first one starts (ECS would otherwise fail
        them with ResourceInitializationError)."""
        domain = args.get("domain")

        self.image_ref = self._image(name, args)
        # The load balancer first: its DNS name is one of the server's public host names.
        self.load_balancer, self.target_group = self._load_balancer(name, args, s)
        origin_secret = self._origin_secret(name) if s["cloudfront"] else None
        listeners, self.certificate_validation_records = self._listeners(
            name, domain, origin_secret
        )
        self.distribution = self._distribution(name, origin_secret) if origin_secret else None
        env = self._environment(name, args, s)
        value_from, secret_arns = self._secrets(name, args, env)
        self.execution_role = self._execution_role(name, secret_arns)
        self.container_definitions = self._container_definitions(name, s, env, value_from)
        self.task_definition = self._task_definition(name, args, s)
        self.service = self._ecs_service(name, args, s, listeners)
        self._autoscaling(name, s)

        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if domain:
            self.url = pulumi.Output.from_input(f"https://{domain}")
        elif self.distribution is not None:
            self.url = pulumi.Output.concat("https://", self.distribution.domain_name)
        else:
            self.url = pulumi.Output.concat("http://", self.load_balancer.dns_name)
        self.load_balancer_dns_name = self.load_balancer.dns_name
        admin = self.secrets.get("AUTH_PASSWORD")
        flask = self.secrets.get("MLFLOW_FLASK_SERVER_SECRET_KEY")
        self.admin_password_secret_arn = admin.arn if admin else none
        self.flask_secret_key_secret_arn = flask.arn if flask else none
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self.register_outputs({key: getattr(self, key) for key in type(self).__annotations__})

    def _image(self, name: str, args: ServiceArgs) -> pulumi.Output[str]:
        """The image the tasks run: the given reference, or one built here (`_build_image`)."""
        self.repository: ecr.Repository | None = None
        self.image: docker_build.Image | None = None
        if args.get("image"):
            return pulumi.Output.from_input(args.get("image") or "")
        return self._build_image(name, build_context(args.get("image_context")))

    def _load_balancer(
        self, name: str, args: ServiceArgs, s: dict[str, Any]
    ) -> tuple[lb.LoadBalancer, lb.TargetGroup]:
        """The internet-facing ALB (protected from deletion with the stack, logging to its
        `AccessLogBucket`, `_access_logs`) and the target group the tasks register in (by IP)."""
        access_logs = self._access_logs(name, s)
        after = [self.access_log_bucket.policy] if self.access_log_bucket else []
        load_balancer = lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[args["load_balancer_security_group_id"]],
            subnets=args["public_subnet_ids"],
            idle_timeout=IDLE_TIMEOUT_SECONDS,
            drop_invalid_header_fields=True,
            enable_deletion_protection=self._deletion_protection,
            access_logs=access_logs,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )
        target_group = lb.TargetGroup(
            f"{name}-tg",
            port=DEFAULT_PORT,
            protocol="HTTP",
            target_type="ip",  # Fargate tasks register by IP (awsvpc networking)
            vpc_id=args["vpc_id"],
            deregistration_delay=30,
            health_check={
                "path": "/health",
                "matcher": "200",
                "protocol": "HTTP",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags=self._tags,
            opts=self._child,
        )
        return load_balancer, target_group

    def _access_logs(
        self, name: str, s: dict[str, Any]
    ) -> lb.LoadBalancerAccessLogsArgsDict | None:
        """With access logs: their bucket (`self.access_log_bucket`), and the ALB's setting.
        The ALB must wait for the bucket's policy: ELB writes a test object when logging is
        turned on, and fails the update if it cannot."""
        self.access_log_bucket: AccessLogBucket | None = None
        if not s["access_logs"]:
            return None
        self.access_log_bucket = AccessLogBucket(
            f"{name}-access-logs",
            {
                "expiration_days": s["access_log_days"],
                "deletion_protection": self._deletion_protection,
                "tags": self._tags,
            },
            opts=self._child,
        )
        return {"bucket": self.access_log_bucket.name, "enabled": True}

    def _listeners(
        self, name: str, domain: str | None, origin_secret: pulumi.Output[str] | None
    ) -> tuple[list[pulumi.Resource], pulumi.Output[list[dict[str, str]]]]:
        """HTTP forwarding; with a domain, HTTPS (`_certificate`) and HTTP redirected to it;
        behind CloudFront, HTTP forwarding only what carries the origin header (`_origin_rule`).

        Returns the listeners (and rule) and the certificate's DNS validation records.
        """
        forward: lb.ListenerDefaultActionArgsDict = {
            "type": "forward",
            "target_group_arn": self.target_group.arn,
        }
        self.certificate: acm.Certificate | None = None
        listeners: list[pulumi.Resource] = []
        records: pulumi.Output[list[dict[str, str]]] = pulumi.Output.from_input([])
        http_action: lb.ListenerDefaultActionArgsDict = forward
        if domain:
            certificate_arn, records = self._certificate(name, domain)
            listeners.append(
                lb.Listener(
                    f"{name}-https",
                    load_balancer_arn=self.load_balancer.arn,
                    port=443,
                    protocol="HTTPS",
                    ssl_policy=TLS_POLICY,
                    certificate_arn=certificate_arn,
                    default_actions=[forward],
                    tags=self._tags,
                    opts=self._child,
                )
            )
            http_action = {
                "type": "redirect",
                "redirect": {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"},
            }
        if origin_secret is not None:
            http_action = {
                "type": "fixed-response",
                "fixed_response": {"content_type": "text/plain", "status_code": "403"},
            }
        http = lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[http_action],
            tags=self._tags,
            opts=self._child,
        )
        listeners.append(http)
        if origin_secret is not None:
            listeners.append(self._origin_rule(name, http, origin_secret))
        return listeners, records

    def _origin_secret(self, name: str) -> pulumi.Output[str]:
        """The value CloudFront sends in `ORIGIN_HEADER` (secret)."""
        secret = random.RandomPassword(
            f"{name}-origin-secret", length=40, special=False, opts=self._child
        )
        return pulumi.Output.secret(secret.result)

    def _origin_rule(
        self,
        name: str,
        listener: lb.Listener,
        origin_secret: pulumi.Output[str],
    ) -> lb.ListenerRule:
        """Forward to the tasks only requests that carry our distribution's origin header."""
        return lb.ListenerRule(
            f"{name}-from-cloudfront",
            listener_arn=listener.arn,
            priority=1,
            conditions=[
                {"http_header": {"http_header_name": ORIGIN_HEADER, "values": [origin_secret]}}
            ],
            actions=[
                {"type": "forward", "target_group_arn": self.target_group.arn},
            ],
            tags=self._tags,
            opts=self._child,
        )

    def _distribution(
        self, name: str, origin_secret: pulumi.Output[str]
    ) -> cloudfront.Distribution:
        """CloudFront with its default certificate: HTTPS without a domain of one's own.

        Nothing is cached (every request reaches MLflow, with all headers, cookies and query
        strings, Host and Authorization included); viewers on HTTP are redirected to HTTPS.
        CloudFront reaches the load balancer on HTTP (it has no certificate for the ALB's
        name), inside AWS's network, with the origin header.
        """
        return cloudfront.Distribution(
            f"{name}-cdn",
            enabled=True,
            comment=f"MLflow server {pulumi.get_project()}/{pulumi.get_stack()}",
            http_version="http2and3",
            is_ipv6_enabled=True,
            price_class="PriceClass_All",
            origins=[
                {
                    "origin_id": "alb",
                    "domain_name": self.load_balancer.dns_name,
                    "custom_origin_config": {
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "http-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                        "origin_read_timeout": ORIGIN_READ_TIMEOUT_SECONDS,
                        "origin_keepalive_timeout": 60,
                    },
                    "custom_headers": [{"name": ORIGIN_HEADER, "value": origin_secret}],
                }
            ],
            default_cache_behavior={
                "target_origin_id": "alb",
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cached_methods": ["GET", "HEAD"],
                "compress": False,  # artifacts are passed through byte for byte
                # Legacy forwarding of every header: caching off, Authorization and Host
                # reach MLflow (basic-auth, the Host check).
                "forwarded_values": {
                    "query_string": True,
                    "headers": ["*"],
                    "cookies": {"forward": "all"},
                },
                "min_ttl": 0,
                "default_ttl": 0,
                "max_ttl": 0,
            },
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={"cloudfront_default_certificate": True},
            tags=self._tags,
            opts=self._child,
        )

    def _certificate(
        self, name: str, domain: str
    ) -> tuple[pulumi.Output[str], pulumi.Output[list[dict[str, str]]]]:
        """The domain's ACM certificate: its validated ARN and its DNS validation records.

        DNS-validated: `pulumi up` waits (up to 75 min) until the validation record is in
        DNS. The records are logged (`pulumi.log.warn`) as soon as ACM has issued them, before
        the wait starts (the validation's ARN input waits on that log), since the
        certificateValidationRecords output appears only after the update.
        """
        self.certificate = acm.Certificate(
            f"{name}-cert",
            domain_name=domain,
            validation_method="DNS",
            tags=self._tags,
            opts=self._child,
        )
        records = self.certificate.domain_validation_options.apply(
            lambda options: [
                {
                    "name": o.resource_record_name or "",
                    "type": o.resource_record_type or "",
                    "value": o.resource_record_value or "",
                }
                for o in options
            ]
        )
        certificate = self.certificate
        announced = records.apply(
            lambda found: _announce_validation_records(domain, found, certificate)
        )
        validation = acm.CertificateValidation(
            f"{name}-cert-validation",
            # The same ARN, known only once the records are logged: the wait starts after.
            certificate_arn=pulumi.Output.all(certificate.arn, announced).apply(
                lambda values: values[0]
            ),
            opts=self._child,
        )
        return validation.certificate_arn, records

    def _environment(self, name: str, args: ServiceArgs, s: dict[str, Any]) -> ServerEnvironment:
        """The container environment from the image's contract (and, with auth, the Flask key)."""
        self.flask_secret_key: random.RandomPassword | None = None
        flask_key: pulumi.Output[str] | None = None
        if s["auth_enabled"]:
            # One key for every task: a session or CSRF token made by one replica is valid
            # on all of them.
            self.flask_secret_key = random.RandomPassword(
                f"{name}-flask-key", length=48, special=False, opts=self._child
            )
            flask_key = pulumi.Output.secret(self.flask_secret_key.result)
        return server_environment(
            scenario=s["scenario"],
            artifact_url=args["artifact_url"],
            database=args.get("database"),
            auth_enabled=s["auth_enabled"],
            admin_username=args.get("admin_username", "admin"),
            admin_password=args.get("admin_password"),
            flask_secret_key=flask_key,
            default_permission=args.get("default_permission", "NO_PERMISSIONS"),
            public_hostnames=[
                self.load_balancer.dns_name,
                args.get("domain") or "",
                *([self.distribution.domain_name] if self.distribution else []),
                *s["allowed_hosts"],
            ],
            port=DEFAULT_PORT,
            workers=s["workers"],
            shutdown_seconds=DEFAULT_SHUTDOWN_SECONDS,
            spool_dir=SPOOL_DIR if s["spool"] else None,
            max_upload_mb=args.get("max_upload_mb"),
            extra_plain=_pool_environment(s["db_pool"]),
            auth_database=args.get("auth_database"),
        )

    def _secrets(
        self, name: str, args: ServiceArgs, env: ServerEnvironment
    ) -> tuple[dict[str, pulumi.Input[str]], list[pulumi.Input[str]]]:
        """One Secrets Manager secret per secret value, except the database's own.

        Returns each variable's ECS `valueFrom` and the ARNs the execution role may read.
        """
        value_from: dict[str, pulumi.Input[str]] = {}
        secret_arns: list[pulumi.Input[str]] = []
        self.secrets: dict[str, secretsmanager.Secret] = {}
        for variable, value in sorted(env.secrets.items()):
            if variable == "DB_PASSWORD":
                value_from[variable] = args.get("database_password_value_from") or ""
                secret_arns.append(args.get("database_secret_arn") or "")
                continue
            suffix = SECRET_SUFFIXES.get(variable, variable.lower().replace("_", "-"))
            secret = secretsmanager.Secret(
                f"{name}-{suffix}",
                description=f"MLflow server: {variable}",
                kms_key_id=self._kms_key_arn,  # None: aws/secretsmanager
                tags=self._tags,
                opts=self._child,
            )
            version = secretsmanager.SecretVersion(
                f"{name}-{suffix}",
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(value),
                opts=self._child,
            )
            self.secrets[variable] = secret
            self._ready.append(version)  # valueFrom needs the value, not only the secret
            value_from[variable] = secret.arn
            secret_arns.append(secret.arn)
        return value_from, secret_arns

    def _execution_role(self, name: str, secret_arns: list[pulumi.Input[str]]) -> iam.Role:
        """The role of the ECS agent: pulls the image, writes logs, reads exactly the secrets."""
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self))
        role = iam.Role(
            f"{name}-execution",
            description="MLflow server: ECS agent (image pull, logs, container secrets)",
            assume_role_policy=account_id.account_id.apply(
                lambda account: json.dumps(
                    service_assume_role_policy("ecs-tasks.amazonaws.com", account)
                )
            ),
            tags=self._tags,
            opts=self._child,
        )
        attachment = iam.RolePolicyAttachment(
            f"{name}-execution",
            role=role.name,
            policy_arn=EXECUTION_POLICY_ARN,
            opts=self._child,
        )
        self._ready.append(attachment)
        if secret_arns:
            region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
            key = self._kms_key_arn
            grant = iam.RolePolicy(
                f"{name}-execution-secrets",
                role=role.id,
                policy=pulumi.Output.all(region, *secret_arns).apply(
                    lambda values: json.dumps(read_secrets_policy(values[1:], key, values[0]))
                ),
                opts=self._child,
            )
            self._ready.append(grant)
        return role

    def _container_definitions(
        self,
        name: str,
        s: dict[str, Any],
        env: ServerEnvironment,
        value_from: dict[str, pulumi.Input[str]],
    ) -> pulumi.Output[str]:
        """The log group, and the one container: image, port, environment, secrets, logs,
        health check; read-only root filesystem as the image's user, with task volumes
        (`TASK_VOLUMES`) for /tmp and the spool; a stop timeout above the shutdown bound."""
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        self.log_group = cloudwatch.LogGroup(
            f"{name}-logs",
            retention_in_days=s["log_retention_days"],
            # The key policy must admit logs.<region>.amazonaws.com (README, AWS: KMS).
            kms_key_id=self._kms_key_arn,
            tags=self._tags,
            opts=self._child,
        )
        container = {
            "name": CONTAINER_NAME,
            "image": self.image_ref,
            "essential": True,
            "portMappings": [
                {"containerPort": DEFAULT_PORT, "hostPort": DEFAULT_PORT, "protocol": "tcp"}
            ],
            "environment": [{"name": k, "value": env.plain[k]} for k in sorted(env.plain)],
            "secrets": [{"name": k, "valueFrom": value_from[k]} for k in sorted(value_from)],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                },
            },
            "healthCheck": {
                "command": ["CMD", "python", "-c", HEALTH_COMMAND],
                "interval": 30,
                "timeout": 5,
                "retries": 3,
                "startPeriod": 180,
            },
            # SIGKILL only after the server's own bounded shutdown (SERVER_SHUTDOWN_SECONDS).
            "stopTimeout": stop_timeout_seconds(
                int(str(env.plain["SERVER_SHUTDOWN_SECONDS"])), FARGATE_STOP_TIMEOUT_MAX
            ),
            "readonlyRootFilesystem": True,
            "user": IMAGE_USER,
            "mountPoints": [
                {"sourceVolume": volume, "containerPath": path, "readOnly": False}
                for volume, path in TASK_VOLUMES.items()
                if s["spool"] or path != SPOOL_DIR
            ],
        }
        return pulumi.Output.json_dumps([container])

    def _task_definition(
        self, name: str, args: ServiceArgs, s: dict[str, Any]
    ) -> ecs.TaskDefinition:
        """The Fargate task: size, ephemeral storage, roles, the container definitions, and
        the volumes the read-only container writes to (bind mounts without a host path:
        Fargate's ephemeral storage)."""
        storage = args.get("ephemeral_storage_gib")
        return ecs.TaskDefinition(
            f"{name}-task",
            family=physical_name(pulumi.get_project(), pulumi.get_stack(), name, max_length=255),
            cpu=str(FARGATE_CPU[s["cpu"]]),
            memory=str(s["memory_mb"]),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            execution_role_arn=self.execution_role.arn,
            task_role_arn=args["task_role_arn"],
            container_definitions=self.container_definitions,
            volumes=[
                {"name": volume}
                for volume, path in TASK_VOLUMES.items()
                if s["spool"] or path != SPOOL_DIR
            ],
            ephemeral_storage={"size_in_gib": storage} if storage is not None else None,
            tags=self._tags,
            opts=self._child,
        )

    def _ecs_service(
        self,
        name: str,
        args: ServiceArgs,
        s: dict[str, Any],
        listeners: list[pulumi.Resource],
    ) -> ecs.Service:
        """The cluster and the ECS service: private tasks behind the target group, rolling
        deployments with a circuit breaker."""
        self.cluster = ecs.Cluster(
            f"{name}-cluster",
            settings=[{"name": "containerInsights", "value": "enabled"}],
            tags=self._tags,
            opts=self._child,
        )
        return ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=s["replicas"],
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration={
                "subnets": args["private_subnet_ids"],
                "security_groups": [args["service_security_group_id"]],
                "assign_public_ip": False,
            },
            load_balancers=[
                {
                    "target_group_arn": self.target_group.arn,
                    "container_name": CONTAINER_NAME,
                    "container_port": DEFAULT_PORT,
                }
            ],
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=HEALTH_GRACE_SECONDS,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            tags=self._tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                # The target group must be attached to the load balancer first; the agent
                # must be able to pull, log and read every secret before a task starts.
                depends_on=[*listeners, *self._ready],
                # Autoscaling owns the running count after the first deployment.
                ignore_changes=["desired_count"],
            ),
        )

    def _autoscaling(self, name: str, s: dict[str, Any]) -> appautoscaling.Policy:
        """Target tracking on the tasks' average CPU, between min and max replicas."""
        scaling = appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name),
            min_capacity=s["min_replicas"],
            max_capacity=s["max_replicas"],
            tags=self._tags,
            opts=self._child,
        )
        return appautoscaling.Policy(
            f"{name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=scaling.service_namespace,
            scalable_dimension=scaling.scalable_dimension,
            resource_id=scaling.resource_id,
            target_tracking_scaling_policy_configuration={
                "target_value": CPU_TARGET_PERCENT,
                "predefined_metric_specification": {
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                },
                "scale_in_cooldown": 300,
                "scale_out_cooldown": 60,
            },
            opts=self._child,
        )

    def _build_image(self, name: str, context: Path) -> pulumi.Output[str]:
        """An ECR repository, its expiry policy, and the image built from `context` and pushed."""
        tags, child = self._tags, self._child
        encryption: ecr.RepositoryEncryptionConfigurationArgsDict = (
            {"encryption_type": "KMS", "kms_key": self._kms_key_arn}
            if self._kms_key_arn
            else {"encryption_type": "AES256"}
        )
        self.repository = ecr.Repository(
            f"{name}-repo",
            # MUTABLE: docker-build decides to rebuild from its own context hash, which also
            # covers file modes, so a checkout with another umask (or a revert of docker/)
            # re-pushes a tag that exists; IMMUTABLE would refuse it (ImageTagAlreadyExists).
            # Deployments stay immutable: the tasks run the image by digest (below).
            image_tag_mutability="MUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[encryption],
            # Images are rebuilt from docker/ at will, but a protected stack keeps what ran.
            force_delete=not self._deletion_protection,
            tags=tags,
            opts=child,
        )
        ecr.LifecyclePolicy(
            f"{name}-repo-expiry",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": "Keep the last 10 images",
                            "selection": {
                                "tagStatus": "any",
                                "countType": "imageCountMoreThan",
                                "countNumber": 10,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
            opts=child,
        )
        token = ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, opts=pulumi.InvokeOptions(parent=self)
        )
        self.image = docker_build.Image(
            f"{name}-image",
            context={"location": str(context)},
            dockerfile={"location": str(context / "Dockerfile")},
            platforms=[docker_build.Platform.LINUX_AMD64],
            push=True,
            tags=[
                pulumi.Output.concat(self.repository.repository_url, ":", context_digest(context))
            ],
            registries=[
                {
                    "address": self.repository.repository_url,
                    "username": token.user_name,
                    "password": pulumi.Output.secret(token.password),
                }
            ],
            opts=child,
        )
        # By digest, not by tag: what a task definition names can never change under it.
        return pulumi.Output.concat(self.repository.repository_url, "@", self.image.digest)


def _validate(args: ServiceArgs) -> dict[str, Any]:
    """Check the plain inputs, before any resource is registered; return them with defaults."""
    scenario = args.get("scenario")
    if scenario not in ("direct", "proxied", "artifacts-only"):
        raise ValueError(f"scenario: {scenario!r} is not one of direct, proxied, artifacts-only")
    for required in (
        "artifact_url",
        "vpc_id",
        "public_subnet_ids",
        "private_subnet_ids",
        "load_balancer_security_group_id",
        "service_security_group_id",
        "task_role_arn",
    ):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    has_database = args.get("database") is not None
    for field in ("database_password_value_from", "database_secret_arn"):
        if has_database and args.get(field) is None:
            raise ValueError(f"{field}: required with database")
    if args.get("image") and args.get("image_context"):
        raise ValueError("image_context: not with image (a prebuilt image is not built)")
    auth = args.get("auth_enabled", False)
    if auth and args.get("admin_password") is None:
        raise ValueError("admin_password: required with auth_enabled")
    auth_tables_apart = auth and scenario == "artifacts-only"
    if auth_tables_apart != (args.get("auth_database") is not None):
        raise ValueError(
            "auth_database: required with auth_enabled in 'artifacts-only' (no backend store "
            "holds the auth tables), and only then"
        )
    replicas = args.get("replicas", 2)
    low = args.get("min_replicas", replicas)
    high = args.get("max_replicas", max(4, replicas))
    if not 1 <= low <= replicas <= high <= 100:
        raise ValueError(
            f"replicas: need 1 <= min_replicas ({low}) <= replicas ({replicas}) "
            f"<= max_replicas ({high}) <= 100"
        )
    cpu = float(args.get("cpu", 1.0))
    if cpu not in FARGATE_CPU:
        raise ValueError(f"cpu: {cpu:g} is not one of {', '.join(f'{c:g}' for c in FARGATE_CPU)}")
    memory = args.get("memory_mb", 2048)
    if memory not in fargate_memory_sizes(cpu):
        sizes = fargate_memory_sizes(cpu)
        allowed = (
            ", ".join(map(str, sizes)) if len(sizes) <= 4 else f"{sizes[0]} to {sizes[-1]} by 1024"
        )
        raise ValueError(f"memory_mb: {memory} is not a Fargate size for cpu {cpu:g}: {allowed}")
    domain = args.get("domain")
    if domain is not None and not re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", domain):
        raise ValueError(f"domain: {domain!r} is not a lowercase DNS name")
    if domain is not None and args.get("public_http"):
        raise ValueError("public_http: not with domain (the domain serves HTTPS)")
    retention = args.get("log_retention_days", 30)
    if retention < 1:
        raise ValueError(f"log_retention_days: {retention} must be positive")
    access_log_days = args.get("access_log_days", retention)
    if access_log_days < 1:
        raise ValueError(f"access_log_days: {access_log_days} must be positive")
    check_kms_key_arn("kms_key_arn", args.get("kms_key_arn"))
    workers = server_workers(cpu, memory)
    max_upload = args.get("max_upload_mb")
    if max_upload is not None:
        if scenario == "direct":
            raise ValueError("max_upload_mb: not with scenario 'direct' (nothing is spooled)")
        problem = upload_limit_problem(
            max_upload, fargate_spool_mb(args.get("ephemeral_storage_gib"))
        )
        if problem:
            raise ValueError(f"max_upload_mb: {max_upload}; allowed: {problem}")
    elif args.get("ephemeral_storage_gib") is not None:
        fargate_spool_mb(args.get("ephemeral_storage_gib"))  # the range, named
    db_pool: tuple[int, int] | None = None
    size = args.get("database_size")
    if size is not None:
        backend = args.get("database")
        database = backend or args.get("auth_database")
        if database is None:
            raise ValueError("database_size: only with database or auth_database")
        if size not in DB_INSTANCE_CLASSES:
            raise ValueError(
                f"database_size: {size!r} is not one of {', '.join(DB_INSTANCE_CLASSES)}"
            )
        if database.engine not in DB_ENGINES:
            raise ValueError(
                f"database.engine: {database.engine!r} is not one of {', '.join(DB_ENGINES)}"
            )
        # With auth, its tables live on this database: the backend's, or auth_database.
        engines = server_engines(backend is not None, auth)
        db_pool = db_pool_settings(database.engine, size, high, workers, engines)
    return {
        "scenario": scenario,
        "auth_enabled": auth,
        "replicas": replicas,
        "min_replicas": low,
        "max_replicas": high,
        "cpu": cpu,
        "memory_mb": memory,
        "log_retention_days": retention,
        "access_logs": args.get("access_logs", True),
        "access_log_days": access_log_days,
        "allowed_hosts": list(args.get("allowed_hosts") or []),
        "cloudfront": domain is None and not args.get("public_http", False),
        "workers": workers,
        "db_pool": db_pool,
        "spool": scenario != "direct",
    }


def _announce_validation_records(
    domain: str, records: list[dict[str, str]], certificate: pulumi.Resource
) -> list[dict[str, str]]:
    """Log the DNS records that validate `domain`'s certificate (the user creates them while
    `pulumi up` waits on the validation); return them unchanged."""
    lines = "".join(f"\n  {r['name']} {r['type']} {r['value']}" for r in records)
    pulumi.log.warn(
        f"domain {domain}: create these DNS records now; the update waits (up to 75 min) "
        f"until ACM sees them and validates the certificate:{lines}",
        resource=certificate,
    )
    return records


def _pool_environment(db_pool: tuple[int, int] | None) -> dict[str, pulumi.Input[str]] | None:
    """The budgeted pool as the image's variables (None: leave the image's defaults)."""
    if db_pool is None:
        return None
    pool_size, max_overflow = db_pool
    return {
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": str(pool_size),
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": str(max_overflow),
    }
