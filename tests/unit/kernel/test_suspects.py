"""A consumer's suspects: messages that failed on their own are cut out of their batch."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kernel.batching import SUSPECTS_KEPT, Suspects


def message(sequence: int) -> Any:
    """What Suspects reads of a JetStream message: its stream sequence."""
    return SimpleNamespace(metadata=SimpleNamespace(sequence=SimpleNamespace(stream=sequence)))


def runs(suspects: Suspects, sequences: list[int]) -> list[list[int]]:
    batch = [message(s) for s in sequences]
    return [[m.metadata.sequence.stream for m in run] for run in suspects.runs(batch)]


def test_without_suspects_a_batch_is_one_run() -> None:
    assert runs(Suspects(), [1, 2, 3]) == [[1, 2, 3]]


def test_each_suspect_is_a_run_of_its_own_and_order_is_kept() -> None:
    suspects = Suspects()
    for sequence in (2, 5, 6):
        suspects.failed(message(sequence))
    assert runs(suspects, [1, 2, 3, 4, 5, 6, 7]) == [[1], [2], [3, 4], [5], [6], [7]]
    assert runs(suspects, [2]) == [[2]]


def test_a_suspect_that_succeeded_or_was_dead_lettered_is_cleared() -> None:
    suspects = Suspects()
    suspects.failed(message(2))
    suspects.cleared(message(2))
    assert runs(suspects, [1, 2, 3]) == [[1, 2, 3]]


def test_the_oldest_suspects_are_forgotten_past_the_bound() -> None:
    suspects = Suspects()
    for sequence in range(SUSPECTS_KEPT + 1):
        suspects.failed(message(sequence))
    assert runs(suspects, [0, SUSPECTS_KEPT + 5]) == [[0, SUSPECTS_KEPT + 5]]
    assert runs(suspects, [1]) == [[1]] and len(suspects.sequences) == SUSPECTS_KEPT
