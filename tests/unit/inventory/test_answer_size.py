import pytest

from contracts.inventory import Rejection
from kernel.errors import RequestRefused
from services.inventory.handlers import refuse_if_unanswerable


def test_a_batch_whose_rejections_cannot_be_answered_in_one_message_is_refused() -> None:
    reason = "unit 'km' measures [length], but electricity needs a unit of energy (e.g. kWh)"
    rejected = [Rejection(index=i, field="unit", reason=reason) for i in range(10_000)]
    refuse_if_unanswerable(10_000, rejected[:100], 1 << 20)
    with pytest.raises(RequestRefused) as refused:
        refuse_if_unanswerable(10_000, rejected, 1 << 20)
    assert (refused.value.code, refused.value.field) == ("too_many_rejections", "activities")
    assert "10000 of 10000 items are rejected" in refused.value.message
    assert "item 0 (unit: unit 'km'" in refused.value.message
