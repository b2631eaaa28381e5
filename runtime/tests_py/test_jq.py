"""Tests of the jq subset (jq_parser.py, jq_values.py, jq.py)."""

import json
import unittest

from shell_case import ShellTestCase


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


if __name__ == "__main__":
    unittest.main()
