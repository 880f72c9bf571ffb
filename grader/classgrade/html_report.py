"""``report.html``: the class at a glance in one self-contained page, built from the gradebook.

Jinja2 (autoescaping every value) renders the page; the numbers come from
:mod:`grader.classgrade.page_data`. The data the page script needs is embedded as JSON in a
``<script type="application/json">`` block with ``<``, ``>`` and ``&`` escaped, so no text can
close it. The page script only ever writes learner text with ``textContent``. A
Content-Security-Policy meta tag allows nothing remote and runs only the page's own script and
style (by hash), so an inline event handler would not run even if one slipped through.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

from grader.classgrade import gradebook
from grader.core.atomic import write_text
from grader.core.errors import InputError
from grader.course.info import Course

FILE_NAME = "report.html"
NO_JINJA = "the HTML report needs Jinja2: pip install 'dlgrade[instructor]'"
NO_GRADEBOOK = "{path}: no gradebook here (run dlgrade grade --out {folder} first)"
DAMAGED = "{path}: not a readable gradebook ({reason})"
BAR_HEIGHT = 100


def environment() -> Any:
    """The Jinja2 environment for dlgrade's HTML templates (autoescape on for everything)."""
    try:
        import jinja2
    except ImportError:
        raise InputError(NO_JINJA) from None
    return jinja2.Environment(
        loader=jinja2.PackageLoader("grader.classgrade", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def asset(name: str) -> str:
    """A static file (script, style) from the templates folder."""
    return resources.files("grader.classgrade").joinpath("templates", name).read_text("utf-8")


def csp_hash(text: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def json_block(value: Any) -> str:
    """``value`` as JSON safe inside a script element: no ``</script>`` or comment can appear."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def bars(counts: list[int]) -> list[dict[str, Any]]:
    """SVG bar heights (out of BAR_HEIGHT) for histogram counts, the tallest bar full height."""
    peak = max(counts, default=0) or 1
    return [{"count": n, "height": round(n / peak * BAR_HEIGHT, 2)} for n in counts]


def render(page: dict[str, Any]) -> str:
    """The HTML text of a page built by :func:`grader.classgrade.page_data.page`."""
    from markupsafe import Markup

    env = environment()
    env.globals["bars"] = bars
    script, style = asset("report.js"), asset("report.css")
    policy = (
        "default-src 'none'; base-uri 'none'; form-action 'none'; "
        f"script-src {csp_hash(script)}; style-src {csp_hash(style)}"
    )
    shown = {k: v for k, v in page.items() if k != "payload"}
    return env.get_template("report.html.j2").render(
        **shown,
        csp=policy,
        script=Markup(script),
        style=Markup(style),
        payload=Markup(json_block(page["payload"])),
    )


def write(conn: sqlite3.Connection, out: Path, course: Course) -> Path:
    """Write ``out/report.html`` from the gradebook open on ``conn``."""
    from grader.classgrade.page_data import page

    path = out / FILE_NAME
    html = render(page(conn, out, course))
    write_text(path, html.encode("utf-8", "replace").decode("utf-8"))
    return path


def rebuild(folder: Path, course: Course) -> Path:
    """``dlgrade report``: rebuild ``folder/report.html`` from its gradebook.sqlite alone."""
    environment()  # a missing Jinja2 is said before anything else
    path = folder / gradebook.FILE_NAME
    if not path.is_file():
        raise InputError(NO_GRADEBOOK.format(path=path, folder=folder))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise InputError(DAMAGED.format(path=path, reason=exc)) from None
    conn.row_factory = sqlite3.Row
    try:
        if gradebook.settings(conn) is None:
            raise InputError(DAMAGED.format(path=path, reason="no settings"))
        return write(conn, folder, course)
    except (sqlite3.Error, KeyError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise InputError(DAMAGED.format(path=path, reason=reason)) from None
    finally:
        conn.close()
