"""A small POSIX-like shell written in pure Python, for the sandbox.

The COMPOSIO_REMOTE_BASH_TOOL meta tool runs its commands here. The sandbox
has no processes, no threads and no network, so nothing is ever spawned:
every command is a Python function (a "builtin") that reads its standard
input as a string and writes its output to string buffers or files.

    run(command, python_runner=None) -> {"stdout": ..., "stderr": ..., "exit_code": ...}

How it works, in four parts:

1. The tokenizer turns the command text into words and operators. A word
   keeps its quoting: each part is a literal (quoted or not), a parameter
   expansion ($VAR, ${VAR...} with its operand), a command substitution
   ($(...), `...`), an arithmetic expansion ($((...))), a process
   substitution (<(...)) or a tilde. Here-documents (<<EOF) and $'...'
   strings are read here too.
2. The parser builds the AST: a script is a list of and-or lists
   (a && b || c) of pipelines (a | b) of commands: simple commands
   (assignments, words, redirections) and compound ones (if, for, for ((;;)),
   while, until, case, { }, ( ), (( )), [[ ]], function definitions), each
   with its redirections. Syntax this shell does not have (arrays,
   background jobs, select, >(...)) is refused by name before anything
   runs, with exit code 2.
3. The executor expands words at run time (braces, parameters, command and
   arithmetic substitution, IFS field splitting of unquoted expansions,
   globbing sorted and left as-is when nothing matches), applies
   redirections (> >> < 2> 2>&1 &> <<EOF <<<) and runs each pipeline stage
   in turn (in a subshell: its variables do not last), the stdout of one
   being the stdin of the next. Functions, positional parameters, local
   variables, set -e/-u/-o pipefail, break/continue/return and a nesting
   limit live here; arith.py evaluates arithmetic, cond.py [[ ]], and
   special.py holds the builtins that change the shell itself (local,
   read, set, shift, eval, source, ...).
4. The builtins: one function per command, registered in BUILTINS. They
   follow GNU coreutils for the flags they support; an unknown flag is an
   error with exit code 2. An unknown command prints the list of builtins
   and exits with 127.

State: run() starts a fresh shell each time. Only two things outlive a
call, like in a persistent shell: the working directory (`cd` changes
os.getcwd()) and exported variables (`export X=1` writes ENV, the
module-level environment seeded from os.environ). Plain assignments
(`X=1`) and $? last for one call.

Differences from bash worth knowing: `du` reports apparent sizes (sum of
file sizes), `ls -l` shows numeric owners, `sort` compares code points
(like LC_ALL=C), `date` prints UTC ISO 8601 time, and `python` needs the
python_runner given to run().

The package, by part (each module's docstring says more):

    errors.py           the exceptions: ShellSyntaxError, CommandError,
                        UsageError, ExitShell
    lexer.py            1. the tokenizer: Word, tokenize(), here-documents
    parser.py           2. the parser: Command, Pipeline, AndOr, parse()
    executor.py         3. the executor: ENV, the output sinks, Context,
                        Shell and run()
    registry.py         4. BUILTINS, USAGE, the @builtin decorator and the
                        helpers builtins share (option parsing, inputs)
    posix_regex.py      POSIX regular expressions and character classes
    builtins_files.py   files and directories: ls, cat, head, tail, wc,
                        find, mkdir, rm, mv, cp, touch, du, tee, cd, ...
    builtins_text.py    text: grep, sort, uniq, cut, tr, echo, printf, seq
    builtins_lines.py   lines and columns: tac, rev, nl, fold, split, paste,
                        column, join, comm
    builtins_digest.py  md5sum, sha1sum, sha256sum, sha512sum, stat
    diff.py             diff
    awk.py              awk
    sed.py              sed
    builtins_shell.py   the shell and its environment: exit, env, export,
                        unset, test / [, xargs, date, sleep, which, type,
                        help, python, ...
    jq_parser.py        the jq subset: its filter compiler,
    jq_values.py        its values (types, ordering, arithmetic, formats),
    jq.py               its evaluator, builtin functions and the jq command

This module is the public surface: it re-exports run(), ENV, BUILTINS and
the other public names, and imports the builtin modules, which register
their commands in BUILTINS as they load. The submodules import each other
relatively and only from the standard library.
"""

from .errors import CommandError, ExitShell, ShellSyntaxError, UsageError
from .lexer import Word, tokenize
from .parser import AndOr, Command, Pipeline, parse
from .registry import BUILTINS, USAGE, builtin
from .executor import ENV, Context, Shell, run

# Importing these registers their builtins in BUILTINS.
from . import builtins_files, builtins_text, sed, builtins_shell, jq  # noqa: F401
from . import builtins_lines, builtins_digest, diff, awk  # noqa: F401

__all__ = [
    "run", "ENV", "BUILTINS", "USAGE", "builtin",
    "ShellSyntaxError", "CommandError", "UsageError", "ExitShell",
    "Word", "tokenize", "Command", "Pipeline", "AndOr", "parse", "Context", "Shell",
]
