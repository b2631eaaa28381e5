#!/usr/bin/env python3
"""Records what GNU bash prints for each case of the shell corpus
(runtime/tests_py/corpus/cases.sh) into corpus/expected.json: stdout and
the exit status, each case in a fresh directory holding the corpus files
(files.py) with fixed times, LC_ALL=C and TZ=UTC. Run it once, where GNU
bash 5 and coreutils are the system's, when cases are added; the test
(test_corpus.py) compares the sandbox shell against the recording.

Usage: python3 scripts/record-shell-corpus.py
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "runtime" / "tests_py" / "corpus"
sys.path.insert(0, str(CORPUS))
import files  # noqa: E402


def cases():
    return [line for line in (CORPUS / "cases.sh").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def main():
    version = subprocess.run(["bash", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    recorded = {"bash": version, "cases": []}
    for case in cases():
        with tempfile.TemporaryDirectory() as root:
            files.write(root)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/home/user",
                   "LC_ALL": "C", "TZ": "UTC"}
            run = subprocess.run(["bash", "-c", case], cwd=root, env=env, capture_output=True,
                                 text=True, timeout=10)
        recorded["cases"].append({"command": case, "stdout": run.stdout, "exit_code": run.returncode})
    (CORPUS / "expected.json").write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(recorded['cases'])} cases with {version}")


if __name__ == "__main__":
    main()
