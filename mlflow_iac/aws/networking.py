"""CIDR maths of the AWS network: how a VPC range is cut into public and private subnets."""

from __future__ import annotations

import ipaddress


def subnet_cidrs(vpc_cidr: str, zones: int = 2) -> tuple[list[str], list[str]]:
    """Split a VPC CIDR into `zones` public and `zones` private subnets.

    The upper half of the range holds the private subnets (service and database: most
    addresses); the first quarter is cut into small public subnets (load balancer, NAT).
    For 10.0.0.0/16 and two zones: public 10.0.0.0/19 and 10.0.32.0/19, private
    10.0.128.0/18 and 10.0.192.0/18.
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    if not 2 <= zones <= 4:
        raise ValueError(f"zones: {zones} is not from 2 to 4")
    halves = list(network.subnets(prefixlen_diff=1))
    # Private: the upper half split into `zones` equal parts (rounded up to a power of two).
    diff = (zones - 1).bit_length()
    private = [str(s) for s in list(halves[1].subnets(prefixlen_diff=diff))[:zones]]
    quarter = next(halves[0].subnets(prefixlen_diff=1))
    public = [str(s) for s in list(quarter.subnets(prefixlen_diff=diff))[:zones]]
    if ipaddress.IPv4Network(public[0]).num_addresses < 32:
        raise ValueError(f"vpc_cidr: {vpc_cidr!r} is too small for {zones} zones")
    return public, private
