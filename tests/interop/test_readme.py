"""Every example in README.md runs as written and prints what the README says.

Conventions (stated in README.md, "Examples in this README"):
  * a ```sql block is SQL for the sqlite3 shell; all of them, and every
    `select ...` example in a table cell, run in document order in ONE
    `sqlite3 :memory:` session started in the repository root with
    `.load ./embext` (so later examples may use tables made by earlier ones);
  * a ```sh block runs with sh in the repository root;
  * a block followed by an ```output block must print exactly that (stdout
    and stderr together, trailing blanks ignored); without one it must run
    without an error message;
  * a table cell `select ...` → `X` must print X (X ending in … : a prefix;
    `→ same` is not compared); `emb_isa()` may print any kernel set name;
  * a table cell `select|insert|create ...` → error `M` must fail with exactly the
    message M (the shell's "Runtime error near line N: " and " (code)" around
    it are not part of the message);
  * every error message quoted elsewhere in the README (a backticked text
    starting "emb_xxx: " or "embedding xxx: ") must be one of those M, or be
    found verbatim in the test file that the README says checks it
    (EXTERNAL below), so the "Errors" section lists every error path;
  * ```sql syntax blocks (grammar, not runnable) and ```sh blocks without an
    output block (make targets, installs) are not run.
Run by tests/run.sh with Debian's /usr/bin/python3 from the repository root
(EMBEXT_PATH = the embext.so under test, copied to ./embext.so's place only
through a private temporary directory); prints "N passed, M failed"."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
readme = os.path.join(root, "README.md")
ISAS = {"serial", "avx2", "avx512", "neon"}
passed = failed = skipped = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL README.md:%s%s" % (name, ("\n" + detail) if detail else ""))


def parse(text):
    """Units in document order: dicts with kind (sql/sh/inline), line,
    code, want (None = only 'no error'), mode (exact/prefix/isa/none)."""
    lines = text.split("\n")
    units, i = [], 0
    fence = re.compile(r"^```(\S*)(.*)$")
    cell = re.compile(r"`(select [^`]*)`(?:\s*→\s*(?:`([^`]*)`|(same)))?")
    err_cell = re.compile(r"`((?:select|insert|create) [^`]*)`\s*→\s*error\s*`([^`]*)`")
    while i < len(lines):
        m = fence.match(lines[i])
        if m and m.group(1):
            lang, extra, start = m.group(1), m.group(2).strip(), i + 1
            j = start
            while not lines[j].startswith("```"):
                j += 1
            body = "\n".join(lines[start:j])
            k = j + 1
            while k < len(lines) and lines[k].strip() == "":
                k += 1
            want = None
            if k < len(lines) and lines[k].strip() == "```output":
                e = k + 1
                while not lines[e].startswith("```"):
                    e += 1
                want = "\n".join(lines[k + 1:e])
                j = e
            if lang in ("sql", "sh") and extra != "syntax" and not (lang == "sh" and want is None):
                units.append(dict(kind=lang, line=start, code=body, want=want,
                                  mode="none" if want is None else "exact"))
            i = j + 1
            continue
        if lines[i].startswith("|"):
            errs = list(err_cell.finditer(lines[i]))
            for c in errs:
                units.append(dict(kind="inline", line=i + 1, code=c.group(1) + ";",
                                  want=c.group(2), mode="error"))
            for c in ([] if errs else cell.finditer(lines[i])):
                sql, want, same = c.group(1), c.group(2), c.group(3)
                mode = "none"
                if want is not None:
                    mode = "exact"
                    if want.endswith("…"):
                        mode, want = "prefix", want[:-1]
                    elif want in ISAS and "emb_isa()" in sql:
                        mode = "isa"
                units.append(dict(kind="inline", line=i + 1, code=sql + ";", want=want,
                                  mode=mode))
        i += 1
    return units


def norm(s):
    return "\n".join(l.rstrip() for l in s.strip("\n").split("\n")).strip("\n")


def verdict(u, got):
    where = "%d (%s)" % (u["line"], u["kind"])
    bad = re.search(r"^(Parse error|Runtime error|Error)", got, re.M)
    if u["mode"] == "error":
        first = got.strip("\n").split("\n")
        m = re.match(r"^(?:Parse|Runtime) error near line \d+: (.*?)(?: \(\d+\))?$", first[0])
        rest_ok = all(l.startswith("  ") for l in first[1:])  # the shell's caret lines
        check(where, bool(m) and m.group(1) == u["want"] and rest_ok,
              "expected the error:\n%s\nprinted:\n%s" % (u["want"], got))
        return
    if u["mode"] == "none":
        check(where, not bad, "printed an error:\n" + got)
        return
    g, w = norm(got), norm(u["want"])
    ok = {"exact": g == w, "prefix": g.startswith(w) and g != "", "isa": g in ISAS}[u["mode"]]
    check(where, ok, "expected:\n%s\nprinted:\n%s" % (w, g))


text = open(readme, encoding="utf-8").read()
units = parse(text)

# Every quoted error message is in the "Errors" list (or checked verbatim by
# the named test); in "Messages changed" only the "after" column counts.
EXTERNAL = {  # messages the README session cannot produce: the test that checks them
    "emb_json: found a sqlite-vec bit vector (vec_bit, 32 bits); expected float32 (an f32 blob, vec_f32() or JSON text)":
        "tests/unit/test_vec_subtype.c",
    # needs a second connection to a table whose stored format was changed
    "embedding f: unknown storage format 3 (this embext reads formats 1 to 2; a newer embext wrote it?)":
        "tests/unit/test_vtab_files.c",
}
listed = {u["want"] for u in units if u["mode"] == "error"}
quoted = re.compile(r"`((?:emb_\w+|embedding \w+): [^`]+)`")
section = None
for n, line in enumerate(text.split("\n"), 1):
    if line.startswith("#"):
        section = line
    if "→ error" in line:
        continue
    if section and section.startswith("### Messages changed") and line.startswith("|"):
        line = line.split("|", 2)[2] if line.count("|") >= 3 else ""
    for m in quoted.finditer(line):
        msg = m.group(1)
        if msg in listed:
            ok = True
        elif msg.endswith("…"):  # a prefix: "emb_knn: …"
            ok = any(l.startswith(msg[:-1]) for l in listed)
        elif msg in EXTERNAL:
            src = open(os.path.join(root, EXTERNAL[msg]), encoding="utf-8").read()
            ok = msg in re.sub(r'"\s*\n\s*"', "", src)  # C string pieces joined
        else:
            ok = False
        check("%d (message listed in Errors)" % n, ok,
              "quoted message not in the Errors list: %s" % msg)
# the extension under test, at ./embext.so of a scratch copy of the tree's
# data paths: README commands say ./embext, so run them where ./embext.so is
# the build under test
# "Coming from gensim / PyTorch": every row names the checks that back it,
# `file` then label globs (tests/sql/<file>.sql, labels `select '<label>'`),
# each glob matching at least one check; rows without one are "not planned".
import fnmatch
sec = text[text.index("## Coming from gensim / PyTorch"):text.index("## Errors")]
rows = 0
for n, line in enumerate(sec.split("\n")):
    cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("| `") else []
    if len(cells) != 3:
        continue
    rows += 1
    where = "gensim/torch table row %d (%s)" % (rows, cells[0][:40])
    if cells[2] == "—":
        check(where, cells[1].startswith("not planned"), "a row without a test must say not planned")
        continue
    groups = [g.strip() for g in cells[2].split(";")]
    ok, detail = bool(groups), []
    for g in groups:
        m = re.match(r"^(\w+)\s+(.*)$", g)
        globs = re.findall(r"`([^`]+)`", m.group(2)) if m else []
        path = os.path.join(root, "tests", "sql", (m.group(1) if m else "?") + ".sql")
        if not m or not globs or not os.path.exists(path):
            ok = False
            detail.append("bad test reference: " + g)
            continue
        labels = re.findall(r"select '([^']*)'", open(path, encoding="utf-8").read())
        for gl in globs:
            if not any(fnmatch.fnmatchcase(l, gl) for l in labels):
                ok = False
                detail.append("%s: no check labelled %s" % (m.group(1), gl))
    check(where, ok, "\n".join(detail))
check("gensim/torch table found", rows >= 30, "only %d rows" % rows)

ext = os.environ.get("EMBEXT_PATH", os.path.join(root, "embext.so"))
work = tempfile.mkdtemp(prefix="embext-readme-")
try:
    for name in ("data", "tests", "sql", "bindings", "examples", "VERSION", "README.md"):
        os.symlink(os.path.join(root, name), os.path.join(work, name))
    shutil.copy(ext, os.path.join(work, "embext.so"))
    env = dict(os.environ)
    env.pop("EMBEXT_PATH", None)

    sql_units = [u for u in units if u["kind"] in ("sql", "inline")]
    script = "".join(".print @@%d@@\n%s\n" % (n, u["code"]) for n, u in enumerate(sql_units))
    out = subprocess.run(["sqlite3", ":memory:", "-cmd", ".load ./embext"], input=script,
                         cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True).stdout
    parts = re.split(r"^@@(\d+)@@\n", out, flags=re.M)
    if parts[0].strip():
        check("0 (session start)", False, parts[0])
    got = {int(parts[n]): parts[n + 1] for n in range(1, len(parts) - 1, 2)}
    for n, u in enumerate(sql_units):
        verdict(u, got.get(n, "(no output: the session stopped before this example)"))

    for u in (u for u in units if u["kind"] == "sh"):
        if "better-sqlite3" in u["code"] and subprocess.run(
                ["node", "-e", "require('better-sqlite3')"], env=env, capture_output=True).returncode:
            print("SKIP README.md:%d: better-sqlite3 is not installed (scripts/npm-vendor.sh)" % u["line"])
            skipped += 1
            continue
        r = subprocess.run(["sh", "-c", u["code"]], cwd=work, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
        verdict(u, r.stdout)
finally:
    shutil.rmtree(work)

print("README examples: %d run (%d sql session, %d sh), %d skipped"
      % (len(units) - skipped, len([u for u in units if u["kind"] != "sh"]),
         len([u for u in units if u["kind"] == "sh"]) - skipped, skipped))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
