# Data-transformation stdlib calls whose answers must match CPython's.
# engine/tests/all/stdlib.rs runs this file in the sandbox and with the
# host's python3 and compares the JSON it prints.
import base64, bisect, collections, csv, datetime, decimal, difflib, fractions
import hashlib, heapq, html, io, itertools, json, math, random, re, statistics
import textwrap, time, urllib.parse, uuid, zoneinfo

out = {}

# time zone data: the sandbox is UTC.
out["time"] = [time.tzname[0] in ("UTC", "GMT"), time.timezone, time.altzone, time.daylight]

d = datetime.datetime(2024, 2, 29, 13, 5, 9, 123456)
directives = ["%a", "%A", "%w", "%d", "%b", "%B", "%m", "%y", "%Y", "%H", "%I", "%p",
              "%M", "%S", "%f", "%z", "%Z", "%j", "%U", "%W", "%c", "%x", "%X", "%%",
              "%G", "%u", "%V"]
out["strftime"] = {f: d.strftime(f) for f in directives}
aware = d.replace(tzinfo=datetime.timezone(datetime.timedelta(hours=-5, minutes=-30)))
out["strftime_aware"] = {f: aware.strftime(f) for f in ["%z", "%Z", "%c"]}
out["strptime"] = [
    datetime.datetime.strptime(s, f).isoformat()
    for s, f in [
        ("2024-02-29 13:05:09", "%Y-%m-%d %H:%M:%S"),
        ("29/Feb/2024:01:05:09 PM", "%d/%b/%Y:%I:%M:%S %p"),
        ("Thursday 29 February 2024", "%A %d %B %Y"),
        ("2024-060", "%Y-%j"),
        ("2024-02-29T13:05:09.123456+0130", "%Y-%m-%dT%H:%M:%S.%f%z"),
        ("2024-02-29T13:05:09Z", "%Y-%m-%dT%H:%M:%S%z"),
        ("24 9 4", "%y %W %w"),
        ("2024 9 4", "%Y %U %w"),
        ("2024 09 4", "%G %V %u"),
        ("Thu Feb 29 13:05:09 2024", "%c"),
        ("02/29/24", "%x"),
        ("13:05:09", "%X"),
        ("100%", "100%%"),
        ("2024-02-29 UTC", "%Y-%m-%d %Z"),
    ]
]
out["date_ops"] = [
    (datetime.date(2024, 3, 1) - datetime.timedelta(days=1)).isoformat(),
    datetime.date(2024, 2, 29).isocalendar()[:],
    datetime.datetime.fromisoformat("2024-02-29T13:05:09+02:00").astimezone(datetime.timezone.utc).isoformat(),
    datetime.datetime.fromtimestamp(1700000000, tz=datetime.timezone.utc).isoformat(),
    datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc).timestamp(),
    str(datetime.timedelta(days=1, seconds=3661, microseconds=5)),
]
utc = zoneinfo.ZoneInfo("UTC")
out["zoneinfo"] = [
    datetime.datetime(2024, 6, 1, 12, tzinfo=utc).isoformat(),
    datetime.datetime(2024, 6, 1, 12, tzinfo=utc).tzname(),
    str(zoneinfo.ZoneInfo("Etc/UTC").utcoffset(None)),
]

D = decimal.Decimal
out["decimal"] = [
    str(D("1.1") * D("3")),
    str(D(1) / D(7)),
    str(D("2.675").quantize(D("0.01"), rounding=decimal.ROUND_HALF_UP)),
    str(D("2.675").quantize(D("0.01"))),
    str(sum([D("0.1")] * 10)),
    str(D("1e-7").normalize()),
    str(D(2).sqrt()),
]
data = [2.5, 3.25, 1.0, 4.75, 3.25, 8.0]
out["statistics"] = [
    statistics.mean(data), statistics.median(data), statistics.mode(data),
    statistics.stdev(data), statistics.pvariance(data), statistics.quantiles(data, n=4),
    statistics.harmonic_mean([1, 2, 4]), statistics.median_low([1, 3, 5, 7]),
]

buf = io.StringIO()
w = csv.DictWriter(buf, fieldnames=["id", "name", "note"])
w.writeheader()
w.writerow({"id": 1, "name": "Ann, Jr.", "note": 'said "hi"'})
w.writerow({"id": 2, "name": "Bo", "note": "line\nbreak"})
text = buf.getvalue()
out["csv"] = [text, [dict(r) for r in csv.DictReader(io.StringIO(text))],
              list(csv.reader(["a;b;'c;d'"], delimiter=";", quotechar="'"))]

obj = {"b": [1, 2.5, None, True], "a": {"é": "ü", "n": -0.0}}
out["json"] = [json.dumps(obj, sort_keys=True), json.dumps(obj, indent=2, ensure_ascii=False),
               json.loads('{"x": [1e3, 12345678901234567890, "\\u00e9"]}'),
               json.dumps(json.loads("1.1000000000000001"))]

out["re"] = [
    re.sub(r"(\w+)@(\w+)\.com", r"\2:\1", "ann@ex.com, bo@why.com"),
    re.findall(r"(?P<k>\w+)=(?P<v>\d+)", "a=1 b=22 c=x"),
    re.split(r"[,;]\s*", "a, b;c ;d"),
    [m.groupdict() for m in re.finditer(r"(?P<year>\d{4})-(?P<mon>\d\d)", "2024-02 and 1999-12")],
    re.fullmatch(r"(?i)[a-z]+\d*", "AbC12") is not None,
    re.sub(r"\s+", " ", "  many   spaces\there  ").strip(),
]

out["itertools"] = [
    [(k, len(list(g))) for k, g in itertools.groupby("aaabccdd")],
    list(itertools.accumulate([1, 2, 3, 4], lambda a, b: a * b)),
    list(itertools.combinations("abcd", 2)),
    list(itertools.product([0, 1], repeat=2)),
    list(itertools.zip_longest([1, 2, 3], "ab", fillvalue="-")),
    list(itertools.islice(itertools.cycle("xy"), 5)),
    list(itertools.pairwise([1, 2, 3])),
]
c = collections.Counter("mississippi")
od = collections.OrderedDict.fromkeys("abc")
od.move_to_end("a")
dq = collections.deque(range(5))
dq.rotate(2)
P = collections.namedtuple("P", "x y")
dd = collections.defaultdict(list)
for k, v in [("a", 1), ("b", 2), ("a", 3)]:
    dd[k].append(v)
out["collections"] = [c.most_common(3), list(od), list(dq), P(1, 2)._asdict(), dict(dd),
                      dict(collections.ChainMap({"a": 1}, {"a": 2, "b": 3}))]

lorem = "The quick brown fox jumps over the lazy dog. " * 4
out["textwrap"] = [textwrap.fill(lorem, 30), textwrap.dedent("    a\n      b\n"),
                   textwrap.shorten(lorem, 40), textwrap.indent("x\ny", "> ")]
out["difflib"] = [
    list(difflib.unified_diff(["a\n", "b\n", "c\n"], ["a\n", "B\n", "c\n"], "old", "new")),
    difflib.get_close_matches("appel", ["ape", "apple", "peach", "puppy"]),
    round(difflib.SequenceMatcher(None, "kitten", "sitting").ratio(), 6),
]
out["html"] = [html.escape("<a href='x'>&</a>"), html.unescape("&lt;&eacute;&#x41;&amp;")]
u = urllib.parse.urlparse("https://user@ex.com:8443/p/a%20th;x?q=1&q=2&r=%C3%A9#frag")
out["urllib.parse"] = [
    [u.scheme, u.netloc, u.path, u.params, u.query, u.fragment, u.port, u.username],
    urllib.parse.parse_qs(u.query), urllib.parse.quote("a b/é?"), urllib.parse.quote_plus("a b&c"),
    urllib.parse.urljoin("https://ex.com/a/b/c", "../d?x=1"), urllib.parse.urlencode({"k": ["1", "2"]}, doseq=True),
]
raw = bytes(range(0, 256, 7))
out["base64"] = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode(),
                 base64.b32encode(b"hello").decode(), base64.b16encode(b"\x00\xff").decode(),
                 base64.b64decode("aGVsbG8gd29ybGQ=").decode(), base64.b85encode(b"abc").decode()]
out["hashlib"] = [hashlib.new(n, b"toolshed").hexdigest() for n in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256")]
out["uuid"] = [str(uuid.uuid5(uuid.NAMESPACE_DNS, "toolshed.dev")), str(uuid.uuid3(uuid.NAMESPACE_URL, "x")),
               str(uuid.UUID(int=2**100)), uuid.UUID("12345678123456781234567812345678").hex]
r = random.Random(42)
items = list(range(10))
r.shuffle(items)
out["random"] = [r.random(), r.randint(1, 100), r.choice("abcdef"), items, r.sample(range(100), 5),
                 r.uniform(1, 2), r.gauss(0, 1)]
out["math"] = [math.isqrt(10**20 + 1), math.comb(50, 7), math.perm(10, 3), math.gcd(84, 126), math.lcm(4, 6),
               math.log(1024, 2), math.fsum([0.1] * 10), math.prod([1, 2, 3, 4]), math.dist((0, 0), (3, 4)),
               math.floor(-2.5), math.ceil(2.1), round(2.675, 2), math.copysign(1, -0.0)]
F = fractions.Fraction
out["fractions"] = [str(F("3.1415926").limit_denominator(100)), str(F(1, 3) + F(1, 6)),
                    str(F(0.75)), str(F(-7, 21)), float(F(22, 7))]
out["heapq"] = [heapq.nlargest(3, [5, 1, 8, 3, 9]), heapq.nsmallest(2, ["b", "a", "c"]),
                list(heapq.merge([1, 4, 7], [2, 5, 8]))]
lst = [1, 3, 5]
bisect.insort(lst, 4)
out["bisect"] = [lst, bisect.bisect_left([1, 2, 2, 3], 2), bisect.bisect_right([1, 2, 2, 3], 2)]

print(json.dumps(out, sort_keys=True))
