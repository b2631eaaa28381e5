//! Every standard-library module the issue names imports and works.

use crate::helpers::*;

#[tokio::test]
async fn required_modules_import() {
    let sb = sandbox();
    let modules = "json re math cmath collections itertools functools operator datetime time \
        calendar csv io statistics random base64 binascii hashlib hmac uuid string textwrap \
        unicodedata decimal fractions heapq bisect copy pprint dataclasses enum typing abc \
        contextlib difflib html urllib.parse zlib gzip zipfile pathlib os os.path shutil glob \
        fnmatch tempfile struct array";
    let code = format!(
        "import importlib\nfailed = []\nfor name in {:?}.split():\n    try:\n        importlib.import_module(name)\n    except Exception as e:\n        failed.append((name, repr(e)))\nfailed",
        modules
    );
    assert_eq!(sb.ok(&code).await.as_deref(), Some("[]"));
}

#[tokio::test]
async fn required_modules_work() {
    let sb = sandbox();
    let code = r#"
import json, re, math, cmath, collections, itertools, functools, operator, datetime, time
import calendar, csv, io, statistics, random, base64, binascii, hashlib, hmac, uuid, string
import textwrap, unicodedata, decimal, fractions, heapq, bisect, copy, pprint, dataclasses
import enum, typing, abc, contextlib, difflib, html, urllib.parse, zlib, gzip, zipfile
import pathlib, os, os.path, shutil, glob, fnmatch, tempfile, struct, array

checks = {}
checks['json'] = json.loads(json.dumps({'a': [1, 2]})) == {'a': [1, 2]}
checks['re'] = re.findall(r'\d+', 'a1b22') == ['1', '22']
checks['math'] = math.isclose(math.sqrt(2) ** 2, 2)
checks['cmath'] = cmath.sqrt(-1) == 1j
checks['collections'] = collections.Counter('abca').most_common(1) == [('a', 2)]
checks['itertools'] = list(itertools.islice(itertools.count(5), 3)) == [5, 6, 7]
checks['functools'] = functools.reduce(operator.add, [1, 2, 3]) == 6
checks['datetime'] = (datetime.date(2024, 3, 1) - datetime.timedelta(days=1)).day == 29
checks['time'] = time.time() > 1.7e9 and time.monotonic() >= 0
checks['calendar'] = calendar.isleap(2024)
buf = io.StringIO(); csv.writer(buf).writerow(['a', 'b,c'])
checks['csv'] = buf.getvalue() == 'a,"b,c"\r\n'
checks['statistics'] = statistics.median([3, 1, 2]) == 2
checks['random'] = 0 <= random.random() < 1
checks['base64'] = base64.b64decode(base64.b64encode(b'hi')) == b'hi'
checks['binascii'] = binascii.hexlify(b'\x01') == b'01'
checks['hashlib'] = hashlib.sha256(b'abc').hexdigest().startswith('ba7816bf')
checks['hmac'] = len(hmac.new(b'k', b'm', 'sha256').hexdigest()) == 64
checks['uuid'] = uuid.uuid4().version == 4
checks['string'] = string.Template('$x').substitute(x=1) == '1'
checks['textwrap'] = textwrap.wrap('a b c', 3) == ['a b', 'c']
checks['unicodedata'] = unicodedata.name('é') == 'LATIN SMALL LETTER E WITH ACUTE'
checks['decimal'] = decimal.Decimal('0.1') + decimal.Decimal('0.2') == decimal.Decimal('0.3')
checks['fractions'] = fractions.Fraction(1, 3) * 3 == 1
h = [3, 1, 2]; heapq.heapify(h)
checks['heapq'] = heapq.heappop(h) == 1
checks['bisect'] = bisect.bisect([1, 2, 4], 3) == 2
checks['copy'] = copy.deepcopy({'a': [1]}) == {'a': [1]}
checks['pprint'] = pprint.pformat({'a': 1}) == "{'a': 1}"
@dataclasses.dataclass
class P:
    x: int
checks['dataclasses'] = dataclasses.asdict(P(1)) == {'x': 1}
class Color(enum.Enum):
    RED = 1
checks['enum'] = Color(1) is Color.RED
checks['typing'] = typing.get_origin(typing.List[int]) is list
class Base(abc.ABC):
    @abc.abstractmethod
    def f(self): ...
try:
    Base(); checks['abc'] = False
except TypeError:
    checks['abc'] = True
with contextlib.suppress(KeyError):
    {}['x']
checks['contextlib'] = True
checks['difflib'] = difflib.SequenceMatcher(None, 'abc', 'abd').ratio() > 0.6
checks['html'] = html.escape('<a>') == '&lt;a&gt;'
checks['urllib.parse'] = urllib.parse.urlencode({'q': 'a b'}) == 'q=a+b'
checks['zlib'] = zlib.decompress(zlib.compress(b'x' * 100)) == b'x' * 100
checks['gzip'] = gzip.decompress(gzip.compress(b'data')) == b'data'
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, 'w') as z:
    z.writestr('a.txt', 'hello')
checks['zipfile'] = zipfile.ZipFile(zbuf).read('a.txt') == b'hello'
pathlib.Path('p.txt').write_text('pathlib')
checks['pathlib'] = pathlib.Path('p.txt').read_text() == 'pathlib'
checks['os'] = os.getcwd() == '/home/user' and 'p.txt' in os.listdir('.')
checks['os.path'] = os.path.join('a', 'b') == 'a/b' and os.path.exists('p.txt')
shutil.copy('p.txt', 'q.txt')
shutil.copy2('p.txt', 'r.txt')
os.makedirs('tree/sub', exist_ok=True)
open('tree/sub/f.txt', 'w').write('deep')
shutil.copytree('tree', 'tree2')
shutil.move('tree2', 'tree3')
shutil.rmtree('tree')
checks['shutil'] = (open('q.txt').read() == 'pathlib' and open('r.txt').read() == 'pathlib'
                    and open('tree3/sub/f.txt').read() == 'deep' and not os.path.exists('tree'))
os.remove('r.txt')
checks['glob'] = sorted(glob.glob('*.txt')) == ['p.txt', 'q.txt']
checks['fnmatch'] = fnmatch.fnmatch('a.txt', '*.txt')
with tempfile.NamedTemporaryFile('w', delete=False) as t:
    t.write('tmp')
checks['tempfile'] = open(t.name).read() == 'tmp'
checks['struct'] = struct.unpack('<I', struct.pack('<I', 7)) == (7,)
checks['array'] = array.array('i', [1, 2]).tolist() == [1, 2]
[k for k, v in checks.items() if v is not True]
"#;
    assert_eq!(sb.ok(code).await.as_deref(), Some("[]"));
}

/// The reference script's answers, from the host's CPython (the test fails
/// with instructions when there is none: no silent skip).
fn cpython_answers(script: &str) -> serde_json::Value {
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("TZ", "UTC")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("python3 (CPython 3.11+) must be on PATH to compute the reference answers");
    assert!(
        output.status.success(),
        "CPython failed on the reference script: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the reference script prints JSON")
}

#[tokio::test]
async fn data_transformation_modules_answer_like_cpython() {
    let script = include_str!("stdlib_reference.py");
    let expected = cpython_answers(script);
    let sb = sandbox();
    let out = sb.run(script).await;
    assert!(out.is_ok(), "{out:#?}");
    let got: serde_json::Value = serde_json::from_str(&out.stdout).expect("sandbox prints JSON");
    let (got, expected) = (got.as_object().unwrap(), expected.as_object().unwrap());
    let mut differ = Vec::new();
    for (module, want) in expected {
        if got.get(module) != Some(want) {
            differ.push(format!(
                "{module}:\n  CPython: {want}\n  sandbox: {}",
                got.get(module).unwrap_or(&serde_json::Value::Null)
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "answers differ from CPython's:\n{}",
        differ.join("\n")
    );
}
