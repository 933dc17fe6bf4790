"""Numbers that cannot drift: the README's results section and notebook 04's committed tables are
both made from docs/results.json (written by `make reproduce`), and must say what it says."""
from __future__ import annotations

import json
import re
from pathlib import Path

from rclib import reproduce

ROOT = Path(__file__).resolve().parent.parent


def _results():
    return json.loads(reproduce.RESULTS_JSON.read_text())


def test_readme_results_section_is_made_from_the_results_file():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index(reproduce.MARK_BEGIN) + len(reproduce.MARK_BEGIN):readme.index(reproduce.MARK_END)]
    expected = reproduce.results_markdown(_results(), minutes=None)
    # Only the run's duration is not in the results file ("in N minutes on this machine").
    section = re.sub(r" in \d+ minutes on this machine", "", section)
    assert section.strip() == expected.strip()


def test_notebook_04_committed_tables_show_the_results_file_numbers():
    nb = json.loads((ROOT / "notebooks" / "04_eval.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    results = _results()
    for codec in ("rclib", "WebP-LL", "PNG"):
        assert f"{results['codecs'][codec]['bpsp']:.3f}" in text, codec
    assert f"{results['pictures']} pictures" in (ROOT / "README.md").read_text()


def test_committed_notebooks_have_no_injected_parameters_and_stay_lean():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        tags = [t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])]
        assert "injected-parameters" not in tags, path.name
        assert tags.count("parameters") == 1, path.name
        assert path.stat().st_size < 1_100_000, path.name
