"""`latentspace demo --quick` on real-valued tables, as a user runs it (slow: minutes each). The fast
version, every stage on wine with a small budget, is in test_report_words.py."""

from __future__ import annotations

import re

import pytest

from latentspace.cli import main


@pytest.mark.slow
@pytest.mark.parametrize("name", ["breast-cancer", "wine", "csv"])
def test_quick_demo_on_tables_prints_every_verdict(name, tmp_path, capsys):
    """`latentspace demo --quick` on the bundled tables and on a user's CSV (header, text label column, a
    constant feature): it finishes, prints five verdicts, and its report shows feature-named rows."""
    data = name
    if name == "csv":
        from sklearn.datasets import load_breast_cancer

        bunch = load_breast_cancer()
        data = tmp_path / "masses.csv"
        rows = [",".join(["diagnosis", *bunch.feature_names, "constant"])]
        rows += [",".join([bunch.target_names[t], *map(str, x), "1.0"]) for x, t in zip(bunch.data, bunch.target)]
        data.write_text("\n".join(rows) + "\n")
    args = ["demo", "--quick", "--data", str(data), "--out", str(tmp_path / "demo")]
    if name == "csv":
        args += ["--label-column", "diagnosis"]
    assert main(args) == 0
    out = capsys.readouterr().out
    verdicts = out.split("verdicts on the tutorial's claims, measured on this run:")[1].strip().splitlines()[:5]
    assert all(re.match(r"(HOLDS|DOES NOT HOLD|HOLDS ONLY)", v.strip()) for v in verdicts), verdicts
    page = (tmp_path / "demo" / "report.html").read_text()
    names = ["mean radius", "worst symmetry"] if name != "wine" else ["alcohol", "proline"]
    assert all(f"&quot;{n}&quot;" in page or f'"{n}"' in page for n in names)  # the explorer's feature names
    assert "digit" not in page.split("<h2>Configuration</h2>")[0].lower().replace("digits-counts", "")
