"""`plait serve`'s options and its refusal to expose a token-less server."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from plait.server.cli import serve


def test_help_names_every_option() -> None:
    result = CliRunner().invoke(serve, ["--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--store", "--workflows", "--reload"):
        assert option in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_without_a_token_it_refuses_a_non_loopback_host(
    host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLAIT_API_TOKEN", raising=False)
    result = CliRunner().invoke(serve, ["--host", host, "--workflows", "."])
    assert result.exit_code == 2
    assert "refusing to listen" in result.output
    assert "PLAIT_API_TOKEN" in result.output


def test_the_config_never_shows_its_token() -> None:
    from plait.server import ServerConfig

    config = ServerConfig(store_url="memory://", token="do-not-print")
    assert "do-not-print" not in repr(config)
    assert "token=set" in repr(config)
