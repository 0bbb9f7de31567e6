"""The static page: each line's status, when it was checked, and a small history strip.

Plain HTML and inline CSS, no scripts: it is written to S3 once a minute and must be
readable on a phone on a slow platform connection.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from chalicelib.lines import GOOD_SERVICE, SEVERITY

# The MTA's line colours, so riders find their line by sight.
_COLOURS = {
    "123": "#EE352E",
    "456": "#00933C",
    "7": "#B933AD",
    "ACE": "#0039A6",
    "BDFM": "#FF6319",
    "G": "#6CBE45",
    "JZ": "#996633",
    "L": "#A7A9AC",
    "NQR": "#FCCC0A",
    "S": "#808183",
    "SIR": "#0039A6",
}
_DARK_TEXT = {"NQR", "L"}

_STYLE = """
body{font-family:-apple-system,system-ui,Segoe UI,Roboto,sans-serif;margin:0;
background:#111;color:#eee}
main{max-width:34rem;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.2rem 0 .3rem}
.summary{color:#ccc;margin:0 0 1rem}
ul{list-style:none;padding:0;margin:0}
li.line{display:flex;align-items:center;gap:.8rem;padding:.6rem 0;border-bottom:1px solid #333}
.bullet{flex:none;width:4.2rem;height:2.2rem;
border-radius:1.1rem;display:flex;align-items:center;justify-content:center;font-weight:700;
color:#fff}
.bullet.dark{color:#111}
.status{flex:1;font-size:1rem}
.verdict{font-weight:800;font-size:1.1rem}
.YUP{color:#ff6b6b}.NOPE{color:#69db7c}
.checked{color:#aaa;font-size:.9rem;margin-top:1rem}
.history-label{color:#aaa;font-size:.9rem;margin:1.2rem 0 .3rem}
.history{display:flex;gap:2px;align-items:flex-end;height:2.5rem;border-bottom:1px solid #555}
.history span{flex:1;max-width:.6rem;background:#69db7c;min-height:3px}
"""


def render_page(
    rows: list[list[str]],
    checked_at: float,
    history: list[tuple[float, int]],
    source: str = "",
) -> str:
    """Render the page for one snapshot.

    `rows` are `[line, status, "YUP"|"NOPE"]`; `history` is `(epoch, lines not in good
    service)` oldest first, drawn as bars so a bad morning is visible at a glance.
    """
    checked = datetime.fromtimestamp(checked_at, tz=timezone.utc)
    items = "\n".join(_line_item(line, status, verdict) for line, status, verdict in rows)
    bad_now = sum(1 for _, status, _ in rows if status != GOOD_SERVICE)
    headline = "Is my train fucked?" if bad_now else "Is my train fucked? Nope."
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>NYC subway status: {bad_now} of {len(rows)} lines with problems</title>
<style>{_STYLE}</style></head>
<body><main>
<h1>{escape(headline)}</h1>
<p class="summary">{_summary(bad_now, len(rows))}</p>
<ul>
{items}
</ul>
<p class="checked">Checked
<time datetime="{checked.isoformat()}">{checked:%Y-%m-%d %H:%M:%S} UTC</time>
{f"from {escape(source)}" if source else ""}</p>
{_history_strip(history, len(rows))}
</main></body></html>
"""


def _line_item(line: str, status: str, verdict: str) -> str:
    colour = _COLOURS.get(line, "#555")
    dark = " dark" if line in _DARK_TEXT else ""
    severity = SEVERITY.get(status, SEVERITY["DELAYS"])
    return (
        f'<li class="line" data-line="{escape(line)}" data-severity="{severity}">'
        f'<span class="bullet{dark}" style="background:{colour}">{escape(line)}</span>'
        f'<span class="status">{escape(status)}</span>'
        f'<span class="verdict {escape(verdict)}">{escape(verdict)}</span></li>'
    )


def _summary(bad: int, total: int) -> str:
    if bad == 0:
        return f"All {total} line groups have good service."
    return f"{bad} of {total} line groups have problems."


def _history_strip(history: list[tuple[float, int]], total: int) -> str:
    if not history:
        return ""
    bars = []
    for moment, bad in history:
        at = datetime.fromtimestamp(moment, tz=timezone.utc)
        height = 10 + int(90 * bad / max(total, 1))
        colour = "#69db7c" if bad == 0 else "#ffa94d" if bad <= 2 else "#ff6b6b"
        bars.append(
            f'<span title="{at:%H:%M} UTC: {bad} lines with problems" '
            f'style="height:{height}%;background:{colour}"></span>'
        )
    # Without a caption a lone bar reads as decoration; say what the bars measure.
    label = f"Lines with problems at the last {len(history)} checks today, oldest first"
    if len(history) == 1:
        label = "Lines with problems at the first check today"
    return (
        f'<p class="history-label">{label}</p>'
        f'<div class="history" aria-label="Recent checks">{"".join(bars)}</div>'
    )
