"""The one test that starts the program as a separate process: ``python -m latentspace`` as a user runs it.

Every other CLI test calls ``latentspace.cli.main`` in the test's own process (a fresh interpreter
imports torch: seconds each on a shared machine). This one checks what only a real process shows: the
entry point, the exit status reaching the shell, and a stderr with nothing on it but the one line (no
traceback, no warning printed at import).
"""

from conftest import run_cli


def test_a_real_process_exits_2_with_exactly_one_line_on_stderr(tmp_path):
    (tmp_path / "t-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00")
    code, out, err = run_cli("datasets", "--data", tmp_path / "t-idx3-ubyte")
    assert code == 2 and out == ""
    assert err == f"latentspace datasets: error: {tmp_path / 't-idx3-ubyte'}: truncated IDX header: 5 bytes, the header needs 16\n"


def test_the_console_script_is_main_with_a_frozen_heap_at_exit(monkeypatch, capsys):
    """``latentspace`` (pyproject's script) and ``python -m latentspace`` both run ``cli.run``: main's
    status, and the heap frozen so that the exiting interpreter skips its 1.4 s garbage collection."""
    import gc
    import sys
    import tomllib
    from pathlib import Path

    from latentspace.cli import run

    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"latentspace": "latentspace.cli:run"}
    monkeypatch.setattr(sys, "argv", ["latentspace", "--version"])
    try:
        assert run() == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert capsys.readouterr().out.startswith("latentspace ")
