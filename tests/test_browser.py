"""The report in a real browser: headless Chromium decodes every image and shows the tables.

Uses Chromium's own command line (``--dump-dom``, ``--screenshot``), so no browser-driver package is
needed: a copy of the report carries a small script that, once the page has loaded, writes what the
browser saw (each image's naturalWidth, the tables) into the DOM, which ``--dump-dom`` prints.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import parse_report_html

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]

CHECK_SCRIPT = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (img) {
    var figure = img.closest("figure");
    return {name: figure ? figure.getAttribute("data-figure") : "", complete: img.complete,
            naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight};
  });
  var tables = Array.prototype.map.call(document.querySelectorAll("table"), function (t) {
    return {name: t.getAttribute("data-table"), rows: t.querySelectorAll("tbody tr").length};
  });
  var out = document.createElement("pre");
  out.id = "browser-check";
  out.textContent = JSON.stringify({images: images, tables: tables, height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
});
</script>"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120)


def browser_check(report: Path, tmp_path: Path) -> dict:
    """Load a copy of ``report`` carrying the check script; return what the page reported."""
    checked = tmp_path / "checked.html"
    checked.write_text(report.read_text().replace("</body>", CHECK_SCRIPT + "</body>"))
    proc = chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", checked.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r'<pre id="browser-check">(.*?)</pre>', proc.stdout, re.S)
    assert found, "the check script did not run: " + proc.stderr[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def test_demo_report_renders_in_chromium(quick_demo, tmp_path):
    result = quick_demo
    expected = parse_report_html(result.report_path.read_text())
    seen = browser_check(result.report_path, tmp_path)
    assert [i["name"] for i in seen["images"]] == list(expected["figures"])
    for image in seen["images"]:
        assert image["complete"] and image["naturalWidth"] > 0 and image["naturalHeight"] > 0, image
    assert [t["name"] for t in seen["tables"]] == expected["tables"]
    assert all(t["rows"] > 0 for t in seen["tables"])
    height = min(max(int(seen["height"]), 800), 16000)
    shot = tmp_path / "report.png"
    proc = chromium(tmp_path / "profile", f"--window-size=1200,{height}", "--hide-scrollbars",
                    f"--screenshot={shot}", result.report_path.as_uri())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_a_broken_image_is_caught(quick_demo, tmp_path):
    """The check can fail: corrupt one embedded PNG and the browser reports naturalWidth 0."""
    text = quick_demo.report_path.read_text()
    broken = tmp_path / "broken.html"
    broken.write_text(re.sub(r"data:image/png;base64,[A-Za-z0-9+/]{40}", "data:image/png;base64," + "A" * 40, text, count=1))
    seen = browser_check(broken, tmp_path)
    widths = [i["naturalWidth"] for i in seen["images"]]
    assert widths[0] == 0 and all(w > 0 for w in widths[1:])
