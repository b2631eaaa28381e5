"""The shell corpus (runtime/tests_py/corpus) through the real sandboxed
shell: every case as a COMPOSIO_REMOTE_BASH_TOOL call of a real server,
in the session's workbench holding the corpus files, against what GNU bash
printed. The same floor as the host-Python run (test_corpus.py): this
run catches what differs under the sandbox's interpreter."""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "runtime" / "tests_py" / "corpus"
FLOOR = 0.98


def test_the_corpus_matches_bash_in_the_sandbox(server):
    import importlib.util
    spec = importlib.util.spec_from_file_location("corpus_files", CORPUS / "files.py")
    files = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(files)
    cases = json.loads((CORPUS / "expected.json").read_text())["cases"]
    session = server.request("POST", "/api/v3.1/tool_router/session", {"user_id": "corpus"})["session_id"]

    def execute(slug, arguments):
        return server.request("POST", f"/api/v3.1/tool_router/session/{session}/execute",
                              {"tool_slug": slug, "arguments": arguments})

    # One directory per case, written by a cell with the corpus's files and times.
    setup = (
        "import os\n"
        f"FILES = {files.FILES!r}\n"
        f"for k in range({len(cases)}):\n"
        "    for rel, text in FILES.items():\n"
        "        path = f'/home/user/corpus/{k}/{rel}'\n"
        "        os.makedirs(os.path.dirname(path), exist_ok=True)\n"
        "        open(path, 'w').write(text)\n"
        f"        os.utime(path, ({files.MTIME}, {files.MTIME}))\n"
        "'ok'"
    )
    out = execute("COMPOSIO_REMOTE_WORKBENCH", {"code_to_execute": setup})
    assert out["data"]["results"] == "'ok'", out
    misses = []
    for k, case in enumerate(cases):
        ran = execute("COMPOSIO_REMOTE_BASH_TOOL",
                      {"command": f"cd /home/user/corpus/{k}\n{case['command']}"})["data"]
        if (ran["stdout"], ran["exit_code"]) != (case["stdout"], case["exit_code"]):
            misses.append(f"{case['command']}\n  bash: {case['stdout']!r} ({case['exit_code']})"
                          f"\n  here: {ran['stdout']!r} ({ran['exit_code']}) {ran.get('stderr', '')[:200]!r}")
    rate = 1 - len(misses) / len(cases)
    print(f"\nshell corpus in the sandbox: {len(cases) - len(misses)}/{len(cases)} ({rate:.1%})")
    for miss in misses:
        print("miss:", miss)
    assert rate >= FLOOR, "\n".join(misses)
