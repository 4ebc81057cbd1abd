"""Write every output of one report to a directory and say what was written."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from services.reporting.csrd.compute import compute_report
from services.reporting.csrd.datapoints import datapoints
from services.reporting.csrd.document import render_document
from services.reporting.csrd.model import CsrdInput
from services.reporting.csrd.tabular import to_csv, to_json
from services.reporting.csrd.xlsx import write_xlsx


@dataclass(frozen=True)
class ReportFiles:
    """Paths of the written files and the sha256 of each, keyed by format."""

    paths: dict[str, Path]
    sha256: dict[str, str]


def write_report(source: CsrdInput, directory: Path, stem: str = "esrs-e1") -> ReportFiles:
    """Compute the report of `source` and write `<stem>.xhtml`, `.json`, `.csv`, `.xlsx`."""
    report = compute_report(source)
    facts = datapoints(report)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {kind: directory / f"{stem}.{kind}" for kind in ("xhtml", "json", "csv", "xlsx")}
    paths["xhtml"].write_text(render_document(report, facts), encoding="utf-8")
    paths["json"].write_text(to_json(report, facts), encoding="utf-8")
    paths["csv"].write_text(to_csv(facts), encoding="utf-8")
    write_xlsx(report, facts, paths["xlsx"])
    digests = {kind: hashlib.sha256(path.read_bytes()).hexdigest() for kind, path in paths.items()}
    return ReportFiles(paths, digests)
