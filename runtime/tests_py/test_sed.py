"""Tests of sed (sed.py)."""

import unittest

from shell_case import ShellTestCase


class SedTests(ShellTestCase):
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


if __name__ == "__main__":
    unittest.main()
