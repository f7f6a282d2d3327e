"""HTTPS with TLS 1.2+ wherever a domain is served (`https-where-domain-set`, and the
stack-wide `https-redirect-beside-https`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from policy.rules.base import Resource, get, maps, violation
from policy.rules.tokens import (
    AWS_LISTENER,
    AZURE_CONTAINER_APP,
    GCP_DOMAIN_MAPPING,
    GCP_SSL_POLICY,
)

AWS_LEGACY_SSL_POLICIES = re.compile(r"^ELBSecurityPolicy-(2015|2016|TLS-1-0|TLS-1-1|TLS-1-0-2015)")


def https_where_domain(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """HTTPS with TLS 1.2+ wherever a domain is served: an HTTPS listener has a certificate
    and a TLS 1.2+ policy, a Cloud Run domain mapping a managed certificate, a Container
    App's custom domain an SNI certificate and no plain-HTTP ingress; an HTTP listener
    beside an HTTPS one only redirects (`https_redirects`, a stack-wide check)."""
    if r.type == AWS_LISTENER and r.props.get("protocol") == "HTTPS":
        policy = str(r.props.get("sslPolicy") or "ELBSecurityPolicy-2016-08 (the default)")
        found = []
        if not r.props.get("certificateArn"):
            found.append(
                violation(r, "an HTTPS listener without a certificate", "set certificate_arn")
            )
        if AWS_LEGACY_SSL_POLICIES.match(policy):
            found.append(
                violation(
                    r,
                    f"sslPolicy {policy} allows TLS below 1.2",
                    "set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06'",
                )
            )
        return found
    if r.type == GCP_DOMAIN_MAPPING and get(r.props, "spec", "certificateMode") == "NONE":
        return [
            violation(
                r,
                f"domain {r.props.get('name')} is served without a certificate",
                "set spec.certificate_mode='AUTOMATIC'",
            )
        ]
    if r.type == GCP_SSL_POLICY and r.props.get("minTlsVersion") in (None, "TLS_1_0", "TLS_1_1"):
        return [
            violation(
                r,
                f"minTlsVersion is {r.props.get('minTlsVersion') or 'unset (TLS_1_0)'}",
                "set min_tls_version='TLS_1_2'",
            )
        ]
    if r.type == AZURE_CONTAINER_APP:
        ingress = get(r.props, "configuration", "ingress") or {}
        found = []
        if ingress.get("allowInsecure") is True:
            found.append(
                violation(r, "ingress.allowInsecure is true", "set ingress.allow_insecure=False")
            )
        for domain in maps(ingress.get("customDomains")):
            if domain.get("bindingType") != "SniEnabled" or not domain.get("certificateId"):
                found.append(
                    violation(
                        r,
                        f"custom domain {domain.get('name')} has no SNI certificate binding",
                        "set binding_type='SniEnabled' with a managed certificate_id",
                    )
                )
        return found
    return []


def https_redirects(resources: Sequence[Resource]) -> list[tuple[Resource, str]]:
    """Stack-wide: on a load balancer that serves HTTPS (a domain is set), every HTTP
    listener only redirects to HTTPS. Without a domain there is no certificate and the
    AWS stack serves HTTP on the load balancer's own name, which this allows."""
    listeners = [r for r in resources if r.type == AWS_LISTENER]
    https = {
        r.props.get("loadBalancerArn") for r in listeners if r.props.get("protocol") == "HTTPS"
    }
    found = []
    for r in listeners:
        if r.props.get("protocol") != "HTTP" or r.props.get("loadBalancerArn") not in https:
            continue
        actions = maps(r.props.get("defaultActions"))
        redirects = all(
            a.get("type") == "redirect" and get(a, "redirect", "protocol") == "HTTPS"
            for a in actions
        )
        if not actions or not redirects:
            found.append(
                (
                    r,
                    violation(
                        r,
                        "plain HTTP is served beside HTTPS on the same load balancer",
                        "make the HTTP listener's only default action a redirect to HTTPS",
                    ),
                )
            )
    return found
