"""The report's stylesheet, inlined so the XHTML is one self-contained file."""

CSS = """
:root { --ink: #1d2a26; --muted: #5b6b66; --line: #d8e2de; --accent: #1b6b5a; --band: #f3f7f5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       background: #fafcfb; }
.page { max-width: 1060px; margin: 0 auto; padding: 32px 40px 48px; background: #fff;
       box-shadow: 0 0 0 1px var(--line); }
h1 { font-size: 26px; margin: 0 0 6px; color: var(--accent); }
h2 { font-size: 18px; margin: 36px 0 12px; padding-bottom: 6px;
     border-bottom: 2px solid var(--accent); }
.meta { color: var(--muted); margin: 0 0 12px; }
.headline { font-size: 17px; background: var(--band); padding: 10px 14px;
            border-left: 4px solid var(--accent); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 10px; border-bottom: 1px solid var(--line); text-align: left;
         vertical-align: baseline; }
thead th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
           color: var(--muted); border-bottom: 2px solid var(--line); }
tbody th { font-weight: normal; }
td.num, thead th:nth-last-child(-n+3) { text-align: right; white-space: nowrap; }
td.range { color: var(--muted); }
td.dp, td.unit { color: var(--muted); font-size: 12px; white-space: nowrap; }
td.flag { color: var(--accent); font-size: 12px; }
tr.total th, tr.total td { font-weight: bold; background: var(--band); }
tr.indent th { padding-left: 28px; color: var(--muted); }
tbody tr:hover { background: #f7faf9; }
.figure { margin: 12px 0 20px; }
p.caption, .note { color: var(--muted); font-size: 13px; }
div.provenance { margin-top: 40px; font-size: 13px; color: var(--muted); }
div.provenance dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
div.provenance dt { font-weight: bold; }
div.provenance dd { margin: 0; }
div.provenance dd:last-of-type { font-family: monospace; }
"""
