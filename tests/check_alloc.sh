#!/bin/sh
# One place allocates (src/core/alloc.c): fail when any other file of src/ or
# ext/ calls the C library's allocator directly (malloc, calloc, realloc,
# free, strdup, strndup, posix_memalign, aligned_alloc, memalign, valloc,
# reallocarray).  Use emb_malloc & co. (src/core/alloc.h) or, in ext/, SQLite's
# sqlite3_malloc64 / sqlite3_free.  Prints "<passed> passed, <failed> failed".
cd "$(dirname "$0")/.." || exit 2
pat='(^|[^_A-Za-z0-9.>])(malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc|memalign|valloc|reallocarray)[[:space:]]*\('
# free handed over as a destructor (sqlite3_result_text(..., free)) counts too
pat="$pat|(^|[^_A-Za-z0-9.>])free[[:space:]]*[,)]"

# comment lines (starting with / or *) are not calls
hits=$(grep -nE "$pat" $(find src ext -name '*.[ch]' ! -path src/core/alloc.c | sort) |
       grep -vE '^[^:]*:[0-9]+:[[:space:]]*(/\*|\*|//)')
if [ -n "$hits" ]; then
    echo "$hits"
    echo "FAILED: raw allocator calls above; use src/core/alloc.h (emb_malloc, emb_free, ...)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "1 passed, 0 failed"
