#!/usr/bin/env bash
# Checks headers/families/*.api against the pinned headers of every target, independently of the scanner.
#
#   eng/check-families.sh [-k "6.1 6.12 7.2"] [-t TARGET] [--sysroot TARGET=DIR] [--list] [FAMILY...]
#
# For each family, each of its targets and (Linux) each kernel-header version:
#   1. resolves the lines that apply to the target (`key`, `key.<os>`, `key.<target>`);
#   2. expands patterns the way headers/FORMAT.md defines them, over the translation unit of the family's headers:
#      `const P*` over object-like macros and enumerators (minus `!NAME` / `!P*` exclusions),
#      `struct P*` over defined records, `enum P*` over named enums;
#   3. checks every name exists in the headers with the right kind (clang AST dump, macro dump), and
#   4. compiles a proof for the target (zig's clang driver, `zig clang`) that uses every item: sizeof of each
#      record/enum/typedef, a pointer type to each opaque record, the address of each function,
#      `static const __typeof__(X) v = X;` plus an integer-constant-expression check for each constant (a constant
#      named explicitly may instead be an integer cast to a pointer, such as INVALID_HANDLE_VALUE; a pattern match
#      must be an integer), a GUID initializer for each guid, and `__NR_<name>` for each syscall.
# `zig cc` is not used: it puts zig's own bundled libc headers ahead of -nostdinc/-isystem, so its proofs would
# check zig's glibc/mingw headers instead of the pinned sysroot. `zig clang` is the bare clang 16 driver.
# --sysroot TARGET=DIR uses DIR instead of `eng/headers.sh fetch TARGET` (for a hand-assembled sysroot).
# --list prints the resolved items. Exit code 0 when every family is clean, 1 otherwise, 2 on usage errors.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HS="$ROOT/eng/headers.sh"
KERNELS="6.1 6.12 7.2"
ONLY_TARGET=""; LIST=0; FAMILIES=(); declare -A SYSROOT_OVERRIDE=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    -k) KERNELS="$2"; shift 2 ;;
    -t) ONLY_TARGET="$2"; shift 2 ;;
    --list) LIST=1; shift ;;
    --sysroot) SYSROOT_OVERRIDE["${2%%=*}"]="${2#*=}"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) echo "check-families: unknown option $1" >&2; exit 2 ;;
    *) FAMILIES+=("$1"); shift ;;
  esac
done
if [[ ${#FAMILIES[@]} -eq 0 ]]; then
  for f in "$ROOT"/headers/families/*.api; do FAMILIES+=("$(basename "$f" .api)"); done
fi

ZIG="$("$HS" zig)/package/zig"
# clang 16's own builtin headers: clang 22's (eng/headers.sh clang, what the scanner's libclang uses) do not compile
# under clang 16 (mingw's winnt.h pulls x86intrin.h, which uses builtins clang 16 lacks).
CLANG_INC="$("$HS" zig)/package/lib/include"
WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
FAILED=0
fail() { echo "  ERROR $*"; FAILED=1; }
warn() { echo "  warning: $*"; }

# Applicable lines of a family file for (os, target): prints "key<TAB>token" pairs, narrowing suffix removed.
# Also validates the keys, so a typo in a key is reported once per target.
resolve() {
  local file="$1" os="$2" target="$3"
  awk -v os="$os" -v tg="$target" -v file="$file" '
    BEGIN { split("family targets header func struct type enum const guid syscall lib errno fast noerror opaque",
                  k, " ");
            for (i in k) known[k[i]] = 1 }
    /^[ \t]*(#|$)/ { next }
    { key = $1; q = ""
      if (index(key, ".") > 0) { q = substr(key, index(key, ".") + 1); key = substr(key, 1, index(key, ".") - 1) }
      if (!(key in known)) { printf "BADKEY\t%s:%d: unknown key %s\n", file, NR, $1; next }
      if (q != "" && q != os && q != tg) next
      for (i = 2; i <= NF; i++) printf "%s\t%s\t%d\n", key, $i, NR }' "$file"
}

# Target facts from headers/targets/<t>.target.
target_field() { awk -v k="$2" '$1==k { $1=""; sub(/^ /, ""); print }' "$ROOT/headers/targets/$1.target"; }

# Parses clang's text AST dump into "kind<TAB>name[<TAB>extra]" lines:
#   record struct|union NAME, typedef NAME record|other, enum NAME, anonenum NAME (enumerator of an untagged
#   enum), enumerator NAME ENUM, func NAME.
ast_decls() {
  awk '
    function after_range(s,   i, depth) {
      i = index(s, "<"); if (i == 0) return s
      depth = 0
      for (; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "<") depth++
        else if (c == ">") { depth--; if (depth == 0) return substr(s, i + 2) }
      }
      return ""
    }
    function strip_flags(s) {
      sub(/^[^ ]+ ?/, "", s)                       # the declaration location (col:N, line:N:M, file:N:M)
      while (match(s, /^(prev 0x[0-9a-f]+|parent 0x[0-9a-f]+|implicit|referenced|used|invalid|imported|hidden) ?/))
        s = substr(s, RLENGTH + 1)
      return s
    }
    {
      line = $0
      if (!match(line, /[A-Za-z]+Decl 0x[0-9a-f]+ /)) next
      kind = substr(line, RSTART, RLENGTH); sub(/ .*/, "", kind)
      rest = strip_flags(after_range(substr(line, RSTART + RLENGTH)))
      if (kind == "RecordDecl") {
        if (match(rest, /^(struct|union) [A-Za-z_][A-Za-z0-9_]* definition$/)) {
          split(rest, p, " "); print "record\t" p[2] "\t" p[1]
        }
      } else if (kind == "EnumDecl") {
        cur = ""
        if (match(rest, /^[A-Za-z_][A-Za-z0-9_]*/)) { cur = substr(rest, 1, RLENGTH); print "enum\t" cur }
      } else if (kind == "EnumConstantDecl") {
        match(rest, /^[A-Za-z_][A-Za-z0-9_]*/); n = substr(rest, 1, RLENGTH)
        if (cur == "") print "anonenum\t" n; else print "enumerator\t" n "\t" cur
      } else if (kind == "FunctionDecl") {
        if (match(rest, /^[A-Za-z_][A-Za-z0-9_]* /)) print "func\t" substr(rest, 1, RLENGTH - 1)
      } else if (kind == "TypedefDecl") {
        if (!match(rest, /^[A-Za-z_][A-Za-z0-9_]* /)) next
        n = substr(rest, 1, RLENGTH - 1); t = substr(rest, RLENGTH + 1)
        # A typedef of a record, directly or through another such typedef (glibc: sigset_t -> __sigset_t -> struct).
        isrec = 0; m = split(t, q, "\x27")
        for (j = 2; j <= m; j += 2) if ((q[j] ~ /^(struct|union) / && q[j] !~ /[*\[]/) || (q[j] in rectd)) isrec = 1
        if (isrec) rectd[n] = 1
        print "typedef\t" n "\t" (isrec ? "record" : "other")
      }
    }'
}

# check_config <family> <target> <kernel|-> : all checks for one family on one sysroot.
check_config() {
  local fam="$1" target="$2" kernel="$3" file="$ROOT/headers/families/$1.api"
  local os triple sysroot label="$target"
  os="$(target_field "$target" os)"; triple="$(target_field "$target" triple)"
  if [[ -n "${SYSROOT_OVERRIDE[$target]:-}" ]]; then sysroot="${SYSROOT_OVERRIDE[$target]}"
  elif [[ "$kernel" != - ]]; then sysroot="$("$HS" fetch "$target" --kernel "$kernel")"
  else sysroot="$("$HS" fetch "$target")"; fi
  [[ "$kernel" != - ]] && label="$target k$kernel"
  local -a flags=(-nostdinc -isystem "$CLANG_INC")
  local inc def
  while read -r inc; do
    [[ -n "$inc" ]] || continue
    flags+=(-isystem "$sysroot/$inc")
    # A package whose headers are symlinks into another package (mingw-w64-x86-64-dev -> mingw-w64-common) leaves
    # them dangling when the other package is not part of the sysroot.
    local dangling; dangling="$(find "$sysroot/$inc" -xtype l 2>/dev/null | wc -l)"
    [[ "$dangling" == 0 ]] || fail "$label: $dangling dangling symlinks under $sysroot/$inc (e.g. $(find "$sysroot/$inc" -xtype l | head -1 | xargs readlink)): the sysroot lacks a package"
  done < <(target_field "$target" include)
  while read -r def; do [[ -n "$def" ]] && flags+=("-D$def"); done < <(target_field "$target" define)
  local d="$WORK/$fam-$target-$kernel"; mkdir -p "$d"

  resolve "$file" "$os" "$target" > "$d/lines"
  if grep -q '^BADKEY' "$d/lines"; then fail "$(grep '^BADKEY' "$d/lines" | cut -f2- | head -1)"; return; fi
  local lib errno_kind
  lib="$(awk -F'\t' '$1=="lib"{print $2}' "$d/lines" | tr '\n' ' ')"; errno_kind="$(awk -F'\t' '$1=="errno"{print $2}' "$d/lines" | tr '\n' ' ')"
  [[ "$lib" =~ ^(libc|ws2_32|kernel32|mswsock|ntdll)\ $ ]] || fail "$fam.api on $label: lib must be one of libc ws2_32 kernel32 mswsock ntdll, got '$lib'"
  [[ "$errno_kind" =~ ^(errno|wsa|win32|none)\ $ ]] || fail "$fam.api on $label: errno must be one of errno wsa win32 none, got '$errno_kind'"

  # The translation unit of the family's headers.
  awk -F'\t' '$1=="header"{print "#include <" $2 ">"}' "$d/lines" > "$d/tu.c"
  [[ -s "$d/tu.c" ]] || { fail "$fam.api on $label: no header applies"; return; }
  : > "$d/empty.c"
  if ! "$ZIG" clang -target "$triple" "${flags[@]}" -fsyntax-only -fno-color-diagnostics -Xclang -ast-dump \
       "$d/tu.c" > "$d/ast.txt" 2> "$d/tu.err" || [[ -s "$d/tu.err" ]]; then
    fail "$fam.api on $label: the family's headers do not parse cleanly:"; sed 's/^/      /' "$d/tu.err" | head -20
    return
  fi
  ast_decls < "$d/ast.txt" | sort -u > "$d/decls"
  "$ZIG" clang -target "$triple" "${flags[@]}" -E -dM "$d/empty.c" | awk '{print $2}' | sort -u > "$d/predef"
  "$ZIG" clang -target "$triple" "${flags[@]}" -E -dM "$d/tu.c" \
    | awk '{ n = $2; if (n ~ /\(/) { sub(/\(.*/, "", n); print n "\tfn" } else print n "\tobj" }' \
    | sort -u | awk -F'\t' 'NR==FNR { pre[$1]=1; next } !($1 in pre)' "$d/predef" - > "$d/macros"

  # Resolve every item to "kind<TAB>name<TAB>spelling<TAB>line" in $d/items.
  : > "$d/items"
  awk -F'\t' -v fam="$fam" -v label="$label" -v out="$d/items" '
    FILENAME ~ /decls$/ {
      if ($1 == "record") { rec[$2] = $3 }
      else if ($1 == "typedef") { td[$2] = $3 }
      else if ($1 == "enum") enm[$2] = 1
      else if ($1 == "anonenum" || $1 == "enumerator") enumr[$2] = 1
      else if ($1 == "func") fn[$2] = 1
      next }
    FILENAME ~ /macros$/ { mac[$1] = $2; next }
    function err(msg) { printf "ERROR %s.api:%d on %s: %s\n", fam, ln, label, msg }
    function emit(k, n, s,   kk) { kk = (k == "constx" ? "const" : k); if (!((kk, n) in seen)) { seen[kk, n] = 1; printf "%s\t%s\t%s\t%d\n", k, n, s, ln > out } }
    function pfx(p) { return substr(p, 1, length(p) - 1) }
    { key = $1; tok = $2; ln = $3 }
    key == "const" && tok ~ /^!/ { x = substr(tok, 2); if (x ~ /\*$/) exp_p[pfx(x)] = 1; else exc[x] = 1; next }
    { todo[++nt] = key "\t" tok "\t" ln }
    END {
      for (i = 1; i <= nt; i++) { split(todo[i], a, "\t"); if (a[1] == "func") listed["func", a[2]] = 1 }
      for (i = 1; i <= nt; i++) {
        split(todo[i], a, "\t"); key = a[1]; tok = a[2]; ln = a[3]
        pat = (tok ~ /\*$/); p = pfx(tok); hits = 0
        if (pat && key != "const" && key != "struct" && key != "enum") { err("patterns are allowed only in const, struct and enum lines: " tok); continue }
        if (key == "func") {
          if (tok in fn) emit("func", tok, tok); else err("func " tok ": no function declaration")
        } else if (key == "struct") {
          if (pat) { for (n in rec) if (index(n, p) == 1) { emit("struct", n, rec[n] " " n); hits++ }
                     if (!hits) err("pattern struct " tok " matches no record") }
          else if (tok in rec) emit("struct", tok, rec[tok] " " tok)
          else if ((tok in td) && td[tok] == "record") emit("struct", tok, tok)
          else err("struct " tok ": no struct, union or typedef of a record")
        } else if (key == "opaque") {
          if (tok in rec) emit("opaque", tok, rec[tok] " " tok)
          else if ((tok in td) && td[tok] == "record") emit("opaque", tok, tok)
          else err("opaque " tok ": no struct, union or typedef of a record")
        } else if (key == "enum") {
          if (pat) { for (n in enm) if (index(n, p) == 1) { emit("enum", n, "enum " n); hits++ }
                     if (!hits) err("pattern enum " tok " matches no enum") }
          else if (tok in enm) emit("enum", tok, "enum " tok); else err("enum " tok ": no named enum")
        } else if (key == "type") {
          if (tok in td) emit("type", tok, tok); else err("type " tok ": no typedef")
        } else if (key == "const") {
          if (pat) {
            for (n in mac) if (index(n, p) == 1 && !excluded(n)) {
              if (mac[n] == "fn") { fnhits[n] = tok; continue }
              emit("const", n, n); hits++ }
            for (n in enumr) if (index(n, p) == 1 && !excluded(n) && !(n in mac)) { emit("const", n, n); hits++ }
            if (!hits) err("pattern const " tok " matches nothing")
          } else if ((tok in mac) && mac[tok] == "fn") emit("constx", tok, tok "()")
          else if (tok in mac || tok in enumr) emit("constx", tok, tok)
          else err("const " tok ": no macro or enumerator")
        } else if (key == "guid") {
          if ((tok in mac) && mac[tok] == "obj") emit("guid", tok, tok); else err("guid " tok ": no macro")
        } else if (key == "fast" || key == "noerror") {
          if (!(("func" SUBSEP tok) in listed)) err(key " " tok ": not a function this family lists on a func line")
        } else if (key == "syscall") {
          if (("__NR_" tok) in mac) emit("syscall", tok, "__NR_" tok); else err("syscall " tok ": no __NR_" tok)
        }
      }
      for (n in fnhits) printf "WARN pattern %s matches function-like macro %s (patterns skip it; exclude it with !%s)\n", fnhits[n], n, n
      for (n in exc) printf "EXC\t%s\t%d\n", n, ((n in mac) || (n in enumr))
    }
    function excluded(n,   q) { if (n in exc) return 1; for (q in exp_p) if (index(n, q) == 1) return 1; return 0 }
  ' "$d/decls" "$d/macros" "$d/lines" > "$d/resolve.out"
  while IFS= read -r l; do
    case "$l" in
      ERROR*) fail "${l#ERROR }" ;;
      WARN*) warn "${l#WARN }" ;;
      EXC*) echo "${l#*$'\t'}" >> "$WORK/$fam.exclusions" ;;
    esac
  done < "$d/resolve.out"
  sort -t$'\t' -k1,1 -k2,2 "$d/items" -o "$d/items"

  # Compile proof: one line per item, so that a diagnostic's line number names the item.
  {
    cat "$d/tu.c"
    echo '#define SC_INTS(E) char: E, signed char: E, unsigned char: E, short: E, unsigned short: E, int: E, unsigned: E, long: E, unsigned long: E, long long: E, unsigned long long: E, _Bool: E'
    echo '#define SC_INT(X) _Generic((X), SC_INTS(1), default: 0)'
    awk -F'\t' '{ i = NR
      if ($1 == "func") printf "static __typeof__(&%s) sc_f%d = &%s;\n", $3, i, $3
      else if ($1 == "struct") printf "typedef char sc_s%d[sizeof(%s) + 1]; _Static_assert(__builtin_classify_type(*(%s *)0) == 12 || __builtin_classify_type(*(%s *)0) == 13, \"record\");\n", i, $3, $3, $3
      else if ($1 == "enum" || $1 == "type") printf "typedef char sc_t%d[sizeof(%s) + 1];\n", i, $3
      else if ($1 == "opaque") printf "typedef %s *sc_o%d;\n", $3, i
      else if ($1 == "const" || $1 == "syscall") printf "static const __typeof__(%s) sc_c%d = %s; _Static_assert(SC_INT(%s), \"integer type\"); enum { sc_e%d = ((%s) != 0) };\n", $3, i, $3, $3, i, $3
      else if ($1 == "constx") printf "static const __typeof__(%s) sc_c%d = %s; _Static_assert(SC_INT(%s) || __builtin_classify_type(%s) == 5, \"integer or pointer type\"); _Pragma(\"clang diagnostic push\") _Pragma(\"clang diagnostic ignored \\\"-Wgnu-folding-constant\\\"\") enum { sc_e%d = _Generic((%s), SC_INTS(((%s) != 0)), default: ((__INTPTR_TYPE__)(%s) != 0)) }; _Pragma(\"clang diagnostic pop\")\n", $3, i, $3, $3, $3, i, $3, $3, $3
      else if ($1 == "guid") printf "static const GUID sc_g%d = %s;\n", i, $3
    }' "$d/items"
  } > "$d/proof.c"
  local hdr; hdr="$(wc -l < "$d/tu.c")"; hdr=$((hdr + 2))
  if ! "$ZIG" clang -target "$triple" "${flags[@]}" -ferror-limit=0 -fno-color-diagnostics \
       -Werror=gnu-folding-constant -Wno-unused-const-variable -c "$d/proof.c" -o "$d/proof.o" > "$d/proof.err" 2>&1; then
    local bad
    bad="$(grep -oE "proof\.c:[0-9]+:[0-9]+: error" "$d/proof.err" | cut -d: -f2 | sort -un)"
    if [[ -z "$bad" ]]; then fail "$fam.api on $label: proof did not compile:"; head -20 "$d/proof.err" | sed 's/^/      /'; fi
    for n in $bad; do
      if (( n > hdr )); then
        fail "$fam.api:$(sed -n "$((n - hdr))p" "$d/items" | cut -f4) on $label: $(sed -n "$((n - hdr))p" "$d/items" | cut -f1,2 | tr '\t' ' ') fails the proof: $(grep -m1 "proof\.c:$n:[0-9]*: error" "$d/proof.err" | sed 's/.*error: //')"
      else fail "$fam.api on $label: proof error in the includes: $(grep -m1 "proof\.c:$n:" "$d/proof.err")"; fi
    done
  fi

  local summary
  summary="$(awk -F'\t' '{ k = $1 == "constx" ? "const" : $1; c[k]++; t++ }
    END { printf "func %d struct %d enum %d type %d const %d guid %d syscall %d opaque %d = %d",
    c["func"], c["struct"], c["enum"], c["type"], c["const"], c["guid"], c["syscall"], c["opaque"], t }' "$d/items")"
  printf '  %-18s %s\n' "$label" "$summary"
  echo "$fam|$label|$summary" >> "$WORK/summary"
  if [[ $LIST == 1 ]]; then awk -F'\t' '{ print "    " $1 " " $2 }' "$d/items"; fi
}

for fam in "${FAMILIES[@]}"; do
  file="$ROOT/headers/families/$fam.api"
  [[ -f "$file" ]] || { echo "check-families: no family file $file" >&2; exit 2; }
  echo "$fam"
  declared="$(awk '$1=="family"{print $2}' "$file")"
  [[ "$declared" == "$fam" ]] || fail "$fam.api: 'family $declared' does not match the file name"
  targets="$(awk '$1=="targets"{ $1=""; print }' "$file")"
  [[ -n "$targets" ]] || fail "$fam.api: no targets line"
  for t in $targets; do
    [[ -f "$ROOT/headers/targets/$t.target" ]] || { fail "$fam.api: unknown target $t"; continue; }
    [[ -z "$ONLY_TARGET" || "$ONLY_TARGET" == "$t" ]] || continue
    if [[ "$(target_field "$t" os)" == linux ]]; then
      for k in $KERNELS; do check_config "$fam" "$t" "$k"; done
    else check_config "$fam" "$t" -; fi
  done
  # An exclusion that no checked configuration needs is stale (or kept for a header version not checked here).
  if [[ -f "$WORK/$fam.exclusions" ]]; then
    awk -F'\t' '{ used[$1] += $2 } END { for (n in used) if (!used[n]) print "  warning: exclusion !" n " matches nothing on any checked target" }' "$WORK/$fam.exclusions"
  fi
done
exit $FAILED
