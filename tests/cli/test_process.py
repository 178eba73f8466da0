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
