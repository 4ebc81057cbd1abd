"""`empreinte import`: stream an NDJSON, CSV or XLSX file of activities into the inventory.

Rows go to the inventory's `record` endpoint in batches of at most 10,000 that also fit the
NATS server's maximum message size. Each batch's idempotency key derives from the file's
content, the options and the batch number, so running the same import twice stores nothing new.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from contracts.inventory import MAX_BATCH, RECORD, ActivityInput, RecordActivities, Rejection
from empreinte_cli.xlsx_rows import SheetNotFound, xlsx_rows
from kernel.client import ServiceClient
from kernel.endpoints import CallContext
from kernel.errors import RemoteError
from kernel.settings import Settings

inventory_app = typer.Typer(help="Activity data: import files into the inventory.")
FIELDS = frozenset(ActivityInput.model_fields)
XLSX = (".xlsx", ".xlsm")
ENVELOPE_BYTES = 4096  # room for the request's own fields and the NATS headers


@dataclass
class ImportSummary:
    accepted: int = 0
    rejected: list[Rejection] = field(default_factory=list)


@dataclass
class Batch:
    """Rows to send together, with each one's index in the file."""

    items: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    size: int = 0

    def halves(self) -> tuple[Batch, Batch]:
        half = len(self.items) // 2
        return (
            Batch(self.items[:half], self.indexes[:half]),
            Batch(self.items[half:], self.indexes[half:]),
        )


@inventory_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON, CSV or XLSX")],
    tenant: Annotated[str, typer.Option(help="Organisation the activities belong to")],
    mapping: Annotated[
        list[str] | None, typer.Option(help="col=field: read column col as field (repeatable)")
    ] = None,
    rejects: Annotated[Path | None, typer.Option(help="Write rejected rows here (CSV)")] = None,
    role: Annotated[str, typer.Option(help="Role to act as")] = "integrator",
    batch_size: Annotated[int, typer.Option(min=1, max=MAX_BATCH)] = MAX_BATCH,
    sheet: Annotated[str | None, typer.Option(help="XLSX: the sheet (default: the first)")] = None,
) -> None:
    """Import activities from FILE (.ndjson/.jsonl, .csv or .xlsx); exit 1 if any row was
    rejected."""
    settings = Settings()
    if not settings.nats_url:
        raise typer.BadParameter("NATS_URL must be set")
    columns = parse_mapping(mapping or [])
    ctx = CallContext(tenant_id=tenant, role=role, actor="empreinte-cli")
    console = Console(stderr=True)
    size = file.stat().st_size
    summary = asyncio.run(_run(settings, ctx, file, columns, batch_size, console, size, sheet))
    if rejects is not None:
        write_rejects(rejects, summary.rejected)
    rows = len({r.index for r in summary.rejected})
    typer.echo(f"accepted: {summary.accepted}, rejected: {rows}")
    raise typer.Exit(1 if summary.rejected else 0)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`col=field` pairs as {col: field}; a field that is not an activity field is refused."""
    found: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column or target not in FIELDS:
            raise typer.BadParameter(
                f"{pair!r}: expected col=field, field one of {', '.join(sorted(FIELDS))}",
                param_hint="--mapping",
            )
        found[column] = target
    return found


async def _run(
    settings: Settings,
    ctx: CallContext,
    path: Path,
    columns: dict[str, str],
    batch_size: int,
    console: Console,
    size: int,
    sheet: str | None,
) -> ImportSummary:
    from kernel.process import connect_nats

    nc = await connect_nats(settings.nats_url or "", "empreinte-cli-import")
    try:
        client = ServiceClient(nc, settings.namespace, timeout=120)
        with _progress(console) as progress:
            task = progress.add_task(path.name, total=size)

            def advance(read: int) -> None:
                progress.update(task, completed=read)

            return await import_file(
                client, ctx, path, columns, batch_size, nc.max_payload, advance, sheet
            )
    except RemoteError as error:
        console.print(f"[red]the inventory refused the import: {error}")
        raise typer.Exit(2) from None
    except SheetNotFound as error:
        raise typer.BadParameter(str(error), param_hint="--sheet") from None
    finally:
        await nc.drain()


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), console=console
    )


async def import_file(
    client: ServiceClient,
    ctx: CallContext,
    path: Path,
    columns: dict[str, str],
    batch_size: int = MAX_BATCH,
    max_bytes: int = 8 << 20,
    advance: Callable[[int], None] = lambda _: None,
    sheet: str | None = None,
) -> ImportSummary:
    """Send every row of `path` to the inventory; rows are indexed from 0 in file order.

    `max_bytes` is the NATS server's maximum message size: batches are cut to fit it.
    """
    summary = ImportSummary()
    key_root = _key_root(path, columns, batch_size, max_bytes)
    rows = _rows(path, columns, advance, sheet)
    for number, batch in enumerate(batches(rows, summary, batch_size, max_bytes - ENVELOPE_BYTES)):
        await _send(client, ctx, f"{key_root}:{number}", batch, summary)
    summary.rejected.sort(key=lambda r: r.index)
    return summary


async def _send(
    client: ServiceClient, ctx: CallContext, key: str, batch: Batch, summary: ImportSummary
) -> None:
    """Record `batch`; one whose rejections are too many to list in an answer goes in halves."""
    request = RecordActivities(idempotency_key=key, activities=batch.items)
    try:
        outcome = await client.call(RECORD, request, ctx)
    except RemoteError as error:
        if error.code != "too_many_rejections" or len(batch.items) < 2:
            raise
        first, second = batch.halves()
        await _send(client, ctx, f"{key}a", first, summary)
        await _send(client, ctx, f"{key}b", second, summary)
        return
    summary.accepted += outcome.accepted
    summary.rejected += [
        r.model_copy(update={"index": batch.indexes[r.index]}) for r in outcome.rejected
    ]


def batches(
    rows: Iterator[dict[str, Any] | Rejection],
    summary: ImportSummary,
    batch_size: int,
    max_bytes: int,
) -> Iterator[Batch]:
    """Rows cut into batches of at most `batch_size` items and `max_bytes` of JSON.

    Rows that could not be read go straight to `summary.rejected`.
    """
    batch = Batch()
    for index, row in enumerate(rows):
        if isinstance(row, Rejection):
            summary.rejected.append(row)
            continue
        size = len(json.dumps(row, default=str)) + 1
        if batch.items and (len(batch.items) >= batch_size or batch.size + size > max_bytes):
            yield batch
            batch = Batch()
        batch.items.append(row)
        batch.indexes.append(index)
        batch.size += size
    if batch.items:
        yield batch


def _rows(
    path: Path, columns: dict[str, str], advance: Callable[[int], None], sheet: str | None
) -> Iterator[dict[str, Any] | Rejection]:
    """Each data row as an activity object (or why it could not be read), in file order."""
    suffix = path.suffix.lower()
    if suffix in XLSX:
        size = path.stat().st_size
        for row in xlsx_rows(path, sheet, lambda done: advance(int(done * size))):
            yield row if isinstance(row, Rejection) else _activity(row, columns)
        return
    with path.open("rb") as file:
        lines = _decoded(file, advance)
        if suffix == ".csv":
            for row in csv.DictReader(lines):
                yield _activity({k: v for k, v in row.items() if v not in ("", None)}, columns)
        else:
            yield from _ndjson(lines, columns)


def _ndjson(lines: Iterator[str], columns: dict[str, str]) -> Iterator[dict[str, Any] | Rejection]:
    index = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            value = error
        if isinstance(value, dict):
            yield _activity(value, columns)
        else:
            yield Rejection(index=index, field="(row)", reason=f"not a JSON object: {value}")
        index += 1


def _decoded(file: Any, advance: Callable[[int], None]) -> Iterator[str]:
    read = 0
    for raw in file:
        read += len(raw)
        advance(read)
        yield raw.decode("utf-8-sig" if read == len(raw) else "utf-8")


def _activity(row: dict[str, Any], columns: dict[str, str]) -> dict[str, Any]:
    """Renamed by `columns`; values of columns that are no activity field become attributes."""
    named = {columns.get(k, k): v for k, v in row.items()}
    extra = {k: v for k, v in named.items() if k not in FIELDS}
    found = {k: v for k, v in named.items() if k in FIELDS}
    if extra:
        found["attributes"] = {**found.get("attributes", {}), **extra}
    return found


def _key_root(path: Path, columns: dict[str, str], batch_size: int, max_bytes: int) -> str:
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256")
    digest.update(json.dumps([sorted(columns.items()), batch_size, max_bytes]).encode())
    return f"import:{digest.hexdigest()[:32]}"


def write_rejects(path: Path, rejected: list[Rejection]) -> None:
    """The rejections as CSV: index (0-based data row), field, reason."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["index", "field", "reason"])
        writer.writerows([r.index, r.field, r.reason] for r in rejected)
