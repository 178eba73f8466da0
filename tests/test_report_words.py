"""The report speaks of the user's data (its rows, classes and features, never "digits" on other data),
its verdicts say where the data weaken them, and its tables fit the page (a wide one scrolls)."""

from __future__ import annotations

import html
import re

import pytest
from cdp import CHROMIUM, Chromium

from latentspace.cli import main
from latentspace.data import load_dataset
from latentspace.workflows.demo import STAGES, DemoBudget, run_demo

TINY = DemoBudget("tiny", train_rows=None, test_rows=None, steps=150, sweep_ks=(1, 2), sweep_steps=50,
                  sweep_models=("pca", "ae"), samples=50, sweep_samples=50, iw_samples=10, iw_rows=50,
                  memorize_epochs=20)
#: the stages whose captions describe the data (fit first: they need its models)
CAPTIONED = ("fit", "reconstruction", "latent spaces", "samples", "interpolation")


def captions(report_text: str) -> str:
    """Every section intro and figure caption of a report, as plain text."""
    parts = re.findall(r"<figcaption>(.*?)</figcaption>|<p class=\"look\">(.*?)</p>", report_text, re.S)
    return " ".join(html.unescape(a or b) for a, b in parts)


#: the stages that judge samples (fit first); the slow tests of test_demo_tables.py run them all
JUDGED = ("fit", "regularity", "memorising AE")


@pytest.fixture(scope="module")
def wine_demo(tmp_path_factory):
    """The demo's captioned and judging stages on wine (a small budget): what it printed, and its result."""
    lines: list[str] = []
    stages = [s for s in STAGES if s.name in CAPTIONED + JUDGED]
    result = run_demo(load_dataset("wine"), tmp_path_factory.mktemp("wine"), budget=TINY, stages=stages,
                      echo=lines.append, show_progress=False)
    return lines, result


def test_demo_captions_speak_of_the_users_data(wine_demo, tmp_path):
    """Under wine the captions name its classes and features and never say "digits" or "images"; under
    digits they speak of images and its classes."""
    text = captions(wine_demo[1].report_path.read_text())
    assert "gets wrong" in text  # the reconstruction caption is there
    assert not re.search(r"\b(digits?|images?|tiles?|pixels?)\b", text, re.I), text
    assert "cultivar 1" in text and "alcohol" in text and "13 features" in text
    stages = [s for s in STAGES if s.name in CAPTIONED]
    digits = run_demo(load_dataset("digits"), tmp_path / "digits", budget=TINY, stages=stages,
                      echo=lambda line: None, show_progress=False)
    text = captions(digits.report_path.read_text())
    assert "confuses" in text and "images" in text and "its 10 classes" in text


def test_verdicts_on_a_table_say_where_the_data_weaken_them(wine_demo):
    lines, result = wine_demo
    assert result.interrupted_in is None
    assert "data outside [0, 1]: standardised" in "\n".join(lines)
    basis = result.tables["feature_space"][0]
    assert basis["heldout_rows"] == 36 and basis["n_features"] == 13 and not basis["images"]
    by_claim = {v.split(": ", 1)[1].split(" (")[0]: v for v in result.verdicts}
    generates = next(v for c, v in by_claim.items() if c.startswith("an autoencoder cannot generate"))
    memorises = next(v for c, v in by_claim.items() if c.startswith("between the codes"))
    # 36 held-out rows against a 256-dimensional feature space: said, with the numbers.
    assert "from 36 held-out rows" in generates and f"{basis['dim']}-dimensional" in generates
    assert "steps of 0.028" in memorises and "no picture to check it by eye" in memorises
    assert "Fréchet" not in memorises.split("[on this data")[1]  # that verdict rests on precision only
    assert "[on this data" not in by_claim["a non-linear autoencoder reconstructs better than PCA at the same latent size"]
    page = result.report_path.read_text()
    assert "[on this data:" in page and 'data-table="feature_space"' in page


needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")


@pytest.mark.browser
@needs_chromium
def test_the_evaluation_table_scrolls_inside_the_page(tmp_path):
    """A real run's evaluation table (many metrics) is wider than a 900-pixel window: it scrolls inside
    its box and the page itself does not widen."""
    run = tmp_path / "vae"
    assert main(["train", "vae", "--data", "breast-cancer", "--epochs", "2", "--hidden", "16", "--out", str(run),
                 "--quiet"]) == 0
    assert main(["evaluate", str(run), "--iw-samples", "10", "--regularity-samples", "50"]) == 0
    page = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(page)]) == 0
    with Chromium(tmp_path / "profile", width=900, height=800) as chromium:
        chromium.open(page.as_uri())
        page_width, window = chromium.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        box = chromium.evaluate("(() => { const t = document.querySelector('table[data-table=evaluation]');"
                                " const b = t.parentElement; return [b.className, b.scrollWidth, b.clientWidth]; })()")
        assert chromium.errors == []
    assert box[0] == "table-wrap" and box[1] > box[2]  # wider than the window, so it scrolls ...
    assert page_width <= window  # ... and the page does not
