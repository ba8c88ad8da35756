-- Regressions found by tests/fuzz/fuzz_sql.c (the SQL grammar fuzzer); each
-- was a crash or a sanitizer report (the ASan + UBSan run of make test
-- checks these), now a clean result or error.
create virtual table e using embedding(dim=4);

-- emb_logits on an empty table offset the matrix's NULL data pointer
-- (UBSan: applying zero offset to null pointer, src/lm/analogy.c)
-- rows: 0
select * from emb_logits('e', '[70000,70000,70000,70000]', 1);
-- rows: 0
select * from emb_logits('e', '[1,2,3,4]');
select 'fuzz-01', count(*) = 0 from emb_logits('e', '[1,2,3,4]', 5, 0.5);
