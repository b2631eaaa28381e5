//! Checkpoints: a sandbox's interpreter state taken between cells and
//! restored into a new sandbox (another instance, the same workbench), with
//! every kind of object as it was, its own randomness and a clock that does
//! not go backwards; images that cannot be used are refused.

use crate::helpers::*;
use toolshed_engine::{CheckpointError, EngineError, Limits};

/// A sandbox restored from `image` over `from`'s directories.
fn restored(from: &TestSandbox, image: Vec<u8>) -> Result<toolshed_engine::Sandbox, EngineError> {
    ENGINE
        .sandbox(from.dir.path().join("home"), from.dir.path().join("files"))
        .restore(image)
        .build()
}

async fn ok(sandbox: &toolshed_engine::Sandbox, code: &str) -> Option<String> {
    let out = sandbox.run_cell(code).await.expect("sandbox alive");
    assert!(out.is_ok(), "cell failed: {out:#?}\n--- code ---\n{code}");
    assert!(!out.state_reset, "{out:#?}");
    out.result
}

const STATE: &str = r#"
import re, json, collections, itertools, functools
counter = 41
records = {i: {"id": i, "name": f"n{i}", "tags": [i % 3, i % 5]} for i in range(20000)}
big = list(range(200000))
pattern = re.compile(r"(\w+)@(\w+)\.com")
def make_adder(n):
    def add(x):
        return x + n
    return add
add5 = make_adder(5)
class Account:
    def __init__(self, owner, balance):
        self.owner, self.balance = owner, balance
    def deposit(self, amount):
        self.balance += amount
        return self.balance
acct = Account("ann", 10)
def numbers():
    n = 0
    while True:
        n += 1
        yield n
gen = numbers()
first = [next(gen), next(gen)]
counts = collections.Counter("mississippi")
cached = functools.lru_cache(maxsize=None)(lambda x: x * x)
cached(12)
import time
before = time.monotonic()
"#;

const CHECK: &str = r#"(
    counter + 1,
    len(records), records[19999]["name"], sum(big[-3:]),
    pattern.match("bob@acme.com").group(2),
    add5(10),
    acct.deposit(5), type(acct).__name__,
    first, next(gen),
    counts.most_common(1),
    cached(12), cached.cache_info().hits,
    time.monotonic() >= before,
)"#;

#[tokio::test]
async fn every_kind_of_object_survives_a_checkpoint() {
    let sb = sandbox();
    sb.ok(STATE).await;
    let image = sb
        .sandbox
        .checkpoint()
        .await
        .unwrap()
        .expect("state to keep");
    assert!(image.len() < 3 << 20, "{} bytes", image.len());
    let expected = Some(
        "(42, 20000, 'n19999', 599994, 'acme', 15, 15, 'Account', [1, 2], 3, [('i', 4)], 144, 1, True)"
            .to_owned(),
    );
    let back = restored(&sb, image.clone()).unwrap();
    assert_eq!(ok(&back, CHECK).await, expected);
    // The original goes on too, and a second restore of the same image
    // starts from the checkpoint again (the generator included).
    assert_eq!(sb.ok(CHECK).await, expected);
    let again = restored(&sb, image).unwrap();
    assert_eq!(ok(&again, CHECK).await, expected);
    // A restored sandbox can be checkpointed and restored in turn.
    ok(&again, "counter = 100").await;
    let second = again.checkpoint().await.unwrap().unwrap();
    let third = restored(&sb, second).unwrap();
    assert_eq!(
        ok(&third, "counter + len(big)").await.as_deref(),
        Some("200100")
    );
}

#[tokio::test]
async fn a_fresh_sandboxs_checkpoint_is_small_and_restores() {
    let sb = sandbox();
    sb.ok("x = 1").await;
    let image = sb.sandbox.checkpoint().await.unwrap().unwrap();
    assert!(image.len() < 512 << 10, "{} bytes", image.len());
    let back = restored(&sb, image).unwrap();
    assert_eq!(ok(&back, "x + 1").await.as_deref(), Some("2"));
}

#[tokio::test]
async fn restored_sandboxes_have_their_own_randomness() {
    let sb = sandbox();
    sb.ok("import random, uuid, secrets\nrandom.random()").await;
    let image = sb.sandbox.checkpoint().await.unwrap().unwrap();
    let draw = "(random.random(), str(uuid.uuid4()), secrets.token_hex(8))";
    let a = ok(&restored(&sb, image.clone()).unwrap(), draw)
        .await
        .unwrap();
    let b = ok(&restored(&sb, image).unwrap(), draw).await.unwrap();
    assert_ne!(a, b);
    let (a, b) = (a.split(',').next().unwrap(), b.split(',').next().unwrap());
    assert_ne!(a, b, "random.random() repeats after a restore");
}

#[tokio::test]
async fn foreign_damaged_truncated_and_oversized_images_are_refused() {
    let sb = sandbox();
    sb.ok("data = bytearray(8 << 20)").await;
    let image = sb.sandbox.checkpoint().await.unwrap().unwrap();
    let mut damaged = image.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0x40;
    let mut foreign = image.clone();
    foreign[20] ^= 1; // the runtime hash
    for (bytes, want) in [
        (damaged, "damaged"),
        (image[..image.len() / 2].to_vec(), "damaged"),
        (b"not a checkpoint".to_vec(), "format"),
        (foreign, "another build"),
    ] {
        match restored(&sb, bytes) {
            Err(EngineError::Checkpoint(err)) => {
                assert!(err.to_string().contains(want), "{err}")
            }
            other => panic!("{want}: {other:?}"),
        }
    }
    // An image larger than the new sandbox's memory cap is refused too.
    let small = Limits {
        max_memory_bytes: 32 << 20,
        ..Limits::default()
    };
    let err = ENGINE
        .sandbox(sb.dir.path().join("home"), sb.dir.path().join("files"))
        .limits(small)
        .restore(image)
        .build()
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Checkpoint(CheckpointError::TooLarge { .. })
        ),
        "{err:?}"
    );
    sb.assert_alive().await;
}

#[tokio::test]
async fn after_a_reset_there_is_no_state_to_keep() {
    let sb = sandbox_with(
        short_deadline(),
        std::sync::Arc::new(toolshed_engine::NoTools),
    );
    sb.ok("x = 1").await;
    // A hard stop discards the instance; until a cell runs there is nothing.
    let out = sb.run("7 ** (10 ** 8)").await;
    assert!(out.state_reset, "{out:#?}");
    assert!(sb.sandbox.checkpoint().await.unwrap().is_none());
}

#[tokio::test]
async fn open_files_are_flushed_before_and_closed_after_a_checkpoint() {
    let sb = sandbox();
    sb.ok("f = open('kept.txt', 'w')\nf.write('written before')\nraw = open('raw.bin', 'wb')\nraw.write(b'xyz')").await;
    let image = sb.sandbox.checkpoint().await.unwrap().unwrap();
    // What was buffered reached its own file before the state was kept.
    let home = sb.dir.path().join("home");
    assert_eq!(
        std::fs::read_to_string(home.join("kept.txt")).unwrap(),
        "written before"
    );
    assert_eq!(std::fs::read(home.join("raw.bin")).unwrap(), b"xyz");
    let back = restored(&sb, image).unwrap();
    // A file opened after the restore never receives the stale objects'
    // writes; they are closed, with the usual message.
    let out = ok(
        &back,
        "g = open('new.txt', 'w')\nerrors = []\nfor h in (f, raw):\n    try:\n        h.write('late' if h is f else b'late')\n    except ValueError as e:\n        errors.append(str(e))\ng.write('mine')\ng.close()\n(f.closed, raw.closed, errors)",
    )
    .await;
    assert_eq!(
        out.as_deref(),
        Some("(True, True, ['I/O operation on closed file', 'write to closed file'])")
    );
    assert_eq!(
        std::fs::read_to_string(home.join("new.txt")).unwrap(),
        "mine"
    );
    assert_eq!(
        std::fs::read_to_string(home.join("kept.txt")).unwrap(),
        "written before"
    );
    // Reopening works as usual.
    assert_eq!(
        ok(&back, "open('kept.txt').read()").await.as_deref(),
        Some("'written before'")
    );
}

/// Raw descriptors (os.open) are numbers the program keeps: after
/// a restore they never reach a file opened later, and using one says why.
#[tokio::test]
async fn raw_descriptors_from_before_a_checkpoint_fail_clearly_and_never_alias() {
    let sb = sandbox();
    sb.ok("import os
fd = os.open('/mnt/files/a.bin', os.O_RDWR | os.O_CREAT)
os.write(fd, b'one')
copy = os.open('/mnt/files/a.bin', os.O_RDONLY)
shut = os.open('/mnt/files/c.bin', os.O_RDWR | os.O_CREAT)
os.close(shut)")
        .await;
    let image = sb.sandbox.checkpoint().await.unwrap().unwrap();
    let back = restored(&sb, image).unwrap();
    let out = ok(
        &back,
        "import os
fresh = [os.open('/mnt/files/b.bin', os.O_RDWR | os.O_CREAT), open('/mnt/files/d.txt', 'w').fileno()]
errors = []
for call in (lambda: os.write(fd, b'late'), lambda: os.read(copy, 1), lambda: os.fstat(fd), lambda: open(fd)):
    try:
        call()
    except OSError as e:
        errors.append((e.errno, 'restored from a checkpoint' in str(e)))
(fd in fresh, copy in fresh, errors)",
    )
    .await;
    assert_eq!(
        out.as_deref(),
        Some("(False, False, [(8, True), (8, True), (8, True), (8, True)])")
    );
    // The stale write went nowhere; os.close frees the number.
    let files = sb.dir.path().join("files");
    assert_eq!(std::fs::read(files.join("a.bin")).unwrap(), b"one");
    assert!(std::fs::read(files.join("b.bin")).unwrap().is_empty());
    assert_eq!(
        ok(
            &back,
            "os.close(fd)
os.close(copy)
n = os.open('/mnt/files/e.bin', os.O_RDWR | os.O_CREAT)
os.write(n, b'ok')"
        )
        .await
        .as_deref(),
        Some("2")
    );
}
