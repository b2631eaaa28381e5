"""The files every corpus case runs against (written into an empty
directory, with fixed modification times)."""

import os

FILES = {
    "logs/a.log": "INFO start\nERROR disk full\nERROR retry\nWARN slow\n",
    "logs/b.log": "ERROR timeout\nINFO ok\n",
    "t.csv": "n,name,score\n1,ann,90\n2,bob,75\n3,cy,82\n",
    "a.txt": "one\ntwo\nthree\n",
    "b.txt": "one\n2\nthree\nfour\n",
    "data.json": '{"items": [{"id": 1, "tags": ["x"]}, {"id": 2, "tags": []}], "next": null}\n',
    "notes.md": "# Title\n\nSome text here.\n- item one\n- item two\n",
    "nums.txt": "5\n3\n10\n3\n1\n",
}
MTIME = 1_700_000_000


def write(root):
    for rel, text in FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path) or root, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.utime(path, (MTIME, MTIME))
