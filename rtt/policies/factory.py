"""Build a policy from its name (``wait-3``, ``local-agreement-2``, ``full-sentence``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rtt.errors import InvalidInput
from rtt.policies.base import PolicyContext, SimultaneousPolicy
from rtt.policies.full_sentence import FullSentencePolicy
from rtt.policies.local_agreement import LocalAgreementPolicy
from rtt.policies.stabilization import PRESETS
from rtt.policies.wait_k import WaitKPolicy


@dataclass(frozen=True)
class PolicySpec:
    kind: str  # wait-k | local-agreement | full-sentence
    param: int = 0
    tentative_words: int = 0


_WAIT = re.compile(r"^wait-?(\d+)$")
_LA = re.compile(r"^(?:local-agreement|la)-?(\d+)$")


def parse_policy_name(name: str, stabilization: str | None = None) -> PolicySpec:
    """``stabilization`` (fast|balanced|aggressive) fills in what the name leaves open."""
    key = (name or "").strip().lower()
    preset = PRESETS.get(stabilization or "balanced")
    if preset is None:
        raise InvalidInput(
            f"unknown stabilization {stabilization!r}; use one of {', '.join(PRESETS)}", field="stabilization"
        )
    if key in ("", "auto", "wait-k"):
        return PolicySpec("wait-k", preset.k, preset.tentative_words)
    if m := _WAIT.match(key):
        k = int(m.group(1))
        if not 1 <= k <= 64:
            raise InvalidInput("wait-k needs 1 <= k <= 64", field="policy")
        return PolicySpec("wait-k", k, preset.tentative_words)
    if m := _LA.match(key):
        n = int(m.group(1))
        if not 2 <= n <= 8:
            raise InvalidInput("local agreement needs 2 <= n <= 8", field="policy")
        return PolicySpec("local-agreement", n)
    if key in ("full-sentence", "full", "offline"):
        return PolicySpec("full-sentence")
    raise InvalidInput(
        f"unknown policy {name!r}; use wait-K, local-agreement-N or full-sentence", field="policy"
    )


def make_policy(spec: PolicySpec | str, ctx: PolicyContext, stabilization: str | None = None) -> SimultaneousPolicy:
    if isinstance(spec, str):
        spec = parse_policy_name(spec, stabilization)
    if spec.kind == "wait-k":
        return WaitKPolicy(ctx, k=spec.param, tentative_words=spec.tentative_words)
    if spec.kind == "local-agreement":
        return LocalAgreementPolicy(ctx, n=spec.param)
    return FullSentencePolicy(ctx)
