"""Tests of the builtins for files and directories (builtins_files.py)."""

import os
import unittest

from shell_case import ShellTestCase


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


if __name__ == "__main__":
    unittest.main()
