"""The shell corpus (corpus/README.md): every agent-style one-liner of
corpus/cases.sh through the sandbox shell, against what GNU bash printed
(corpus/expected.json). Reports the pass rate and each miss; fails below
FLOOR, which only ever goes up."""

import json
import os
import sys
import tempfile
import unittest

from shell_case import shell

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
sys.path.insert(0, CORPUS)
import files  # noqa: E402

# The share of cases that must match bash exactly (stdout and status).
FLOOR = 0.98


class CorpusTests(unittest.TestCase):
    def test_the_corpus_matches_bash(self):
        with open(os.path.join(CORPUS, "expected.json"), encoding="utf-8") as f:
            recorded = json.load(f)["cases"]
        self.assertGreaterEqual(len(recorded), 150)
        old_cwd, old_env = os.getcwd(), dict(shell.ENV)
        misses = []
        try:
            for case in recorded:
                with tempfile.TemporaryDirectory() as root:
                    files.write(root)
                    os.chdir(root)
                    shell.ENV.clear()
                    shell.ENV.update({"PATH": "/usr/bin:/bin", "HOME": "/home/user",
                                      "LC_ALL": "C", "TZ": "UTC"})
                    got = shell.run(case["command"])
                    os.chdir(old_cwd)
                if (got["stdout"], got["exit_code"]) != (case["stdout"], case["exit_code"]):
                    misses.append(f"{case['command']}\n    bash: {case['stdout']!r} ({case['exit_code']})"
                                  f"\n    here: {got['stdout']!r} ({got['exit_code']}) {got['stderr'][:160]!r}")
        finally:
            os.chdir(old_cwd)
            shell.ENV.clear()
            shell.ENV.update(old_env)
        rate = 1 - len(misses) / len(recorded)
        print(f"\nshell corpus: {len(recorded) - len(misses)}/{len(recorded)} match bash ({rate:.1%})")
        for miss in misses:
            print("  miss:", miss)
        self.assertGreaterEqual(rate, FLOOR, "\n".join(misses))


if __name__ == "__main__":
    unittest.main()
