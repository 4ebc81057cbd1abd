"""CSRD / ESRS E1 export: figures in, files out (inline XBRL, JSON, CSV, XLSX). Pure: no I/O
but the files written by `write_report`."""

from services.reporting.csrd.compute import E1Report, compute_report
from services.reporting.csrd.datapoints import Datapoint, datapoints
from services.reporting.csrd.export import ReportFiles, write_report
from services.reporting.csrd.model import (
    BaseYear,
    CsrdInput,
    Energy,
    Figure,
    FossilDetail,
    GhgFigures,
    Lineage,
    Organisation,
    RenewableDetail,
)

__all__ = [
    "BaseYear",
    "CsrdInput",
    "Datapoint",
    "E1Report",
    "Energy",
    "Figure",
    "FossilDetail",
    "GhgFigures",
    "Lineage",
    "Organisation",
    "RenewableDetail",
    "ReportFiles",
    "compute_report",
    "datapoints",
    "write_report",
]
