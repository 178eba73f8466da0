import sys

try:
    from .cli import run
except KeyboardInterrupt:  # Ctrl-C while torch is still importing: one line, not a traceback
    print("latentspace: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(run())
