"""Tests of the builtins for text (builtins_text.py)."""

import unittest

from shell_case import ShellTestCase


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

    def test_seq(self):
        self.assertEqual(self.out("seq 3"), "1\n2\n3\n")
        self.assertEqual(self.out("seq 2 4"), "2\n3\n4\n")
        self.assertEqual(self.out("seq 1 2 7"), "1\n3\n5\n7\n")
        self.assertEqual(self.out("seq 3 -1 1"), "3\n2\n1\n")
        self.assertEqual(self.out("seq -s , 3"), "1,2,3\n")
        self.assertEqual(self.out("seq 0 0.5 1"), "0.0\n0.5\n1.0\n")


if __name__ == "__main__":
    unittest.main()
