import pytest
import typer

from contracts.inventory import Rejection
from empreinte_cli.inventory_commands import ImportSummary, batches, parse_mapping


def test_a_mapping_renames_columns_to_activity_fields() -> None:
    assert parse_mapping(["type=kind", "amount=quantity"]) == {"type": "kind", "amount": "quantity"}
    for bad in ("type", "=kind", "type=sort"):
        with pytest.raises(typer.BadParameter, match=bad):
            parse_mapping([bad])


def test_batches_are_cut_by_count_and_by_size_keeping_row_indexes() -> None:
    rows = [{"quantity": i, "site": "x" * 40} for i in range(10)]
    summary = ImportSummary()
    unread = Rejection(index=3, field="(row)", reason="not a JSON object")
    found = list(batches(iter([*rows[:3], unread, *rows[3:]]), summary, 4, 210))

    assert [len(b.items) for b in found] == [3, 3, 3, 1]  # 68 bytes a row, 210 per batch
    by_count = list(batches(iter([*rows[:2], unread, *rows[2:]]), ImportSummary(), 4, 10_000))
    assert [b.indexes for b in by_count] == [[0, 1, 3, 4], [5, 6, 7, 8], [9, 10]]
    assert [b.indexes for b in found] == [[0, 1, 2], [4, 5, 6], [7, 8, 9], [10]]
    assert summary.rejected == [unread]
