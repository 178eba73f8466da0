"""The live latent explorer: the page's JavaScript decoder against torch, and the page in a real browser.

Browser tests drive headless Chromium through the DevTools protocol (tests/cdp.py, over a pipe) with
real mouse and keyboard events. The screenshot is saved under $LATENTSPACE_ARTIFACTS (default: a
folder in the system's temp directory) and its path printed.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cdp import CHROMIUM, Chromium
from sklearn.decomposition import PCA

from latentspace import VAE, AutoEncoder, LinearAutoEncoder
from latentspace.cli import main
from latentspace.errors import printable
from latentspace.nn.mlp import ACTIVATIONS
from latentspace.report.explorer import add_explorer, dequantized
from latentspace.report.html import Report

browser = pytest.mark.browser
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)")
ARTIFACTS = Path(os.environ.get("LATENTSPACE_ARTIFACTS", Path(tempfile.gettempdir()) / "latentspace-artifacts"))


def tiny(cls, **params):
    return cls(**{"epochs": 2, "batch_size": 64, "random_state": 0, **params})


@pytest.fixture(scope="module")
def required_models(digits):
    """The three decoders the issue names, each with a different head: an MLP AE (elu, standard scaling:
    the output affine map), an MLP VAE (gelu, continuous Bernoulli mean), a conv VAE (batch norm, eval
    mode; sigmoid mean); plus PCA and the linear AE, as in the demo."""
    X = digits.X_train
    return {
        "MLP AE": tiny(AutoEncoder, n_components=2, hidden=(32,), activation="elu", scaling="standard").fit(X),
        "MLP VAE": tiny(VAE, n_components=3, hidden=(32, 16), activation="gelu",
                        likelihood="continuous_bernoulli").fit(X),
        "conv VAE": tiny(VAE, n_components=2, architecture="conv", image_shape=(8, 8), channels=(4, 8), hidden=(16,),
                         norm="batch").fit(X),
        "PCA": PCA(2).fit(X),
        "linear AE": tiny(LinearAutoEncoder, n_components=2, epochs=20).fit(X),
    }


@pytest.fixture(scope="module")
def activation_models(digits):
    """One tiny decoder per supported activation, and a conv AE with group norm."""
    X = digits.X_train
    models = {a: tiny(AutoEncoder, n_components=2, hidden=(16,), activation=a, epochs=1).fit(X) for a in ACTIVATIONS}
    models["k=1"] = tiny(AutoEncoder, n_components=1, hidden=(16,), epochs=1).fit(X)
    models["conv group-norm"] = tiny(AutoEncoder, n_components=3, architecture="conv", image_shape=(8, 8),
                                     channels=(4, 8), hidden=(), norm="group", activation="silu", epochs=1).fit(X)
    return models


def write_page(path: Path, parts: list[tuple[dict, object, str]]) -> list[dict]:
    """A page with one explorer per (models, data set, precision); returns their payloads."""
    report = Report("explorer test")
    payloads = [add_explorer(report.section(f"Latent explorer {i}"), models, data, precision)
                for i, (models, data, precision) in enumerate(parts)]
    report.write(path)
    return payloads


def latent_points(model, X: np.ndarray, n: int = 50) -> np.ndarray:
    """Codes of held-out data plus noise of the codes' own scale: on and off the data."""
    codes = np.asarray(model.transform(X[:n]), np.float64)
    noise = np.random.default_rng(0).standard_normal(codes.shape) * codes.std(0)
    return (codes + 0.5 * noise).astype(np.float32)


def page_decodes(chromium: Chromium, explorer: int, model: int, Z: np.ndarray) -> np.ndarray:
    return np.array(chromium.evaluate(
        f"window.latentExplorers[{explorer}].decodeCodes({model}, {json.dumps(Z.astype(float).tolist())})"))


def torch_decodes(model, Z: np.ndarray) -> np.ndarray:
    return np.asarray(model.inverse_transform(Z), np.float64).reshape(len(Z), -1)


def numpy_nearest(payload: dict, x: np.ndarray) -> tuple[int, float, float]:
    """(training index, distance, gap to the runner-up) of the stored row nearest to ``x``."""
    reference = payload["data"]["reference"]
    d = np.sqrt(((dequantized(reference) - x) ** 2).sum(1))
    first, second = np.argsort(d)[:2]
    return reference["index"][first], float(d[first]), float(d[second] - d[first])


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    with Chromium(tmp_path_factory.mktemp("chromium-profile")) as c:
        yield c


@browser
@needs_chromium
def test_page_decodes_like_torch_with_float32_weights(chromium, required_models, activation_models, digits, tmp_path):
    """Every decoder and activation, float32 weights: max abs error 1e-5; every model's map, sliders and
    strip draw without an error (k = 1, 2, 3). The second explorer of the page shows the same data as
    rows (no image shape): a bar strip."""
    rows = replace(digits, image_shape=None)
    page = tmp_path / "f32.html"
    write_page(page, [({**required_models, **activation_models}, digits, "float32"),
                      ({"MLP AE": required_models["MLP AE"]}, rows, "float32")])
    chromium.open(page.as_uri())
    assert chromium.evaluate("window.latentExplorers.length") == 2
    for i, (name, model) in enumerate({**required_models, **activation_models}.items()):
        Z = latent_points(model, digits.X_test)
        err = np.abs(page_decodes(chromium, 0, i, Z) - torch_decodes(model, Z)).max()
        assert err < 1e-5, (name, err)
    n_models = len(required_models) + len(activation_models)
    chromium.evaluate(f"for (let i = 0; i < {n_models}; i++) {{ const e = window.latentExplorers[0];"
                      " e.select(i); e.sample(); e.pin(); e.sample(); e.pin(); }")  # every model's map, sliders, strip
    assert chromium.evaluate("window.latentExplorers[0].state().strip.length") == 10
    Z = latent_points(required_models["MLP AE"], digits.X_test)
    assert np.abs(page_decodes(chromium, 1, 0, Z) - torch_decodes(required_models["MLP AE"], Z)).max() < 1e-5
    strip = chromium.evaluate("(() => { const c = document.querySelectorAll('[data-role=decoded]')[1];"
                              " return [c.width, c.height]; })()")
    assert strip[0] > 2 * strip[1] > 0  # a wide strip of bars, not a square image
    assert chromium.errors == []


@browser
@needs_chromium
def test_explorer_in_the_browser(chromium, required_models, digits, tmp_path):
    """float16 weights (max abs error 2e-3); a real drag changes the decoded image, two clicks draw the
    interpolation strip, the nearest-example panel names numpy's nearest, keys and buttons work, no
    console errors; a screenshot is kept."""
    page = tmp_path / "f16.html"
    (payload,) = write_page(page, [(required_models, digits, "float16")])
    chromium.open(page.as_uri())
    for i, (name, model) in enumerate(required_models.items()):
        Z = latent_points(model, digits.X_test)
        err = np.abs(page_decodes(chromium, 0, i, Z) - torch_decodes(model, Z)).max()
        assert err < 2e-3, (name, err)

    x0, y0, w, h = chromium.evaluate("(() => { const m = document.querySelector('[data-role=map]');"
                                     " m.scrollIntoView(); const r = m.getBoundingClientRect();"
                                     " return [r.left, r.top, r.width, r.height]; })()")
    decoded = "document.querySelector('[data-role=decoded]').toDataURL()"
    state = "window.latentExplorers[0].state()"
    before, z_before = chromium.evaluate(decoded), chromium.evaluate(state)["z"]
    chromium.mouse("mousePressed", x0 + 0.25 * w, y0 + 0.5 * h)
    for t in np.linspace(0, 1, 6)[1:]:
        chromium.mouse("mouseMoved", x0 + (0.25 + 0.5 * t) * w, y0 + (0.5 - 0.2 * t) * h, buttons=1)
    chromium.mouse("mouseReleased", x0 + 0.75 * w, y0 + 0.3 * h)
    after = chromium.evaluate(state)
    assert chromium.evaluate(decoded) != before and after["z"] != z_before and after["pins"] == []

    for fx, fy in ((0.3, 0.3), (0.7, 0.7)):
        chromium.mouse("mousePressed", x0 + fx * w, y0 + fy * h)
        chromium.mouse("mouseReleased", x0 + fx * w, y0 + fy * h)
    after = chromium.evaluate(state)
    assert len(after["pins"]) == 2 and len(after["strip"]) == 10
    assert chromium.evaluate("document.querySelectorAll('[data-role=strip-tile] canvas').length") == 20

    model = required_models["MLP AE"]
    index, distance, gap = numpy_nearest(payload, torch_decodes(model, np.array([after["z"]]))[0])
    assert gap > 1e-2, "the nearest example is nearly tied; choose another point"
    assert after["nearest"]["index"] == index and abs(after["nearest"]["distance"] - distance) < 1e-2
    caption = chromium.evaluate("document.querySelector('[data-role=nearest-caption]').textContent")
    assert f"#{index} " in caption
    a, b = (np.array(p) for p in after["pins"])
    path = np.array([(1 - t) * a + t * b for t in np.linspace(0, 1, 10)])
    for tile, x in zip(after["strip"], torch_decodes(model, path)):
        index, _, gap = numpy_nearest(payload, x)
        assert tile == index or gap < 1e-2

    chromium.evaluate("document.querySelector('[data-role=map]').focus()")
    u_before = chromium.evaluate(state)["z"]
    chromium.key("ArrowRight")
    assert chromium.evaluate(state)["z"][0] > u_before[0]  # k = 2: the map's x axis is z1
    chromium.evaluate("document.querySelector('[data-role=sample]').click()")
    assert chromium.evaluate(state)["z"] != u_before

    chromium.evaluate("(() => { const s = document.querySelector('[data-role=model]'); s.value = '2';"
                      " s.dispatchEvent(new Event('change')); })()")
    assert chromium.evaluate(state)["model"] == "conv VAE"
    chromium.evaluate("window.latentExplorers[0].select(1)")
    for fx, fy in ((0.35, 0.4), (0.65, 0.6)):
        chromium.mouse("mousePressed", x0 + fx * w, y0 + fy * h)
        chromium.mouse("mouseReleased", x0 + fx * w, y0 + fy * h)
    assert chromium.errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "explorer.png"
    shot.write_bytes(chromium.screenshot())
    print(f"explorer screenshot: {shot}")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000


@pytest.fixture(scope="module")
def ae_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("explore") / "ae"
    assert main(["train", "ae", "--n-components", "2", "--epochs", "1", "--hidden", "16", "--out", str(run),
                 "--quiet"]) == 0
    return run


def test_explore_command_writes_one_offline_page(ae_run, tmp_path, capsys):
    out, out32 = tmp_path / "explorer.html", tmp_path / "explorer32.html"
    assert main(["explore", str(ae_run), "--out", str(out), "--references", "300"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert main(["explore", str(ae_run), "--out", str(out32), "--references", "300", "--float32"]) == 0
    text = out.read_text()
    # Nothing is fetched: no src/href but data: URIs and in-page anchors, no URL to load.
    assert not re.search(r"""(?:src|href)=["'](?!data:|#)""", text)
    assert "http://" not in text and "https://" not in text and "fetch(" not in text
    payload = json.loads(re.search(r'class="ls-explorer-data">(.*?)</script>', text, re.DOTALL).group(1))
    assert [m["name"] for m in payload["models"]] == ["ae"] and len(payload["data"]["reference"]["index"]) == 300
    kinds = {op["w"]["dtype"] for op in payload["models"][0]["ops"] if op["op"] == "linear"}
    assert kinds == {"f32"}  # these layers are below the float16 threshold; the big ones are checked below
    assert out32.stat().st_size >= out.stat().st_size


def test_float16_halves_the_weights(required_models, digits):
    from latentspace.report.explorer import decoder_program

    vae = VAE(4, hidden=(128,), epochs=1, random_state=0).fit(digits.X_train[:200])
    sizes = {p: len(json.dumps(decoder_program(vae, p))) for p in ("float16", "float32")}
    assert sizes["float16"] < 0.6 * sizes["float32"]


def test_explore_command_errors_are_one_line(ae_run, tmp_path, capsys):
    assert main(["explore", str(ae_run), "--out", str(tmp_path / "e.png")]) == 2
    assert main(["explore", str(tmp_path), "--out", str(tmp_path / "e.html")]) == 2
    assert main(["explore", str(ae_run), "--out", str(tmp_path / "e.html"), "--data", "digits", "--points", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "ending in .html" in err[0] and "not a run folder" in err[1] and "--points" in err[2]
    assert not (tmp_path / "e.html").exists()


#: names that broke the page (a JSON block that escaped only "</"), or could: comment and script
#: openers, entities, CDATA ends, the two JavaScript line separators, quotes, a lone surrogate of a
#: file name that was not UTF-8
HOSTILE_NAMES = ["x<!--<script>", "</script><script>window.pwned=1</script>", "a&amp;b&lt;", "]]>-->",
                 "line\u2028sep\u2029par", "q\"uo'te`", "\udcff"]


def test_script_json_escapes_every_character_that_can_break_the_block():
    from latentspace.report.html import script_json

    value = {"names": HOSTILE_NAMES, HOSTILE_NAMES[0]: [HOSTILE_NAMES[1]]}
    text = script_json(value)
    assert not re.search("[<>&\u2028\u2029]", text) and text.isascii()
    assert json.loads(text) == value


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """Two run folders with hostile names, trained on a folder of images whose class folders (the class
    names) are hostile too."""
    from PIL import Image

    root = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    classes = [n.replace("/", "&#47;") for n in HOSTILE_NAMES]
    images = root / "images<!--<script>&"
    for c, name in enumerate(classes):
        (images / name).mkdir(parents=True)
        for i in range(12):
            pixels = np.clip(rng.normal(30 * c, 40, (8, 8)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(images / name / f"{i}.png")
    runs = [root / classes[0], root / classes[1]]
    for run in runs:
        assert main(["train", "ae", "--data", str(images), "--n-components", "2", "--epochs", "1", "--hidden", "8",
                     "--out", str(run), "--quiet"]) == 0
    return runs, classes


@pytest.fixture(scope="module")
def counts_vae(digits):
    """A VAE on digits' raw 0-16 counts: likelihood="auto" picks the calibrated Gaussian (identity mean)."""
    counts = replace(digits, X_train=digits.X_train * 16, X_test=digits.X_test * 16)
    vae = tiny(VAE, n_components=2, hidden=(64,), epochs=3).fit(counts.X_train)
    return vae, counts


@browser
@needs_chromium
def test_hostile_names_leave_a_live_page(chromium, hostile_runs, tmp_path):
    """Run folders, data path and class names that open comments and scripts: `explore` and `report`
    write pages whose explorer works (every model listed by its exact name, class names intact), that run
    no script but their own, and show no error."""
    runs, classes = hostile_runs
    for command in ("explore", "report"):
        page = tmp_path / f"{command}.html"
        assert main([command, *map(str, runs), "--out", str(page)]) == 0
        chromium.errors.clear()
        chromium.open(page.as_uri())
        assert chromium.evaluate("window.latentExplorers.length") == 1, command
        options = chromium.evaluate("Array.from(document.querySelectorAll('[data-role=model] option'),"
                                    " o => o.textContent)")
        assert [o.rsplit(" (", 1)[0] for o in options] == [r.name for r in runs]
        shown = [printable(c) for c in sorted(classes)]  # the lone surrogate as "\\udcff", the rest as it is
        assert chromium.evaluate("window.latentExplorers[0].data.label_names") == shown
        assert chromium.evaluate("typeof window.pwned") == "undefined"
        chromium.evaluate("window.latentExplorers[0].sample()")
        assert chromium.errors == [], (command, chromium.errors)


@browser
@needs_chromium
def test_page_decodes_a_calibrated_gaussian_vae_like_torch(chromium, counts_vae, tmp_path):
    """Real-valued data: the likelihood the VAE picks for them describes its own mean, and the page's
    decode (float16 weights) matches torch's within 2e-3 in the data's units (0-16)."""
    vae, counts = counts_vae
    assert type(vae.model_.likelihood).__name__ == "CalibratedGaussian"
    page = tmp_path / "counts.html"
    write_page(page, [({"VAE on counts": vae}, counts, "float16")])
    chromium.open(page.as_uri())
    Z = latent_points(vae, counts.X_test)
    expected = torch_decodes(vae, Z)
    assert expected.max() > 2  # the decodes are counts, not [0, 1] values
    err = np.abs(page_decodes(chromium, 0, 0, Z) - expected).max()
    print(f"calibrated Gaussian VAE, float16 weights: max abs error {err:.2e} on decodes up to {expected.max():.1f}")
    assert err < 2e-3, err
    assert chromium.errors == []


def test_every_likelihood_describes_its_mean_for_the_page(digits):
    """Each named likelihood's mean_ops, replayed in numpy, is its torch mean; one that cannot describe
    itself gets a clear error from the explorer instead of a wrong page."""
    import torch

    from latentspace.errors import LatentspaceError
    from latentspace.nn.likelihoods import LIKELIHOODS, Likelihood, make_likelihood
    from latentspace.report.explorer import decoder_program, mean_op

    out = torch.linspace(-8, 8, 401, dtype=torch.float64)[None].repeat(2, 1)
    replay = {"sigmoid": lambda v, p: 1 / (1 + np.exp(-v)),
              "continuous_bernoulli": lambda v, p: np.where(
                  np.abs(v) < p["taylor_below"], 0.5 + v / 12 - v ** 3 / 720, -1 / np.expm1(-v) - 1 / v).clip(0, 1)}
    for name in LIKELIHOODS:
        likelihood = make_likelihood(name, out.shape[1])
        values = out.numpy().copy()
        with np.errstate(divide="ignore", invalid="ignore"):  # the closed form at 0, which the Taylor branch replaces
            for op in mean_op(likelihood):
                values = replay[op["fn"]](values, op)
        assert np.allclose(values, likelihood.mean(out).numpy(), atol=1e-9), name

    class Opaque(Likelihood):
        def mean(self, out):
            return out.exp()

    vae = tiny(VAE, n_components=2, hidden=(8,), epochs=1).fit(digits.X_train[:100])
    vae.model_.likelihood = Opaque()
    with pytest.raises(LatentspaceError, match="Opaque likelihood does not describe its mean"):
        decoder_program(vae)


@browser
@needs_chromium
def test_page_shows_the_demos_standardised_data_in_the_users_units(chromium, counts_vae, tmp_path):
    """The demo standardises real-valued data for its models; the page undoes it: decodes and stored rows
    read in the user's units (digit counts 0-16), the nearest example is searched in the models' scale."""
    from latentspace.workflows.demo import standardised

    _, counts = counts_vae
    scaled = standardised(counts)
    vae = tiny(VAE, n_components=2, hidden=(64,), epochs=3).fit(scaled.X_train)
    page = tmp_path / "units.html"
    (payload,) = write_page(page, [({"VAE": vae}, scaled, "float16")])
    stored = dequantized(payload["data"]["reference"])
    assert stored.max() > 15 and np.allclose(stored, counts.X_train[payload["data"]["reference"]["index"]], atol=0.04)
    chromium.open(page.as_uri())
    Z = latent_points(vae, scaled.X_test)
    expected = scaled.in_units(torch_decodes(vae, Z))
    err = np.abs(page_decodes(chromium, 0, 0, Z) - expected).max()
    assert err < 2e-3 * scaled.units.scale.max(), err  # float16 weights: 2e-3 in the models' scale
    state = chromium.evaluate("window.latentExplorers[0].state()")
    x = scaled.in_units(torch_decodes(vae, np.array([state["z"]])))[0]
    d = np.sqrt((((stored - x) / scaled.units.scale) ** 2).sum(1))
    assert state["nearest"]["index"] == payload["data"]["reference"]["index"][int(np.argmin(d))]
    assert abs(state["nearest"]["distance"] - d.min()) < 1e-2
    assert "(standardised)" in chromium.evaluate("document.querySelector('[data-role=nearest-caption]').textContent")
    assert chromium.errors == []


@browser
@needs_chromium
def test_table_rows_show_as_bars_named_on_hover(chromium, tmp_path):
    """A real table (wine, standardised as the demo does): the decoded row is drawn as bars, and hovering
    bar j names feature j and gives the decoded value in the data's own units."""
    from latentspace.datasets import load_dataset
    from latentspace.workflows.demo import standardised

    data = standardised(load_dataset("wine"))
    ae = tiny(AutoEncoder, n_components=2, hidden=(16,), epochs=20).fit(data.X_train)
    page = tmp_path / "wine.html"
    write_page(page, [({"AE": ae}, data, "float32")])
    chromium.open(page.as_uri())
    state = chromium.evaluate("window.latentExplorers[0].state()")
    decoded = data.in_units(torch_decodes(ae, np.array([state["z"]])))[0]
    x0, y0, w, h = chromium.evaluate("(() => { const c = document.querySelector('[data-role=decoded]');"
                                     " c.scrollIntoView(); const r = c.getBoundingClientRect();"
                                     " return [r.left, r.top, r.width, r.height]; })()")
    assert chromium.evaluate("document.querySelector('[data-role=decoded]').dataset.bars") == "1"
    for j in (0, 4, 12):  # alcohol (%), magnesium (mg/l), proline
        chromium.mouse("mouseMoved", x0 + (j + 0.5) / 13 * w, y0 + 0.5 * h)
        text = chromium.evaluate("document.querySelector('[data-role=feature-readout]').textContent")
        name, value = re.match(r"(.+) = (-?[\d.]+) \(data", text).groups()
        assert name == data.feature_names[j]
        assert abs(float(value) - decoded[j]) <= 0.006 * max(1.0, abs(decoded[j])), (text, decoded[j])
    assert decoded[12] > 100  # proline, in mg/l: the user's units, not a z-score
    assert chromium.errors == []


@browser
@needs_chromium
def test_the_class_picker_conditions_the_page_decoder_like_torch(chromium, digits, tmp_path):
    """A conditional VAE (MLP and conv): for every class the page decodes as torch decodes with that class
    (float32 weights, max abs error 1e-5); picking a class with the keyboard in the class select changes
    the picture, to torch's decode of the point as the class picked; the picker hides for a model without
    classes."""
    from latentspace import ConditionalVAE

    names = np.array(digits.label_names, dtype=object)
    X, y = digits.X_train, names[digits.y_train]
    models = {"cvae": tiny(ConditionalVAE, n_components=3, hidden=(32,)).fit(X, y),
              "conv cvae": tiny(ConditionalVAE, n_components=2, architecture="conv", image_shape=(8, 8),
                                channels=(4, 8), hidden=(16,)).fit(X, y),
              "VAE": tiny(VAE, n_components=2, hidden=(16,)).fit(X)}
    page = tmp_path / "classes.html"
    write_page(page, [(models, digits, "float32")])
    chromium.open(page.as_uri())
    for i, name in enumerate(("cvae", "conv cvae")):
        model = models[name]
        Z = latent_points(model, digits.X_test, n=20)
        for c, label in enumerate(model.classes_):
            err = np.abs(page_decodes_as(chromium, i, Z, c) - torch_decodes_as(model, Z, label)).max()
            assert err < 1e-5, (name, label, err)

    state, decoded = "window.latentExplorers[0].state()", "document.querySelector('[data-role=decoded]').toDataURL()"
    start, before = chromium.evaluate(state), chromium.evaluate(decoded)
    frequent = int(np.argmax(models["cvae"].class_prior_))
    assert start["cls"] == models["cvae"].classes_[frequent]  # the page starts with the most frequent class
    chromium.evaluate("document.querySelector('[data-role=class]').focus()")
    chromium.key("ArrowUp" if frequent == 9 else "ArrowDown")
    picked = chromium.evaluate(state)
    label = models["cvae"].classes_[frequent - 1 if frequent == 9 else frequent + 1]
    assert picked["cls"] == label and picked["z"] == start["z"] and chromium.evaluate(decoded) != before
    shown = np.array(chromium.evaluate(f"window.latentExplorers[0].decodeCodes(0, [{json.dumps(picked['z'])}])"))
    np.testing.assert_allclose(shown, torch_decodes_as(models["cvae"], np.array([picked["z"]]), label), atol=1e-5)
    assert f"class {label}" in chromium.evaluate("document.querySelector('[data-role=info]').textContent")
    hidden = "getComputedStyle(document.querySelector('[data-role=class]').parentElement).display"
    assert chromium.evaluate(hidden) != "none"
    chromium.evaluate("window.latentExplorers[0].select(2)")  # the VAE: no classes to pick
    assert chromium.evaluate(hidden) == "none" and chromium.evaluate(state)["cls"] is None
    assert chromium.errors == []


def page_decodes_as(chromium: Chromium, model: int, Z: np.ndarray, cls: int) -> np.ndarray:
    return np.array(chromium.evaluate(
        f"window.latentExplorers[0].decodeCodes({model}, {json.dumps(Z.astype(float).tolist())}, {cls})"))


def torch_decodes_as(model, Z: np.ndarray, label) -> np.ndarray:
    return np.asarray(model.inverse_transform(Z, y=label), np.float64).reshape(len(Z), -1)
