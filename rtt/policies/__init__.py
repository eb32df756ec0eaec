"""Simultaneous translation policies: when to write target words while source words arrive."""

from rtt.policies.base import EmittedWord, Policy, PolicyStep
from rtt.policies.factory import make_policy, parse_policy_name

__all__ = ["EmittedWord", "Policy", "PolicyStep", "make_policy", "parse_policy_name"]
