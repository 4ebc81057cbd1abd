"""Rendering the embedded nats-server's config from the reference `infra/nats.conf`."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.nats import REFERENCE_CONFIG, render_config

REFERENCE = """
server_name: empreinte
listen: 0.0.0.0:4222
http: 0.0.0.0:8222
http_port_note = "untouched"
# listen: commented out
max_payload: 8MB
jetstream {
  store_dir: "/data/nats"
}
"""


def render(reference: str = REFERENCE, store_dir: Path = Path("/tmp/x y/nats")) -> str:
    return render_config(
        reference, host="127.0.0.1", port=4333, http_port=8333, store_dir=store_dir
    )


def test_listen_http_and_store_dir_are_replaced() -> None:
    lines = render().splitlines()
    assert "listen: 127.0.0.1:4333" in lines
    assert "http: 127.0.0.1:8333" in lines
    assert '  store_dir: "/tmp/x y/nats"' in lines


def test_everything_else_is_kept() -> None:
    rendered = render()
    for kept in ("server_name: empreinte", "max_payload: 8MB", "# listen: commented out"):
        assert kept in rendered
    assert 'http_port_note = "untouched"' in rendered


def test_equals_and_blank_separators_are_understood() -> None:
    reference = 'listen = 1.2.3.4:1\nhttp 0.0.0.0:2\njetstream { store_dir = "/x" }\n'
    with pytest.raises(ValueError, match="store_dir"):
        render(reference)  # one-line blocks are not supported: the key must start its line
    rendered = render(reference.replace("jetstream { store_dir", "store_dir"))
    assert "listen = 127.0.0.1:4333" in rendered
    assert "http 127.0.0.1:8333" in rendered


@pytest.mark.parametrize("key", ["listen", "http", "store_dir"])
def test_a_missing_key_is_an_error(key: str) -> None:
    reference = "\n".join(line for line in REFERENCE.splitlines() if key + ":" not in line)
    with pytest.raises(ValueError, match=f"`{key}` exactly once, found 0"):
        render(reference)


def test_a_repeated_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="`listen` exactly once, found 2"):
        render(REFERENCE + "listen: 0.0.0.0:5222\n")


def test_the_reference_config_renders_with_jetstream_and_8mb_payloads() -> None:
    rendered = render(REFERENCE_CONFIG.read_text(), store_dir=Path("/var/empreinte/nats"))
    assert "listen: 127.0.0.1:4333" in rendered
    assert "max_payload: 8MB" in rendered
    assert "jetstream {" in rendered
    assert 'store_dir: "/var/empreinte/nats"' in rendered
