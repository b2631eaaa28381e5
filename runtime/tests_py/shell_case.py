"""The shared base of the tests of _toolshed_shell (runtime/src/python), the
sandbox's pure-Python shell, imported here as `shell`.

Run with: python3 -m unittest discover -s runtime/tests_py -v
Each test runs in a fresh temporary directory.
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "python"))

import _toolshed_shell as shell  # noqa: E402


class ShellTestCase(unittest.TestCase):
    def setUp(self):
        self._old_cwd = os.getcwd()
        self._old_env = dict(shell.ENV)
        self._tmp = tempfile.TemporaryDirectory()
        os.chdir(self._tmp.name)
        self.root = os.getcwd()

    def tearDown(self):
        os.chdir(self._old_cwd)
        shell.ENV.clear()
        shell.ENV.update(self._old_env)
        self._tmp.cleanup()

    def sh(self, command, **kwargs):
        result = shell.run(command, **kwargs)
        self.assertEqual(set(result), {"stdout", "stderr", "exit_code"})
        return result

    def out(self, command, **kwargs):
        """stdout of a command that must succeed without stderr."""
        result = self.sh(command, **kwargs)
        self.assertEqual(result["exit_code"], 0, result)
        self.assertEqual(result["stderr"], "", result)
        return result["stdout"]

    def write(self, name, text):
        os.makedirs(os.path.dirname(name) or ".", exist_ok=True)
        with open(name, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)

    def read(self, name):
        with open(name, encoding="utf-8", newline="") as fh:
            return fh.read()
