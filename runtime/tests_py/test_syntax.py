"""Tests of the shell language: quoting, variables, globbing, pipelines,
lists, redirections, here-documents, syntax errors, and run() itself
(lexer.py, parser.py, executor.py)."""

import os
import unittest

from shell_case import ShellTestCase, shell


class SyntaxTests(ShellTestCase):
    def test_pipeline(self):
        self.write("f", "x1\ny\nx2\nz\n")
        self.assertEqual(self.out("cat f | grep x | wc -l"), "2\n")
        self.assertEqual(self.out("cat f | grep x | sort -r | head -n 1"), "x2\n")

    def test_pipeline_status_is_last_command(self):
        self.assertEqual(self.sh("false | true")["exit_code"], 0)
        self.assertEqual(self.sh("true | false")["exit_code"], 1)

    def test_redirect_out_and_append(self):
        self.out("echo one > f; echo two >> f")
        self.assertEqual(self.read("f"), "one\ntwo\n")
        self.out("echo three > f")
        self.assertEqual(self.read("f"), "three\n")

    def test_redirect_in(self):
        self.write("f", "a\nb\n")
        self.assertEqual(self.out("wc -l < f"), "2\n")
        self.assertEqual(self.out("sort -r < f > g; cat g"), "b\na\n")

    def test_redirect_stderr(self):
        r = self.sh("ls missing 2> err.txt")
        self.assertEqual(r["exit_code"], 2)
        self.assertEqual(r["stderr"], "")
        self.assertIn("cannot access 'missing'", self.read("err.txt"))

    def test_redirect_stderr_to_stdout(self):
        r = self.sh("ls missing 2>&1 | wc -l")
        self.assertEqual(r["stdout"], "1\n")
        self.assertEqual(r["stderr"], "")
        self.sh("ls missing > both.txt 2>&1")
        self.assertIn("No such file", self.read("both.txt"))
        self.sh("ls missing &> amp.txt")
        self.assertIn("No such file", self.read("amp.txt"))
        # order matters: stderr goes to the old stdout
        r = self.sh("ls missing 2>&1 > only_out.txt")
        self.assertIn("No such file", r["stdout"])
        self.assertEqual(self.read("only_out.txt"), "")

    def test_dev_null(self):
        r = self.sh("echo hidden > /dev/null; ls missing 2>/dev/null")
        self.assertEqual((r["stdout"], r["stderr"], r["exit_code"]), ("", "", 2))

    def test_redirect_errors(self):
        r = self.sh("echo x > no/such/dir/f")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("No such file or directory", r["stderr"])
        r = self.sh("cat < missing; echo $?")
        self.assertEqual(r["stdout"], "1\n")

    def test_and_or_semicolon(self):
        self.assertEqual(self.out("true && echo a || echo b"), "a\n")
        self.assertEqual(self.out("false && echo a || echo b"), "b\n")
        self.assertEqual(self.out("false; echo c"), "c\n")
        self.assertEqual(self.out("false || false || echo last"), "last\n")
        self.assertEqual(self.sh("echo a && false")["exit_code"], 1)

    def test_newlines_comments_continuation(self):
        self.assertEqual(self.out("echo a # comment\n\n# only a comment\necho b &&\n echo c\necho d \\\n e"),
                         "a\nb\nc\nd e\n")

    def test_negation(self):
        self.assertEqual(self.out("! false && echo yes"), "yes\n")

    def test_exit(self):
        r = self.sh("echo a; exit 3; echo b")
        self.assertEqual((r["stdout"], r["exit_code"]), ("a\n", 3))

    def test_glob(self):
        for name in ("a.txt", "b.txt", "c.log", ".hidden.txt"):
            self.write(name, "")
        self.assertEqual(self.out("echo *.txt"), "a.txt b.txt\n")
        self.assertEqual(self.out("echo ?.log [ab].txt"), "c.log a.txt b.txt\n")
        self.assertEqual(self.out("echo *.none"), "*.none\n")
        self.assertEqual(self.out("echo '*.txt' \"*.txt\" \\*.txt"), "*.txt *.txt *.txt\n")

    def test_glob_in_directory_and_with_spaces(self):
        self.write("d/one file.md", "hello\n")
        self.assertEqual(self.out("cat d/*.md"), "hello\n")

    def test_quoting(self):
        self.assertEqual(self.out("echo 'a  b' \"c  d\" e\\ f"), "a  b c  d e f\n")
        self.assertEqual(self.out("echo \"it's\" 'say \"hi\"' \"a\\\"b\""), "it's say \"hi\" a\"b\n")
        self.assertEqual(self.out("echo ''"), "\n")
        self.assertEqual(self.out("echo a''b"), "ab\n")

    def test_variables(self):
        self.assertEqual(self.out("X=hello; echo $X ${X}world \"$X there\" '$X'"),
                         "hello helloworld hello there $X\n")
        self.assertEqual(self.out("echo \"[\\$X]\" [$UNSET_VAR_XYZ]"), "[$X] []\n")
        self.assertEqual(self.out("echo ${UNSET_VAR_XYZ:-dflt} ${#HOMEX}"), "dflt 0\n")

    def test_field_splitting(self):
        self.assertEqual(self.out("A='x   y'; echo $A; echo \"$A\""), "x y\nx   y\n")
        self.write("f", "")
        self.assertEqual(self.out("F='f f'; ls $F"), "f\nf\n")

    def test_status_variable(self):
        self.assertEqual(self.out("false; echo $?; true; echo $?"), "1\n0\n")
        self.assertEqual(self.out("nope 2>/dev/null; echo $?"), "127\n")

    def test_prefix_assignment_is_temporary(self):
        self.assertEqual(self.out("V=1; V=2 printenv V; echo $V"), "2\n1\n")

    def test_assignment_does_not_persist(self):
        self.out("LOCAL_ONLY_VAR=1")
        self.assertEqual(self.out("echo \"[$LOCAL_ONLY_VAR]\""), "[]\n")

    def test_assignment_to_exported_variable_does_not_persist(self):
        self.out("export SHELL_TEST_VAR=1")
        self.assertEqual(self.out("SHELL_TEST_VAR=2; echo $SHELL_TEST_VAR; printenv SHELL_TEST_VAR"), "2\n2\n")
        self.assertEqual(self.out("echo $SHELL_TEST_VAR"), "1\n")

    def test_export_persists(self):
        self.out("export SHELL_TEST_VAR=persisted")
        self.assertEqual(self.out("echo $SHELL_TEST_VAR"), "persisted\n")
        self.assertEqual(shell.ENV["SHELL_TEST_VAR"], "persisted")
        self.assertIn("SHELL_TEST_VAR=persisted", self.out("env"))
        self.out("Y=2; export Y")
        self.assertEqual(self.out("echo $Y"), "2\n")
        self.out("unset SHELL_TEST_VAR")
        self.assertEqual(self.out("echo \"[$SHELL_TEST_VAR]\""), "[]\n")

    def test_heredoc(self):
        self.assertEqual(self.out("X=1\ncat <<EOF\nx=$X\n\\$X\nEOF\necho after"), "x=1\n$X\nafter\n")
        self.out("cat > f.py <<'EOF'\nprint('$X')\nEOF")
        self.assertEqual(self.read("f.py"), "print('$X')\n")
        self.assertEqual(self.out("cat <<EOF | wc -l\na\nb\nEOF"), "2\n")
        self.assertEqual(self.out("cat <<< 'here string'"), "here string\n")

    def test_syntax_errors(self):
        for command in ("echo 'open", "echo \"open", "echo a | | b", "&& echo", "echo >"):
            r = self.sh(command)
            self.assertEqual(r["exit_code"], 2, command)
            self.assertEqual(r["stdout"], "", command)
            self.assertIn("sh:", r["stderr"], command)

    def test_unsupported_syntax(self):
        for command in ("sleep 1 &", "arr=(a b)", "tee >(cat)", "echo ${a[1]}",
                        "select x in a b; do echo $x; done", "declare -a x"):
            r = self.sh(command)
            self.assertEqual(r["exit_code"], 2, command)
            self.assertIn("not supported in this sandbox shell", r["stderr"], command)
            self.assertEqual(r["stdout"], "", command)

    def test_nothing_runs_on_syntax_error(self):
        self.sh("touch made; echo $(x")
        self.assertFalse(os.path.exists("made"))

    def test_keywords_are_fine_as_arguments(self):
        self.assertEqual(self.out("echo for if while"), "for if while\n")

    def test_empty_command(self):
        self.assertEqual(self.sh(""), {"stdout": "", "stderr": "", "exit_code": 0})

    def test_unknown_command(self):
        r = self.sh("frobnicate --x")
        self.assertEqual(r["exit_code"], 127)
        lines = r["stderr"].splitlines()
        self.assertEqual(lines[0], "frobnicate: command not found")
        self.assertTrue(lines[1].startswith("available commands: "))
        names = lines[1][len("available commands: "):].split(", ")
        self.assertEqual(names, sorted(names))
        for name in ("ls", "grep", "jq", "python", "sed"):
            self.assertIn(name, names)

    def test_unknown_flag(self):
        for command in ("ls -Q", "cat -z", "grep -Z x", "sort -Z", "wc -z"):
            r = self.sh(command)
            self.assertEqual(r["exit_code"], 2, command)
            self.assertIn("invalid option", r["stderr"], command)

    def test_cd_persists(self):
        self.out("mkdir sub && cd sub")
        self.assertEqual(os.getcwd(), os.path.join(self.root, "sub"))
        self.assertEqual(self.out("pwd"), os.path.join(self.root, "sub") + "\n")
        self.out("touch inside; cd ..")
        self.assertEqual(self.out("ls sub"), "inside\n")
        r = self.sh("cd missing_dir")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("No such file or directory", r["stderr"])
        self.assertEqual(os.getcwd(), self.root)


class RobustnessTests(ShellTestCase):
    def test_run_never_raises(self):
        for command in ("\\", "'", "$", "${", "${!}", "echo ${x", "cat /", "ls -l /nonexistent",
                        "jq", "sed", "cut", "tr", "printf", "xargs -n 0 echo", "head -n x",
                        "seq", "seq 1 0 2", "sort -k 0", "2>", "echo a >&3"):
            result = shell.run(command)
            self.assertIsInstance(result["exit_code"], int, command)
            self.assertIsInstance(result["stdout"], str, command)

    def test_state_is_fresh_each_run(self):
        self.sh("false")
        self.assertEqual(self.out("echo $?"), "0\n")


if __name__ == "__main__":
    unittest.main()
