"""A consumer reads a message's delivery count and stream sequence from its reply subject,
as nats-py would."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg

from kernel.consumer import delivery_count, stream_sequence

REPLIES = [
    "$JS.ACK.EMPREINTE_COMPUTE.reporting_compute.1.4021.3990.1764612345123456789.17",
    "$JS.ACK.EMPREINTE_COMPUTE.reporting_compute.12.7.7.1764612345123456789.0",
    "$JS.ACK.hub.ACCOUNTHASH.EMPREINTE_INVENTORY.compute_inventory.3.55.54.1764612345.9.rnd",
    "$JS.ACK.hub.ACCOUNTHASH.EMPREINTE_INVENTORY.compute_inventory.1.55.54.1764612345.9",
]


@pytest.mark.parametrize("reply", REPLIES)
def test_the_count_is_the_one_nats_py_parses(reply: str) -> None:
    msg = Msg(_client=None, subject="s", reply=reply)  # type: ignore[arg-type]
    assert delivery_count(msg) == msg.metadata.num_delivered


@pytest.mark.parametrize("reply", REPLIES)
def test_the_stream_sequence_is_the_one_nats_py_parses(reply: str) -> None:
    msg = Msg(_client=None, subject="s", reply=reply)  # type: ignore[arg-type]
    assert stream_sequence(msg) == msg.metadata.sequence.stream
