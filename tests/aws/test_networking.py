"""CIDR maths of the AWS network (`mlflow_iac/aws/networking.py`)."""

from __future__ import annotations

import ipaddress

import pytest

from mlflow_iac.aws import networking


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.10.0/24"])
def test_subnets_fit_the_vpc_and_never_overlap(cidr: str) -> None:
    public, private = networking.subnet_cidrs(cidr)
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(n) for n in public + private]
    assert len(public) == len(private) == 2
    assert all(n.subnet_of(vpc) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.overlaps(b)
    # the private subnets (tasks, database) get the most addresses
    assert nets[2].num_addresses > nets[0].num_addresses >= 32


def test_subnets_for_the_default_vpc() -> None:
    assert networking.subnet_cidrs("10.0.0.0/16") == (
        ["10.0.0.0/19", "10.0.32.0/19"],
        ["10.0.128.0/18", "10.0.192.0/18"],
    )
    with pytest.raises(ValueError, match="zones"):
        networking.subnet_cidrs("10.0.0.0/16", zones=5)
