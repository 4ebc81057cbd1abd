"""Render an ESRS E1 inline XBRL report to a PNG with headless Chromium, to eyeball its layout.

    .venv/bin/python tools/screenshot_report.py [report.xhtml] [-o report.png]

Without a report, the sample report (services/reporting/csrd/sample.py) is written to a
temporary directory first. Needs `chromium` on PATH (apt-get install -y chromium).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
)


def sample_report(directory: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from services.reporting.csrd import write_report
    from services.reporting.csrd.sample import sample_input

    return write_report(sample_input(), directory).paths["xhtml"]


def screenshot(report: Path, png: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found on PATH (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [
            browser,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            report.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    if not png.is_file():
        raise SystemExit(f"chromium wrote no screenshot to {png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", nargs="?", type=Path, help="the .xhtml report (default: sample)")
    parser.add_argument("-o", "--output", type=Path, default=Path("esrs-e1.png"))
    parser.add_argument("--width", type=int, default=1200)
    parser.add_argument("--height", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="esrs-e1-") as scratch:
        report = args.report or sample_report(Path(scratch))
        screenshot(report, args.output, args.width, args.height)
    print(args.output)


if __name__ == "__main__":
    main()
