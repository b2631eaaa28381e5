"""Tests of the builtins for the shell and its environment
(builtins_shell.py)."""

import os
import unittest

from shell_case import ShellTestCase


class ShellBuiltinTests(ShellTestCase):
    def test_true_false(self):
        self.assertEqual(self.sh("true")["exit_code"], 0)
        self.assertEqual(self.sh("false")["exit_code"], 1)

    def test_test_and_brackets(self):
        self.write("f", "x")
        self.out("mkdir d; touch empty")
        cases = {
            "test -f f": 0, "test -f d": 1, "test -d d": 0, "test -e nope": 1,
            "[ -e f ]": 0, "[ -s empty ]": 1, "[ -z '' ]": 0, "[ -n '' ]": 1,
            "[ abc = abc ]": 0, "[ abc != abc ]": 1, "[ 2 -eq 2 ]": 0, "[ 1 -lt 2 ]": 0,
            "[ 3 -gt 5 ]": 1, "[ ! -f f ]": 1, "[ -f f -a -d d ]": 0, "[ -f nope -o -d d ]": 0,
            "[ x ]": 0, "[ ]": 1,
        }
        for command, code in cases.items():
            self.assertEqual(self.sh(command)["exit_code"], code, command)
        self.assertEqual(self.out("[ -f f ] && echo file || echo none"), "file\n")
        r = self.sh("[ a -lt 1 ]")
        self.assertEqual(r["exit_code"], 2)
        self.assertIn("integer expression expected", r["stderr"])
        self.assertEqual(self.sh("[ 1 = 1")["exit_code"], 2)

    def test_env_export(self):
        self.out("export A_B_C=1")
        self.assertIn("A_B_C=1\n", self.out("env"))
        self.assertIn('declare -x A_B_C="1"', self.out("export"))
        self.assertEqual(self.out("env X1=5 printenv X1"), "5\n")
        self.assertEqual(self.sh("export 1bad=2")["exit_code"], 1)

    def test_xargs(self):
        self.assertEqual(self.out("echo a b c | xargs echo got"), "got a b c\n")
        self.assertEqual(self.out("echo a b c | xargs -n 2 echo"), "a b\nc\n")
        self.assertEqual(self.out("printf 'x\\ny\\n' | xargs -I {} echo item-{}"), "item-x\nitem-y\n")
        self.out("echo f1 f2 | xargs touch")
        self.assertTrue(os.path.exists("f1") and os.path.exists("f2"))
        self.write("g.txt", "hit\n")
        self.assertEqual(self.out("find . -name '*.txt' | xargs grep -l hit"), "./g.txt\n")
        self.assertEqual(self.sh("echo x | xargs nosuchcmd")["exit_code"], 127)
        self.assertEqual(self.sh("echo x | xargs false")["exit_code"], 123)

    def test_date(self):
        text = self.out("date").strip()
        self.assertRegex(text, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
        self.assertRegex(self.out("date +%Y"), r"^\d{4}\n$")

    def test_sleep(self):
        self.assertEqual(self.sh("sleep 0.01")["exit_code"], 0)
        self.assertEqual(self.sh("sleep abc")["exit_code"], 1)

    def test_which_type_help(self):
        self.assertEqual(self.out("which ls"), "ls: shell builtin\n")
        self.assertEqual(self.sh("which nosuch")["exit_code"], 1)
        self.assertEqual(self.out("type grep"), "grep is a shell builtin\n")
        text = self.out("help")
        for name in ("ls", "grep", "jq", "sed", "xargs", "python"):
            self.assertIn(f"\n  {name} ", text)
        self.assertIn("usage: ls", self.out("ls --help"))

    def test_python_without_runner(self):
        self.write("x.py", "print(1)\n")
        r = self.sh("python x.py")
        self.assertNotEqual(r["exit_code"], 0)
        self.assertIn("not available", r["stderr"])

    def test_python_with_runner(self):
        calls = []

        def runner(path, argv, stdin, env):
            calls.append((path, argv, stdin))
            return (f"ran {path}\n", "note\n", 3)

        self.write("script.py", "print('hi')\n")
        r = self.sh("echo input | python script.py a 'b c'", python_runner=runner)
        self.assertEqual(r, {"stdout": "ran script.py\n", "stderr": "note\n", "exit_code": 3})
        self.assertEqual(calls[-1], ("script.py", ["a", "b c"], "input\n"))
        r = self.sh("python3 -c 'print(2)' > out.txt; cat out.txt", python_runner=runner)
        self.assertEqual(calls[-1], (None, ["-c", "print(2)"], ""))
        self.assertEqual(r["stdout"], "ran None\n")
        self.sh("echo 'print(3)' | python -", python_runner=runner)
        self.assertEqual(calls[-1], (None, ["-c", "print(3)\n"], ""))
        r = self.sh("python missing.py", python_runner=runner)
        self.assertEqual(r["exit_code"], 2)
        self.assertIn("can't open file", r["stderr"])

    def test_exported_variables_reach_python(self):
        seen = []

        def runner(path, argv, stdin, env):
            seen.append((env.get("GREETING"), env.get("ONCE"), env.get("LOCAL_ONLY")))
            return ("", "", 0)

        self.sh("export GREETING=hello; LOCAL_ONLY=x; ONCE=1 python3 -c 'pass'; python3 -c 'pass'",
                python_runner=runner)
        self.assertEqual(seen, [("hello", "1", None), ("hello", None, None)])

    def test_python_runner_exception_is_reported(self):
        def runner(path, argv, stdin, env):
            raise RuntimeError("boom")

        self.write("s.py", "")
        r = self.sh("python s.py", python_runner=runner)
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("boom", r["stderr"])


if __name__ == "__main__":
    unittest.main()
