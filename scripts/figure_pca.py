#!/usr/bin/python3
"""Render docs/pca-glove.svg: two 2-D PCA pictures of GloVe word vectors
(tests/data/glove.6B.50d.10k.txt), computed in SQL by emb_pca:
  left   king/queen, man/woman and other male/female pairs (a line per pair)
  right  countries and their capitals (a line from each country to its capital)
Each panel is its own PCA of just its words.  Only the standard library and
the built extension; the output is deterministic (fixed rounding), so
`make figures` regenerates the committed file byte for byte.

    /usr/bin/python3 scripts/figure_pca.py [OUT.svg]      (default docs/pca-glove.svg)
    /usr/bin/python3 scripts/figure_pca.py --check FILE   (exit 1 if FILE differs)
EMBEXT_PATH overrides ./embext.so.
"""
import json
import os
import sqlite3
import sys
from xml.sax.saxutils import escape

root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PANELS = [
    ("Male (blue) – female (red)", [("king", "queen"), ("man", "woman"), ("prince", "princess"),
                       ("boy", "girl"), ("uncle", "aunt"), ("brother", "sister")]),
    ("Country (blue) – capital (red)", [("france", "paris"), ("italy", "rome"), ("germany", "berlin"),
                           ("spain", "madrid"), ("japan", "tokyo"), ("russia", "moscow"),
                           ("egypt", "cairo"), ("greece", "athens"), ("poland", "warsaw")]),
]
W, H, PAD = 440, 400, 36          # panel size and inner margin (px)
COLORS = ("#1f77b4", "#d62728")   # first / second word of each pair


def pca_points(conn, words):
    rows = conn.execute("select token, x, y from emb_pca('glove', ?, 2)", (json.dumps(words),))
    return {t: (x, y) for t, x, y in rows}


def panel(conn, ox, title, pairs):
    words = [w for p in pairs for w in p]
    pts = pca_points(conn, words)
    xs = [p[0] for p in pts.values()]
    ys = [p[1] for p in pts.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    s = min((W - 2 * PAD - 60) / (x1 - x0), (H - 2 * PAD - 20) / (y1 - y0))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def at(w):  # data -> pixels (y up)
        x, y = pts[w]
        return ox + W / 2 + (x - cx) * s, 20 + H / 2 - (y - cy) * s

    out = ['<rect x="%d" y="0" width="%d" height="%d" fill="#fff" stroke="#ccc"/>' % (ox, W, H),
           '<text x="%d" y="22" class="t">%s</text>' % (ox + 12, escape(title))]
    for a, b in pairs:
        (ax, ay), (bx, by) = at(a), at(b)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="l"/>' % (ax, ay, bx, by))
    placed = []  # label boxes so far: a label takes the first free spot around its dot
    for a, b in pairs:
        for w, color in ((a, COLORS[0]), (b, COLORS[1])):
            x, y = at(w)
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (x, y, color))
            tw = 6.8 * len(w)
            spots = [(6, -5), (6, 14), (-tw - 6, -5), (-tw - 6, 14), (6, -18), (-tw / 2, 26)]
            for dx, dy in spots:
                box = (x + dx, y + dy - 11, x + dx + tw, y + dy + 2)
                if all(box[2] < q[0] or box[0] > q[2] or box[3] < q[1] or box[1] > q[3]
                       for q in placed):
                    break
            placed.append(box)
            out.append('<text x="%.1f" y="%.1f">%s</text>' % (x + dx, y + dy, escape(w)))
    return out


def render():
    ext = os.environ.get("EMBEXT_PATH", os.path.join(root, "embext.so"))
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(ext)
    conn.enable_load_extension(False)
    conn.execute("create virtual table glove using embedding(dim=50)")
    conn.execute("insert into glove(token_id, token, vector) select * from emb_read_text(?)",
                 (os.path.join(root, "tests", "data", "glove.6B.50d.10k.txt"),))
    width = len(PANELS) * W + (len(PANELS) - 1) * 12
    body = []
    for i, (title, pairs) in enumerate(PANELS):
        body += panel(conn, i * (W + 12), title, pairs)
    foot = ("GloVe 6B 50d (tests/data), first two principal components of each panel's words: "
            "select token, x, y from emb_pca('glove', :words, 2)")
    return "\n".join([
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        'font-family="sans-serif" font-size="12">' % (width, H + 24, width, H + 24),
        '<style>.t{font-size:14px;font-weight:bold}.l{stroke:#999;stroke-width:1.2}'
        '.f{font-size:11px;fill:#555}</style>',
        *body,
        '<text x="4" y="%d" class="f">%s</text>' % (H + 17, escape(foot)),
        "</svg>", ""])


if __name__ == "__main__":
    args = sys.argv[1:]
    svg = render()
    if args[:1] == ["--check"]:
        with open(args[1], encoding="utf-8") as f:
            same = f.read() == svg
        print("%s is %s" % (args[1], "up to date" if same else
                            "out of date (run make figures)"))
        sys.exit(0 if same else 1)
    out = args[0] if args else os.path.join(root, "docs", "pca-glove.svg")
    with open(out, "w", encoding="utf-8") as f:
        f.write(svg)
    print("wrote", out)
