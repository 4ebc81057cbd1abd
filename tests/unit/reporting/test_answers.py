"""Kept footprints stay within their budget of groups, the least recently asked going first."""

from __future__ import annotations

from typing import Any

from contracts import reporting as r
from contracts.compute import Kg
from services.reporting.now import Answers


def _answer(groups: int) -> r.FootprintAnswer:
    kg = Kg(value=1, min=1, max=1)
    found = [r.FootprintGroup(key={"month": n}, kg=kg, share=0.0, emissions=1)
             for n in range(groups)]  # fmt: skip
    return r.FootprintAnswer(total=kg, groups=found, unresolved=0, position=1)


def _kept(answers: Answers) -> list[Any]:
    return [key for _, key in answers._kept]


def test_the_oldest_asked_go_first_and_a_bigger_answer_than_the_budget_is_not_kept() -> None:
    answers = Answers(engine=None, schema="reporting", budget=10)  # type: ignore[arg-type]
    for name, groups in (("a", 4), ("b", 4), ("a", 4), ("c", 4), ("huge", 11)):
        answers._keep(("acme", name), (1, "x"), _answer(groups))
    assert _kept(answers) == ["a", "c"]  # a was asked again after b: b went first
    assert answers._groups == 8
    answers._keep(("acme", "a"), (2, "y"), _answer(1))  # read again: replaces, not adds
    assert (_kept(answers), answers._groups) == (["c", "a"], 5)
