"""Tests for runtime/src/shell.py, the sandbox's pure-Python shell.

Run with: python3 -m unittest discover -s runtime/tests_py -v
Each test runs in a fresh temporary directory.
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import shell  # noqa: E402


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
        for command in ("(echo a)", "echo $(ls)", "echo `ls`", "for i in 1 2; do echo $i; done",
                        "while true; do echo; done", "if true; then echo; fi", "sleep 1 &",
                        "echo $((1+2))", "f() { echo; }"):
            r = self.sh(command)
            self.assertEqual(r["exit_code"], 2, command)
            self.assertIn("not supported in this sandbox shell", r["stderr"], command)
            self.assertEqual(r["stdout"], "", command)

    def test_nothing_runs_on_syntax_error(self):
        self.sh("touch made; echo $(x)")
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


class FileCommandTests(ShellTestCase):
    def test_ls(self):
        self.write("b.txt", "12345")
        self.write("a.txt", "")
        self.write(".hidden", "")
        self.write("d/inner", "")
        self.assertEqual(self.out("ls"), "a.txt\nb.txt\nd\n")
        self.assertEqual(self.out("ls -1 d"), "inner\n")
        self.assertEqual(self.out("ls -a"), ".\n..\n.hidden\na.txt\nb.txt\nd\n")
        self.assertEqual(self.out("ls b.txt d"), "b.txt\n\nd:\ninner\n")
        self.assertEqual(self.out("ls -R"), ".:\na.txt\nb.txt\nd\n\n./d:\ninner\n")
        long = self.out("ls -l").splitlines()
        self.assertTrue(long[0].startswith("total "))
        self.assertTrue(long[2].startswith("-rw") and long[2].endswith(" b.txt"), long)
        self.assertIn(" 5 ", long[2])
        self.assertTrue(long[3].startswith("d"))
        r = self.sh("ls missing")
        self.assertEqual(r["exit_code"], 2)
        self.assertEqual(r["stderr"], "ls: cannot access 'missing': No such file or directory\n")

    def test_ls_human(self):
        self.write("big", "x" * 2048)
        self.assertIn(" 2.0K ", self.out("ls -lh big"))

    def test_cat(self):
        self.write("a", "one\ntwo\n")
        self.write("b", "three\n")
        self.assertEqual(self.out("cat a b"), "one\ntwo\nthree\n")
        self.assertEqual(self.out("cat -n a b"), "     1\tone\n     2\ttwo\n     3\tthree\n")
        self.assertEqual(self.out("echo in | cat"), "in\n")
        self.assertEqual(self.out("echo in | cat a -"), "one\ntwo\nin\n")
        r = self.sh("cat a missing")
        self.assertEqual(r["stdout"], "one\ntwo\n")
        self.assertEqual(r["stderr"], "cat: missing: No such file or directory\n")
        self.assertEqual(r["exit_code"], 1)

    def test_binary_file(self):
        with open("bin", "wb") as fh:
            fh.write(b"ok\xff\xfe\n")
        self.assertEqual(self.out("cat bin"), "ok\ufffd\ufffd\n")

    def test_mkdir_touch_rmdir(self):
        self.out("mkdir a && mkdir -p b/c/d && touch b/c/d/f")
        self.assertTrue(os.path.isfile("b/c/d/f"))
        r = self.sh("mkdir a")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("File exists", r["stderr"])
        self.assertEqual(self.sh("mkdir x/y")["exit_code"], 1)
        self.out("rmdir a")
        self.assertFalse(os.path.exists("a"))
        r = self.sh("rmdir b")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("Directory not empty", r["stderr"])

    def test_rm(self):
        self.write("f", "")
        self.write("d/g", "")
        self.out("rm f")
        self.assertFalse(os.path.exists("f"))
        r = self.sh("rm d")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("Is a directory", r["stderr"])
        self.out("rm -r d")
        self.assertFalse(os.path.exists("d"))
        r = self.sh("rm missing")
        self.assertEqual(r["exit_code"], 1)
        self.assertEqual(self.sh("rm -f missing")["exit_code"], 0)
        self.assertIn("refusing", self.sh("rm -rf .")["stderr"])

    def test_mv(self):
        self.write("a", "A")
        self.out("mv a b")
        self.assertEqual(self.read("b"), "A")
        self.out("mkdir d && mv b d")
        self.assertEqual(self.read("d/b"), "A")
        self.out("mv d e")
        self.assertTrue(os.path.isfile("e/b"))
        r = self.sh("mv missing x")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("cannot stat 'missing'", r["stderr"])

    def test_cp(self):
        self.write("a", "A")
        self.write("d/x", "X")
        self.out("cp a b")
        self.assertEqual(self.read("b"), "A")
        r = self.sh("cp d e")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("-r not specified", r["stderr"])
        self.out("cp -r d e")
        self.assertEqual(self.read("e/x"), "X")
        self.out("cp a b e")
        self.assertEqual(sorted(os.listdir("e")), ["a", "b", "x"])
        self.out("cp -r d e")
        self.assertEqual(self.read("e/d/x"), "X")

    def test_find(self):
        self.write("src/a.py", "")
        self.write("src/lib/b.py", "")
        self.write("src/lib/c.txt", "x" * 3000)
        self.write("README.md", "")
        self.assertEqual(self.out("find . -name '*.py'"), "./src/a.py\n./src/lib/b.py\n")
        self.assertEqual(self.out("find src -type d"), "src\nsrc/lib\n")
        self.assertEqual(self.out("find . -maxdepth 1 -type f"), "./README.md\n")
        self.assertEqual(self.out("find . -iname 'readme*'"), "./README.md\n")
        self.assertEqual(self.out("find . -type f -size +2k"), "./src/lib/c.txt\n")
        self.assertEqual(self.out("find src -name '*.txt' -o -name 'a*'"), "src/a.py\nsrc/lib/c.txt\n")
        self.assertEqual(self.out("find src ! -name '*.py' -type f"), "src/lib/c.txt\n")
        r = self.sh("find missing")
        self.assertEqual(r["exit_code"], 1)
        self.assertEqual(self.sh("find . -bogus")["exit_code"], 2)

    def test_du(self):
        self.write("d/a", "x" * 3000)
        self.write("d/s/b", "y" * 100)
        self.assertEqual(self.out("du -s d"), "4\td\n")
        self.assertEqual(self.out("du d"), "1\td/s\n4\td\n")
        self.assertEqual(self.out("du -sh d"), "3.1K\td\n")

    def test_pwd_and_cd_minus(self):
        self.out("mkdir x")
        self.assertEqual(self.out("cd x; cd -"), self.root + "\n")
        self.assertEqual(self.out("pwd"), self.root + "\n")

    def test_tee(self):
        self.assertEqual(self.out("echo data | tee t1 t2"), "data\n")
        self.assertEqual(self.read("t1"), "data\n")
        self.out("echo more | tee -a t1 > /dev/null")
        self.assertEqual(self.read("t1"), "data\nmore\n")

    def test_basename_dirname(self):
        self.assertEqual(self.out("basename /a/b/c.txt; basename /a/b/c.txt .txt; basename dir/"),
                         "c.txt\nc\ndir\n")
        self.assertEqual(self.out("dirname /a/b/c.txt; dirname c; dirname /c; dirname a/b/"),
                         "/a/b\n.\n/\na\n")


class TextCommandTests(ShellTestCase):
    def test_echo(self):
        self.assertEqual(self.out("echo a b"), "a b\n")
        self.assertEqual(self.out("echo -n a"), "a")
        self.assertEqual(self.out("echo -e 'x\\ty\\n'"), "x\ty\n\n")
        self.assertEqual(self.out("echo 'x\\ty'"), "x\\ty\n")

    def test_printf(self):
        self.assertEqual(self.out("printf '%s=%d\\n' a 1 b 2"), "a=1\nb=2\n")
        self.assertEqual(self.out("printf '%.2f|%5s|%-3s|%%|%03d\\n' 3.14159 ab c 7"),
                         "3.14|   ab|c  |%|007\n")
        self.assertEqual(self.out("printf 'tab\\there'"), "tab\there")
        r = self.sh("printf '%d' abc")
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("invalid number", r["stderr"])

    def test_head_tail(self):
        self.out("seq 20 > n")
        self.assertEqual(self.out("head n"), "".join(f"{i}\n" for i in range(1, 11)))
        self.assertEqual(self.out("head -n 2 n"), "1\n2\n")
        self.assertEqual(self.out("head -3 n | tail -1"), "3\n")
        self.assertEqual(self.out("head -c 4 n"), "1\n2\n")
        self.assertEqual(self.out("tail -n 2 n"), "19\n20\n")
        self.assertEqual(self.out("tail -n +19 n"), "19\n20\n")
        self.assertEqual(self.out("tail -c 3 n"), "20\n")
        self.assertEqual(self.out("seq 3 | head -n -1"), "1\n2\n")
        self.assertEqual(self.out("echo x > a; echo y > b; head -n 1 a b"), "==> a <==\nx\n\n==> b <==\ny\n")

    def test_wc(self):
        self.write("f", "one two\nthree\n")
        self.assertEqual(self.out("wc -l f"), "2 f\n")
        self.assertEqual(self.out("wc -w < f"), "3\n")
        self.assertEqual(self.out("wc -c f"), "14 f\n")
        self.assertEqual(self.out("wc f"), " 2  3 14 f\n")
        self.assertEqual(self.out("cat f | wc"), "      2       3      14\n")
        self.assertEqual(self.out("wc -l f f"), " 2 f\n 2 f\n 4 total\n")

    def test_grep(self):
        self.write("f", "Apple pie\nbanana\ncherry apple\npineapple\n")
        self.assertEqual(self.out("grep apple f"), "cherry apple\npineapple\n")
        self.assertEqual(self.out("grep -i apple f"), "Apple pie\ncherry apple\npineapple\n")
        self.assertEqual(self.out("grep -v apple f"), "Apple pie\nbanana\n")
        self.assertEqual(self.out("grep -n an f"), "2:banana\n")
        self.assertEqual(self.out("grep -c -i apple f"), "3\n")
        self.assertEqual(self.out("grep -w apple f"), "cherry apple\n")
        self.assertEqual(self.out("grep -o 'p\\+' f | sort -u"), "p\npp\n")
        self.assertEqual(self.out("grep -E '^(banana|pine)' f"), "banana\npineapple\n")
        self.assertEqual(self.out("grep -F 'e p' f"), "Apple pie\n")
        self.assertEqual(self.out("grep -x banana f"), "banana\n")
        self.assertEqual(self.out("echo 'a.c abc' | grep -o 'a.c'"), "a.c\nabc\n")
        self.assertEqual(self.out("grep '[[:upper:]]' f"), "Apple pie\n")

    def test_grep_exit_codes(self):
        self.write("f", "x\n")
        self.assertEqual(self.sh("grep x f")["exit_code"], 0)
        r = self.sh("grep nothing f")
        self.assertEqual((r["stdout"], r["exit_code"]), ("", 1))
        r = self.sh("grep x missing")
        self.assertEqual(r["exit_code"], 2)
        self.assertIn("missing: No such file or directory", r["stderr"])
        self.assertEqual(self.sh("grep -q x f")["exit_code"], 0)
        self.assertEqual(self.sh("grep '(' -E f")["exit_code"], 2)

    def test_grep_files_and_recursive(self):
        self.write("a.txt", "needle\n")
        self.write("sub/b.txt", "hay\nneedle here\n")
        self.write("sub/c.log", "needle\n")
        self.assertEqual(self.out("grep needle a.txt sub/b.txt"),
                         "a.txt:needle\nsub/b.txt:needle here\n")
        self.assertEqual(self.out("grep -r needle"),
                         "a.txt:needle\nsub/b.txt:needle here\nsub/c.log:needle\n")
        self.assertEqual(self.out("grep -rn needle sub"), "sub/b.txt:2:needle here\nsub/c.log:1:needle\n")
        self.assertEqual(self.out("grep -rl needle ."), "./a.txt\n./sub/b.txt\n./sub/c.log\n")
        self.assertEqual(self.out("grep -rl needle --include='*.txt' ."), "./a.txt\n./sub/b.txt\n")
        self.assertEqual(self.out("grep -c needle a.txt sub/b.txt"), "a.txt:1\nsub/b.txt:1\n")
        r = self.sh("grep needle sub")
        self.assertEqual(r["exit_code"], 2)
        self.assertIn("Is a directory", r["stderr"])

    def test_grep_context(self):
        self.out("seq 10 > n")
        self.assertEqual(self.out("grep -A1 -B1 5 n"), "4\n5\n6\n")
        self.assertEqual(self.out("grep -n -C1 -e 2 -e 9 n"), "1-1\n2:2\n3-3\n--\n8-8\n9:9\n10-10\n")

    def test_sort(self):
        self.write("f", "b 2\na 10\nc 1\na 10\n")
        self.assertEqual(self.out("sort f"), "a 10\na 10\nb 2\nc 1\n")
        self.assertEqual(self.out("sort -r f"), "c 1\nb 2\na 10\na 10\n")
        self.assertEqual(self.out("sort -u f"), "a 10\nb 2\nc 1\n")
        self.assertEqual(self.out("sort -k 2 -n f"), "c 1\nb 2\na 10\na 10\n")
        self.assertEqual(self.out("sort -k2,2nr -u f"), "a 10\nb 2\nc 1\n")
        self.assertEqual(self.out("printf 'x:3\\ny:1\\n' | sort -t : -k 2"), "y:1\nx:3\n")
        self.assertEqual(self.out("printf '10\\n9\\n100\\n' | sort -n"), "9\n10\n100\n")
        self.assertEqual(self.out("printf '1K\\n2M\\n3\\n' | sort -h"), "3\n1K\n2M\n")

    def test_uniq(self):
        self.write("f", "a\na\nb\nc\nc\nc\n")
        self.assertEqual(self.out("uniq f"), "a\nb\nc\n")
        self.assertEqual(self.out("uniq -c f"), "      2 a\n      1 b\n      3 c\n")
        self.assertEqual(self.out("uniq -d f"), "a\nc\n")
        self.assertEqual(self.out("cat f | sort | uniq -c | sort -rn | head -n 1"), "      3 c\n")

    def test_cut(self):
        self.assertEqual(self.out("echo 'a,b,c,d' | cut -d , -f 2"), "b\n")
        self.assertEqual(self.out("echo 'a,b,c,d' | cut -d, -f1,3"), "a,c\n")
        self.assertEqual(self.out("echo 'a,b,c,d' | cut -d, -f3-"), "c,d\n")
        self.assertEqual(self.out("echo 'abcdef' | cut -c 2-4"), "bcd\n")
        self.assertEqual(self.out("printf 'k\\tv\\nnodelim\\n' | cut -f2"), "v\nnodelim\n")
        self.assertEqual(self.sh("echo a | cut -d ab -f1")["exit_code"], 1)

    def test_tr(self):
        self.assertEqual(self.out("echo hello | tr a-z A-Z"), "HELLO\n")
        self.assertEqual(self.out("echo hello | tr -d l"), "heo\n")
        self.assertEqual(self.out("echo 'a  b   c' | tr -s ' '"), "a b c\n")
        self.assertEqual(self.out("echo 'a1b2' | tr -d '[:digit:]'"), "ab\n")
        self.assertEqual(self.out("echo abc | tr abc x"), "xxx\n")
        self.assertEqual(self.out("printf 'a\\nb\\n' | tr '\\n' ,"), "a,b,")

    def test_sed(self):
        self.write("f", "one\ntwo\nthree\nfour\n")
        self.assertEqual(self.out("sed 's/o/0/' f"), "0ne\ntw0\nthree\nf0ur\n")
        self.assertEqual(self.out("echo foo foo | sed 's/foo/bar/g'"), "bar bar\n")
        self.assertEqual(self.out("echo foo foo | sed 's/foo/bar/'"), "bar foo\n")
        self.assertEqual(self.out("sed -n 2p f"), "two\n")
        self.assertEqual(self.out("sed -n '2,3p' f"), "two\nthree\n")
        self.assertEqual(self.out("sed -n '$p' f"), "four\n")
        self.assertEqual(self.out("sed '1d' f | head -n 1"), "two\n")
        self.assertEqual(self.out("echo 'key=value' | sed 's/\\(.*\\)=\\(.*\\)/\\2:\\1/'"), "value:key\n")
        self.assertEqual(self.out("echo 'aaa' | sed -E 's/a+/[&]/'"), "[aaa]\n")
        self.assertEqual(self.out("echo /usr/bin | sed 's|/|_|g'"), "_usr_bin\n")
        self.out("sed -i 's/two/TWO/' f")
        self.assertEqual(self.read("f"), "one\nTWO\nthree\nfour\n")
        self.assertEqual(self.sh("sed 'k' f")["exit_code"], 1)

    def test_seq(self):
        self.assertEqual(self.out("seq 3"), "1\n2\n3\n")
        self.assertEqual(self.out("seq 2 4"), "2\n3\n4\n")
        self.assertEqual(self.out("seq 1 2 7"), "1\n3\n5\n7\n")
        self.assertEqual(self.out("seq 3 -1 1"), "3\n2\n1\n")
        self.assertEqual(self.out("seq -s , 3"), "1,2,3\n")
        self.assertEqual(self.out("seq 0 0.5 1"), "0.0\n0.5\n1.0\n")

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

        def runner(path, argv, stdin):
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

    def test_python_runner_exception_is_reported(self):
        def runner(path, argv, stdin):
            raise RuntimeError("boom")

        self.write("s.py", "")
        r = self.sh("python s.py", python_runner=runner)
        self.assertEqual(r["exit_code"], 1)
        self.assertIn("boom", r["stderr"])


DOC = {
    "meta": {"count": 3, "source": {"name": "api", "tags": ["x", "y"]}},
    "users": [
        {"id": 1, "name": "ann", "age": 31, "active": True, "email": None},
        {"id": 2, "name": "bob", "age": 25, "active": False, "email": "b@x.io"},
        {"id": 3, "name": "cyd", "age": 40, "active": True, "email": "c@x.io"},
    ],
}


class JqTests(ShellTestCase):
    def setUp(self):
        super().setUp()
        self.write("doc.json", json.dumps(DOC))

    def jq(self, args):
        return self.out(f"jq {args} doc.json")

    def test_identity_pretty(self):
        self.assertEqual(self.out("echo '{\"a\":[1,{\"b\":null}],\"c\":{}}' | jq ."),
                         '{\n  "a": [\n    1,\n    {\n      "b": null\n    }\n  ],\n  "c": {}\n}\n')

    def test_paths(self):
        self.assertEqual(self.jq(".meta.count"), "3\n")
        self.assertEqual(self.jq(".meta.source.name"), '"api"\n')
        self.assertEqual(self.jq("-r .meta.source.name"), "api\n")
        self.assertEqual(self.jq("-c .meta.source.tags"), '["x","y"]\n')
        self.assertEqual(self.jq(".users[1].name"), '"bob"\n')
        self.assertEqual(self.jq(".users[-1].id"), "3\n")
        self.assertEqual(self.jq("'.meta[\"count\"]'"), "3\n")
        self.assertEqual(self.jq(".missing"), "null\n")
        self.assertEqual(self.jq("-c '.users[0:2] | map(.id)'"), "[1,2]\n")

    def test_iterate(self):
        self.assertEqual(self.jq("-r '.users[].name'"), "ann\nbob\ncyd\n")
        self.assertEqual(self.jq("'.users[] | .id'"), "1\n2\n3\n")
        self.assertEqual(self.jq("-c '.meta.source[]'"), '"api"\n["x","y"]\n')

    def test_keys_length(self):
        self.assertEqual(self.jq("-c keys"), '["meta","users"]\n')
        self.assertEqual(self.jq("'.users | length'"), "3\n")
        self.assertEqual(self.jq("'.users[0].name | length'"), "3\n")
        self.assertEqual(self.jq("-c '.users[0] | keys'"), '["active","age","email","id","name"]\n')

    def test_select(self):
        self.assertEqual(self.jq("-r '.users[] | select(.age > 30) | .name'"), "ann\ncyd\n")
        self.assertEqual(self.jq("-r '.users[] | select(.age < 30) | .name'"), "bob\n")
        self.assertEqual(self.jq("-r '.users[] | select(.name == \"bob\") | .id'"), "2\n")
        self.assertEqual(self.jq("-r '.users[] | select(.name != \"bob\") | .id'"), "1\n3\n")
        self.assertEqual(self.jq("-r '.users[] | select(.active == true) | .name'"), "ann\ncyd\n")
        self.assertEqual(self.jq("-r '.users[] | select(.email == null) | .name'"), "ann\n")
        self.assertEqual(self.jq("-c '[.users[] | select(.active and .age > 35) | .id]'"), "[3]\n")

    def test_map_and_more(self):
        self.assertEqual(self.jq("-c '.users | map(.name)'"), '["ann","bob","cyd"]\n')
        self.assertEqual(self.jq("-c '.users | map(.age) | add'"), "96\n")
        self.assertEqual(self.jq("-c '.users | sort_by(.age) | map(.id)'"), "[2,1,3]\n")
        self.assertEqual(self.jq("-c '.users[] | {name, old: (.age > 30)}'"),
                         '{"name":"ann","old":true}\n{"name":"bob","old":false}\n'
                         '{"name":"cyd","old":true}\n')
        self.assertEqual(self.out("jq -r '.users[] | \"\\(.name) is \\(.age)\"' doc.json | head -n 1"),
                         "ann is 31\n")
        self.assertEqual(self.out("jq -r '.users[] | [.id, .name] | @csv' doc.json | tail -n 1"), '3,"cyd"\n')
        self.assertEqual(self.jq("-r '.users[0].email // \"none\"'"), "none\n")
        self.assertEqual(self.jq("-c '[.users[] | .name | ascii_upcase] | join(\",\")'"), '"ANN,BOB,CYD"\n')

    def test_compact_and_stdin(self):
        self.assertEqual(self.out("cat doc.json | jq -c '.meta.source'"), '{"name":"api","tags":["x","y"]}\n')
        self.assertEqual(self.out("echo '1 2 3' | jq '. * 2'"), "2\n4\n6\n")
        self.assertEqual(self.out("echo '[1,2]' | jq -r '.[]'"), "1\n2\n")

    def test_errors(self):
        r = self.sh("echo '{bad' | jq .")
        self.assertEqual(r["exit_code"], 5)
        self.assertIn("jq: error", r["stderr"])
        r = self.sh("jq '.users[' doc.json")
        self.assertEqual(r["exit_code"], 5)
        self.assertIn("compile error", r["stderr"])
        r = self.sh("jq '.meta.count.x' doc.json")
        self.assertEqual(r["exit_code"], 5)
        self.assertIn("Cannot index number", r["stderr"])
        r = self.sh("jq 'nosuchfn' doc.json")
        self.assertEqual(r["exit_code"], 5)
        self.assertEqual(self.sh("jq . missing.json")["exit_code"], 2)


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
