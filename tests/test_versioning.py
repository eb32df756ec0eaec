"""Every versioned document refuses a schema version it does not know, naming both versions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rtt.config import CONFIG_VERSION, parse_config
from rtt.errors import ConfigError
from rtt.versioning import require_version


def test_require_version_names_both() -> None:
    assert require_version("suite", 1, 1) == 1
    with pytest.raises(ValueError, match=r"suite version 7 is not supported \(expected 1\)"):
        require_version("suite", 7, 1)


def test_config_from_the_future_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="config version"):
        parse_config({"version": CONFIG_VERSION + 1, "mt": {"engines": {}, "tiers": {}}})


def test_serve_settings_from_the_future_are_refused() -> None:
    from serve.settings import ServeSettings

    with pytest.raises(ValidationError, match="serve settings version 99"):
        ServeSettings(version=99)
