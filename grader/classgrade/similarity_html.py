"""The per-exercise HTML of ``dlgrade similarity``: dlgrade's own page, nothing from the network.

copydetect's own report loads Bootstrap from a CDN. This page shows the same matches (the
highlighted code copydetect computes, which it HTML-escapes itself) with an inline SVG
histogram, ``<details>`` instead of Bootstrap's script, and the report's Content-Security-Policy
without any script.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grader.classgrade.analytics import histogram
from grader.classgrade.html_report import asset, bars, csp_hash, environment


def render(exercise: str, detector: Any, student_of: Callable[[str], str], threshold: float) -> str:
    """The HTML page for one exercise's finished copydetect run; ``student_of`` maps a path."""
    import copydetect
    from markupsafe import Markup

    matrix = detector.similarity_matrix[:, :, 0]
    scores = [round(float(v) * 1000) for v in matrix[matrix != -1]]
    pairs = [
        {
            "a": student_of(a),
            "b": student_of(b),
            "share_a": round(float(sim_a) * 100, 1),
            "share_b": round(float(sim_b) * 100, 1),
            "tokens": int(overlap),
            "code_a": Markup(code_a),  # copydetect escapes the code, then adds its <span>s
            "code_b": Markup(code_b),
        }
        for sim_a, sim_b, a, b, code_a, code_b, overlap in detector.get_copied_code_list()
    ]
    style = asset("similarity.css")
    env = environment()
    env.globals["bars"] = bars
    return env.get_template("similarity.html.j2").render(
        csp=f"default-src 'none'; base-uri 'none'; form-action 'none'; style-src {csp_hash(style)}",
        style=Markup(style),
        exercise=exercise,
        files=len(detector.test_files),
        version=getattr(copydetect, "__version__", "?"),
        threshold=threshold,
        pairs=pairs,
        bins=histogram(scores, 1000),
    )
