"""Load Acme Analytics through the public API (REST and GraphQL), then show its dashboard.

Only the gateway is used, as an integrator and a compliance officer would: activities as
NDJSON, request logs as Parquet uploads, the commuting survey as a campaign with forms,
then footprint queries and a CSRD export. Every figure printed comes back from the API.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from empreinte_cli.demo import company

console = Console()
PERIOD = {"periodStart": "2024-01-01", "periodEnd": "2025-01-01"}


class Gateway:
    def __init__(self, url: str, key: str) -> None:
        self.http = httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=300)

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        answer = self.http.post("/graphql", json={"query": query, "variables": variables}).json()
        if answer.get("errors"):
            raise RuntimeError(f"GraphQL: {answer['errors']}")
        data: dict[str, Any] = answer["data"]
        return data

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.post(path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer


def load(gw: Gateway, rows_per_month: int) -> None:
    activities = company.activities()
    body = "\n".join(json.dumps(a) for a in activities)
    outcome = gw.post(
        "/v1/activities",
        content=body.encode(),
        headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": "acme-2024-activities"},
    )
    console.print(_activities_outcome(outcome))
    with tempfile.TemporaryDirectory() as folder:
        for month, path, requests in company.request_logs(Path(folder), rows_per_month):
            params = {
                "name": path.name,
                "format": "parquet",
                "period_start": month.start,
                "period_end": month.end,
                "site": "product",
            }
            gw.post("/v1/request-logs", content=path.read_bytes(), params=params)
            console.print(f"request log {month.start:%Y-%m}: {requests:,} requests uploaded")
    _commuting_survey(gw)


def _activities_outcome(outcome: dict[str, Any]) -> str:
    """One line for the bulk upload's answer (its ids are for integrators, not this page)."""
    rejected = outcome["rejected"]
    line = f"activities: {outcome['accepted']:,} accepted, {len(rejected)} rejected"
    if outcome.get("replayed"):
        line += " (an earlier run's upload: the idempotency key replayed its answer)"
    return line + "".join(f"\n  rejected: {r}" for r in rejected)


def _commuting_survey(gw: Gateway) -> None:
    questions = [
        {"questionId": q, "prompt": p, "kind": k, "unit": "km", "scale": company.WORKING_WEEKS}
        for q, p, k in company.COMMUTING_QUESTIONS
    ]
    campaign = gw.graphql(  # keyed, as the forms are: running the demo again changes nothing
        OPEN_CAMPAIGN,
        name="Commuting survey 2024",
        questions=questions,
        key="acme-commuting-2024",
        **PERIOD,
    )["openCampaign"]
    answers = list(company.commuting_answers())
    for n, answer in enumerate(answers):
        rows = [{"questionId": q, "quantity": v} for q, v in answer.items()]
        gw.graphql(SUBMIT_FORM, campaignId=campaign["id"], answers=rows, key=f"survey-{n}")
    console.print(f"commuting survey: {len(answers)} answers")


def settle(gw: Gateway, patience_s: float = 600) -> dict[str, Any]:
    """Ask until the footprint stops moving (the services compute in their own time)."""
    deadline, last, still = time.monotonic() + patience_s, None, 0
    while time.monotonic() < deadline:
        now = gw.graphql(FOOTPRINT, filter=PERIOD, groupBy=["POST"])["footprint"]
        still = still + 1 if now == last else 0
        if still >= 3 and now is not None:
            settled: dict[str, Any] = now
            return settled
        last = now
        time.sleep(2)  # polling an outside system's progress, deliberately slow
    raise RuntimeError("the footprint did not settle in time")


def show(gw: Gateway) -> None:
    by_scope = gw.graphql(FOOTPRINT, filter=PERIOD, groupBy=["SCOPE"])["footprint"]
    by_post = gw.graphql(FOOTPRINT, filter=PERIOD, groupBy=["POST"])["footprint"]
    product = gw.graphql(FOOTPRINT, filter={**PERIOD, "post": "product"}, groupBy=["COMPONENT"])[
        "footprint"
    ]
    _table("Footprint 2024 by scope", by_scope, "scope")
    _table("Footprint 2024 by post", by_post, "post")
    share = {g["key"][0]["value"]: g["share"] for g in by_post["groups"]}.get("product", 0.0)
    transit = sum(g["share"] for g in product["groups"] if "network" in str(g["key"][0]["value"]))
    console.print(
        f"[bold]The product is {share:.1%} of the footprint; data transit (network) is "
        f"{transit:.1%} of the product.[/]  Unresolved activities: {by_post['unresolved']}"
    )


def _table(title: str, footprint: dict[str, Any], dimension: str) -> None:
    table = Table(title=title)
    for column in (dimension, "tCO2e", "range (t)", "share"):
        table.add_column(column, justify="right")
    for g in sorted(footprint["groups"], key=lambda g: -g["kg"]["value"]):
        kg = g["kg"]
        table.add_row(
            str(g["key"][0]["value"]),
            f"{kg['value'] / 1000:,.1f}",
            f"{kg['min'] / 1000:,.1f} to {kg['max'] / 1000:,.1f}",
            f"{g['share']:.1%}",
        )
    total = footprint["total"]
    table.add_row(
        "total",
        f"{total['value'] / 1000:,.1f}",
        f"{total['min'] / 1000:,.1f} to {total['max'] / 1000:,.1f}",
        "100%",
    )
    console.print(table)


def export(gw: Gateway, out: Path) -> list[str]:
    report = gw.graphql(
        GENERATE_REPORT,
        input={
            "organisation": {"name": "Acme Analytics SAS", "identifier": "969500ACMEANALYTIC80"},
            **PERIOD,
            "netRevenueEur": 18_500_000,
            "significantScope3": [1, 6, 7, 11],
            # The electricity supplier's declared mix: demo input, like every quantity here.
            "electricityMix": {"fossil": 0.08, "nuclear": 0.65, "renewable": 0.27},
        },
    )["generateReport"]
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for file in report["files"]:
        response = gw.http.get(f"/v1/reports/{report['id']}/{file['name']}")
        if response.status_code == 200:
            (out / file["name"]).write_bytes(response.content)
            saved.append(file["name"])
    console.print(f"CSRD export {report['id']}: {', '.join(saved) or 'files listed'} in {out}")
    return saved


OPEN_CAMPAIGN = """mutation($name: String!, $periodStart: Date!, $periodEnd: Date!,
  $questions: [QuestionInput!]!, $key: String) { openCampaign(name: $name,
  periodStart: $periodStart, periodEnd: $periodEnd, questions: $questions,
  idempotencyKey: $key) { id } }"""
SUBMIT_FORM = """mutation($campaignId: ID!, $answers: [AnswerInput!]!, $key: String) {
  submitForm(campaignId: $campaignId, site: "paris-office", region: "FRA", answers: $answers,
  idempotencyKey: $key) { id } }"""
FOOTPRINT = """query($filter: FootprintFilter!, $groupBy: [Dimension!]) {
  footprint(filter: $filter, groupBy: $groupBy) { total { value min max } unresolved
  groups { key { dimension value } kg { value min max } share emissions } } }"""
GENERATE_REPORT = """mutation($input: GenerateReportInput!) {
  generateReport(input: $input) { id files { name sha256 size } } }"""
