"""``latentspace report``: run folders in, one self-contained HTML page out."""

import io
import json

import matplotlib.image
from conftest import assert_one_line_error, parse_report_html


def test_report_command_compares_two_runs(ae_run, vae_run, tmp_path, cli):
    out = tmp_path / "cmp.html"
    code, printed, err = cli("report", ae_run, vae_run, "--out", out, "--examples", 4)
    assert code == 0, err
    assert printed.strip() == str(out)
    text = out.read_text()
    parsed = parse_report_html(text)
    assert parsed["sections"] == ["Runs", "Training", "Reconstructions", "Latent spaces", "Latent explorer",
                                  "Generating", "Interpolation and traversals", "Configuration"]
    assert parsed["tables"] == ["runs"]
    assert {"training-curves", "reconstructions", "latent-scatter", "manifold-ae", "samples", "interpolations",
            "traversal-ae", "traversal-vae"} == set(parsed["figures"])
    assert "manifold-vae" not in parsed["figures"]  # k=4: no 2-D grid
    for png in parsed["figures"].values():
        assert matplotlib.image.imread(io.BytesIO(png), format="png").size > 0
    metrics = json.loads((vae_run / "metrics.json").read_text())
    assert f"{metrics['test_neg_elbo']:.4g}" in text
    assert text.count("<summary>") == 2  # each run's configuration


def test_report_command_errors_are_one_line(tmp_path, cli):
    assert_one_line_error(cli("report", tmp_path, "--out", tmp_path / "r.html"), "not a run folder (no config.json)")
    assert cli("report", tmp_path, "--out", tmp_path / "r.png")[0] == 2
    assert not (tmp_path / "r.html").exists()
