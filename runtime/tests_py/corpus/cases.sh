for f in logs/*.log; do grep -c ERROR $f; done
n=$(wc -l < t.csv); echo lines=$n
x=5; echo $((x * 2 + 1))
if grep -q bob t.csv; then echo found; fi
if grep -q zed t.csv; then echo found; else echo missing; fi
case hello in h*) echo starts-h;; *) echo other;; esac
f() { echo "hi $1"; }; f there
greet() { local name=$1; echo "hello, $name"; }; greet ann; echo "[$name]"
for i in 1 2 3; do echo $i; done | tac
i=0; while [ $i -lt 3 ]; do echo $i; i=$((i+1)); done
i=0; until [ $i -ge 2 ]; do echo u$i; i=$((i+1)); done
for ((i=0; i<3; i++)); do echo $i; done
echo "$(echo nested $(echo deep))"
echo `echo back`
x=abc.tar.gz; echo ${x%.*} ${x%%.*} ${x#*.} ${x##*.}
x=hello; echo ${#x} ${x:1:3} ${x^^} ${x/l/L} ${x//l/L}
echo ${unset_var:-default} ${unset_var:+alt}
y=; echo "[${y:-empty}]"
while read line; do echo "got: $line"; done < a.txt
cat t.csv | while IFS=, read n name; do echo "$name=$n"; done
[[ abc == a* ]] && echo glob-match
[[ "v1.2" =~ ^v([0-9]+)\.([0-9]+)$ ]] && echo "major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]}"
{ echo one; echo two; } > out.txt; cat out.txt
(cd logs && ls); ls | wc -l
set -e; false; echo not-reached
set -o pipefail; false | true; echo $?
echo $((10 / 3)) $((10 % 3)) $((2 ** 10)) $((-7 / 2))
a=3; ((a++)); echo $a
(( 5 > 3 )) && echo bigger
count=0; for f in logs/*.log; do count=$((count + $(grep -c ERROR $f))); done; echo $count
for x in a b c; do if [ $x = b ]; then continue; fi; echo $x; done
for x in a b c; do [ $x = b ] && break; echo $x; done
sum() { local s=0; for n in "$@"; do s=$((s+n)); done; echo $s; }; sum 1 2 3 4
set -- a b c; echo $# $1 $3; shift; echo $@
x="a b  c"; for w in $x; do echo "<$w>"; done
x="a b  c"; for w in "$x"; do echo "<$w>"; done
IFS=:; for p in a:b:c; do echo $p; done
echo ${HOME:+has-home}
cat <<< "here $((1+1))"
echo $(( $(wc -l < a.txt) * 2 ))
fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi; }; fact 5
case "b.csv" in *.txt|*.md) echo text;; *.csv) echo csv;; esac
v=$(grep -c ERROR logs/a.log) && echo "errors: $v"
test -f t.csv && echo exists || echo missing
grep -q nope t.csv || echo "not there: $?"
echo "a-b-c" | { IFS=- read x y z; echo $z$y$x; }
x=1; ( x=2; echo in=$x ); echo out=$x
echo $? ; false; echo $?
files=$(ls logs | wc -l); echo "$files files"
for f in *.txt; do echo "${f%.txt}"; done
name=world; echo "Hello, ${name}!"
echo ${#PWD} > /dev/null; echo ok
eval 'echo evaluated $((3*3))'
let x=4*5; echo $x
printf '%s\n' "$(printf 'x%.0s' 1 2 3)"
grep -c ERROR logs/*.log
grep -h ERROR logs/*.log | sort | uniq -c | sort -rn
for f in logs/*; do echo "$f: $(wc -l < $f)"; done
tail -n +2 t.csv | cut -d, -f2 | sort
total=0; while IFS=, read n name score; do total=$((total + score)); done < <(tail -n +2 t.csv); echo $total
tail -n +2 t.csv | { total=0; while IFS=, read n name score; do total=$((total + score)); done; echo $total; }
head -1 t.csv | tr , '\n' | wc -l
if [ -f data.json ]; then jq '.items | length' data.json; fi
jq -r '.items[] | "\(.id): \(.tags | length)"' data.json
[ -d logs ] && echo dir
x=$(jq -r '.next' data.json); [ "$x" = null ] && echo "no next page"
ls logs | while read f; do echo "== $f"; done
grep -n item notes.md | cut -d: -f1 | paste -sd, -
sort -n nums.txt | uniq | tr '\n' ' '
sort -nr nums.txt | head -2
for i in $(seq 1 3); do echo "row $i"; done
seq 5 | while read n; do [ $((n % 2)) -eq 0 ] && echo even $n; done
echo "${PWD##*/}" | wc -c > /dev/null && echo fine
v="Hello World"; echo "${v,,}" "${v^^}"
path=/a/b/c.txt; echo "${path%/*}" "${path##*/}"
str=aaa; echo "${str/a/b}" "${str//a/b}" "${str/#a/X}" "${str/%a/Y}"
n=007; echo $((10#$n + 1))
echo $((0x1f)) $((8#17)) $((1 << 4)) $((7 & 3)) $(( 3 > 2 ? 10 : 20 ))
i=5; echo $((i++)) $i $((++i)) $i
echo $(( (1 + 2) * 3 )) $((-(4)))
a=1; b=2; [[ $a -lt $b && $b -gt 0 ]] && echo both
[[ -z "" && -n x ]] && echo zn
[[ ! -f nope ]] && echo "no file"
[[ abc != b* ]] && echo "not b"
[[ "a b" == "a b" ]] && echo quoted-eq
case 42 in [0-9]*) echo number;; esac
case x in a|b) echo ab;; *) echo default;; esac
f() { return 3; }; f; echo $?
outer() { inner() { echo inner-ran; }; inner; }; outer
countdown() { local n=$1; while [ $n -gt 0 ]; do echo $n; n=$((n-1)); done; }; countdown 3
set -u; echo ${DEFINITELY_UNSET:-fallback}
set -e; true; echo still-here
false || echo recovered
! false && echo negated
{ echo a; echo b; } | wc -l
echo start; (exit 3); echo "sub=$?"
for f in *.txt; do [ -s "$f" ] && echo "nonempty $f"; done
echo $(echo "a  b") "$(echo "a  b")"
words="x y z"; set -- $words; echo $2
for arg in "a b" c; do echo "[$arg]"; done
printf '%s-%s\n' a b c d
printf '%5.2f|%-4s|%03d\n' 3.14159 ab 7
printf '%s\n' *.txt
echo -e 'a\tb' | cut -f2
echo 'a,b,c' | cut -d, -f2-
echo abc | tr a-z A-Z
echo 'hello world' | sed 's/world/there/'
grep -v INFO logs/a.log | head -1
grep -o 'ERROR [a-z]*' logs/a.log
grep -E 'WARN|INFO' logs/a.log | wc -l
grep -l ERROR logs/*.log
grep -rn timeout logs
wc -l a.txt b.txt
diff <(echo a) <(echo a) 2>/dev/null; echo done
cat a.txt b.txt | sort | uniq -d
comm -12 <(sort a.txt) <(sort b.txt) 2>/dev/null || echo no-comm
find . -name '*.log' | sort
find logs -type f | wc -l
basename logs/a.log .log
dirname logs/a.log
echo $(basename "$PWD") > /dev/null; echo ok
head -c 5 a.txt; echo
tail -c 6 a.txt
cut -c1-3 a.txt
echo aaa | tr -s a
echo hello | tr -d l
wc -w notes.md
wc -c a.txt
sort -t, -k3 -n t.csv | head -2
sort -u nums.txt | wc -l
xargs -n 2 echo < a.txt
echo a b c | xargs -I{} echo "item {}"
test 3 -gt 2 && echo gt
[ "$(cat a.txt | wc -l)" -eq 3 ] && echo three-lines
date -u -d @0 +%Y 2>/dev/null || echo 1970
echo $((RANDOM >= 0)) > /dev/null; echo rnd
true && { echo braces; }
if [ -e t.csv ] && grep -q ann t.csv; then echo "ann here"; elif [ -e x ]; then echo x; else echo none; fi
for x in 1 2 3; do for y in a b; do [ $y = b ] && continue 2; echo $x$y; done; done
i=0; while true; do i=$((i+1)); [ $i -ge 3 ] && break; done; echo $i
f() { echo "args=$#: $*"; }; f a "b c" d
g() { for a; do echo "<$a>"; done; }; g x "y z"
x=5; y=$x; x=6; echo $y
readonly K=1; echo $K
export V=exported; sh_v=$(printenv V); echo $sh_v
unset V; echo "[${V-unset}]"
echo ${#} ${#@}
IFS=, read -r a b <<< "left,right"; echo "$b $a"
read -r first rest <<< "one two three"; echo "$rest"
echo "a:b:c" | { IFS=: read -r x y z; echo $y; }
eval "x=42"; echo $x
let "y = 6 * 7"; echo $y
declare z=9; echo $z
echo $((2**62 * 4))
echo "${x:-}${undefined-}" > /dev/null; echo quiet
awk -F, 'NR>1 {s+=$3} END {print s}' t.csv
awk '{print $1}' logs/a.log | sort | uniq -c
awk -F, 'NR>1 && $3 > 80 {print $2}' t.csv
awk '{ n[$1]++ } END { for (k in n) print k, n[k] }' logs/a.log | sort
awk 'BEGIN { printf "%05.1f\n", 3.14159 }'
awk '{print NR": "$0}' a.txt
awk 'length($0) > 3' a.txt
awk -F, '{print toupper($2)}' t.csv
diff a.txt b.txt
diff -u a.txt b.txt | tail -n +3
paste -sd+ nums.txt
paste a.txt b.txt
comm -3 a.txt b.txt
join <(sort a.txt) <(sort b.txt)
column -t -s, t.csv
nl a.txt
rev a.txt
fold -w 3 a.txt
md5sum a.txt
sha256sum a.txt | cut -c1-16
realpath logs/../a.txt | sed 's|.*/||'
sort -h <<< $'10K\n2M\n1K'
tac a.txt
split -l 2 a.txt part_ && ls part_*
stat -c '%s %n' a.txt
ls -l a.txt | cut -d' ' -f1,5
awk 'BEGIN{print 1/3}'
awk 'BEGIN{x="10"; y=9; print (x<y), ("10"<"9")}'
awk -F, 'NR==1{next} {print $2, $3*2}' t.csv
awk '{$2="X"; print}' a.txt
awk '{print NF}' logs/a.log
awk 'END{print NR}' a.txt b.txt
awk '/ERROR/{c++} END{print c+0}' logs/a.log
awk '!seen[$0]++' b.txt a.txt
awk '{printf "%-5s|%3d\n", $1, NR}' a.txt
awk 'BEGIN{n=split("a:b:c",p,":"); print n, p[3]}'
awk '{gsub(/e/,"E"); print}' a.txt
awk '{sub(/o/,"[&]"); print}' a.txt
awk 'BEGIN{s="hello"; print substr(s,2,3), index(s,"ll"), length(s)}'
awk 'BEGIN{if (match("foobar", /ob+/)) print RSTART, RLENGTH}'
awk 'BEGIN{OFS="-"} {$1=$1; print}' logs/a.log
awk 'NR%2==0' b.txt
awk 'NR==2,NR==3' b.txt
awk '{a[NR]=$0} END{for(i=NR;i>0;i--) print a[i]}' a.txt
awk 'function f(x){return x*2} {print f(NR)}' a.txt
awk 'BEGIN{printf "%s %d %.2f %x %c\n", "s", 42.9, 3.14159, 255, 65}'
awk -v n=3 'BEGIN{print n+1}'
awk '{s+=length($0)} END{print s, s/NR}' a.txt
awk 'BEGIN{print toupper("abc") tolower("DEF")}'
awk 'length > 3' a.txt
awk '$1 ~ /^t/' a.txt
awk '$1 !~ /^t/' a.txt
awk 'BEGIN{x; if (x == 0 && x == "") print "both"}'
awk '{ for (i = NF; i > 0; i--) printf "%s ", $i; print "" }' logs/a.log
awk -F'[,]' '{print $NF}' t.csv
awk 'BEGIN { while (i < 3) { i++; if (i == 2) continue; print i } }'
awk 'BEGIN { do { k++ } while (k < 5); print k }'
awk 'BEGIN { a["x"]=1; delete a["x"]; print length(a) }'
awk 'BEGIN { a[1,2]=3; for (k in a) { split(k, p, SUBSEP); print p[1], p[2] } }'
awk 'BEGIN { print 2^10, 7%3, -3%2, int(-3.7) }'
awk 'BEGIN { print 1e6, 1e20, 0.1+0.2, 100000000 }'
awk '{ total[$1] += 1 } END { for (k in total) print k, total[k] | "sort" }' logs/a.log
awk 'BEGIN { exit 3 } END { print "end" }'; echo $?
awk '{ exit } END { print "end ran" }' a.txt
echo "a b c" | awk '{ NF=2; print }'
echo "  lead  trail  " | awk '{ print "[" $1 "]" }'
printf 'x\ty\n' | awk -F'\t' '{ print $2 }'
awk 'BEGIN { printf "%5.1f%%\n", 12.345 }'
echo {1..5}
echo a{b,c}d
mkdir -p out/{x,y} && ls out
echo file.{txt,md}
for i in {1..3}; do echo "n=$i"; done
echo {a..e} {5..1}
echo {05..10..2}
echo x{a,b{1,2}}y "{q,r}"
touch f{1,2}.tmp && ls *.tmp
echo $((1/0)); echo after
echo ${x:?must be set}; echo after
((1/0)); echo after
x=$(echo $((1/0))); echo "after $?"
printf -v line '%s=%d' total 42; echo "[$line]"
trap 'echo cleanup' EXIT; echo working; exit 4
command -v cat >/dev/null && echo has-cat
exec echo replaced; echo never
wait; echo waited
echo $((RANDOM >= 0 && RANDOM < 32768))
ls() { echo shadowed; }; command ls a.txt
find . -name '*.log' -exec wc -l {} + | sort
find logs -type f -exec grep -c ERROR {} \; | sort
declare -i n=5; n+=2; n=n*3; echo $n
f() { local -i k=2; k+=3; echo $k; }; f
printf '%q\n' 'a b' "it's" ''
umask
