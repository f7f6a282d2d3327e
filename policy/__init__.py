"""The project's policy pack: the security invariants as Pulumi policies (see README, PR checks)."""
