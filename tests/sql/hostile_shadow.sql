-- Hostile shadow tables: regressions found by tests/fuzz/fuzz_dbfile.c.
-- A database from elsewhere may hold anything in w_config, w_chunks and
-- w_tokens; every query must end in a clean error, never a crash, an
-- out-of-bounds access, an integer overflow or an unbounded allocation.
-- (The shadow tables are writable here because defensive mode is off, as in
-- any program that does not turn it on.)  emb_cache_release makes the next
-- query load the table again, as a fresh connection would.
create virtual table w using embedding(dim=4, chunk_rows=4);
insert into w(token_id, token, vector) values (0,'a','[1,0,0,0]'),(1,'b','[0,1,0,0]'),(2,'c','[1,1,0,0]');
select 'hostile-00', count(*) = 3 from w;

-- a chunk id whose product with chunk_rows wraps around 2^64 (2^62 * 4 = 0):
-- the size check passed and the cache load wrote far outside its buffer;
-- 2^63-1 overflowed a signed add (UBSan)
insert into w_chunks select 4611686018427387904, pad, slots from w_chunks where chunk_id = 0;
select 'hostile-01', emb_cache_release('w') is not null;
-- error: embedding w: corrupt chunk id 4611686018427387904
select count(*) from w;
-- error: embedding w: corrupt chunk id 4611686018427387904
select token_id from w where vector match '[1,0,0,0]' and k = 1;
delete from w_chunks where chunk_id = 4611686018427387904;
insert into w_chunks select 9223372036854775807, pad, slots from w_chunks where chunk_id = 0;
select 'hostile-02', emb_cache_release('w') is not null;
-- error: embedding w: corrupt chunk id 9223372036854775807
select count(*) from w;
delete from w_chunks where chunk_id = 9223372036854775807;
select 'hostile-03', emb_cache_release('w') is not null;
select 'hostile-04', count(*) = 3 from w;

-- a config dim that does not fit the stored chunks, with a far chunk id: the
-- cache was sized from the two (200,002 rows x 256 KB = 52 GB: "out of memory",
-- with a nearer id gigabytes really taken) before any chunk was checked; now
-- the last chunk is checked first.  With chunk format 2 the stored layout
-- (w_config chunk_bytes, slab_bytes) no longer fits such a dim, and the table
-- says so when it connects; a far chunk of the wrong size is checked before it
-- sizes the copy (hostile-06).  The table lives in an attached file so
-- that DETACH / ATTACH connects it afresh (it reads wte_config when connected).
attach database :tmp || '/hostile_shadow.db' as h;
create virtual table h.w using embedding(dim=4, chunk_rows=2);
insert into h.w(token_id, token, vector) values (0,'a','[1,0,0,0]'),(1,'b','[0,1,0,0]');
insert into h.w_chunks select 100000, pad, slots from h.w_chunks where chunk_id = 0;
update h.w_config set value = 65536 where key = 'dim';
detach database h;
attach database :tmp || '/hostile_shadow.db' as h;
-- error: embedding w: corrupt w_config (chunk layout)
select count(*) from h.w;
update h.w_config set value = 4 where key = 'dim';
delete from h.w_chunks where chunk_id = 100000;
detach database h;
attach database :tmp || '/hostile_shadow.db' as h;
select 'hostile-05', count(*) = 2 from h.w;
insert into h.w_chunks select 100000, pad, x'00' from h.w_chunks where chunk_id = 0;
select 'hostile-06', emb_cache_release('h.w') is not null;
-- error: embedding w: corrupt chunk 100000 (slots blob 34 bytes vs 1)
select token_id from h.w where vector match '[1,0,0,0]' and k = 1;
delete from h.w_chunks where chunk_id = 100000;
select 'hostile-07', emb_cache_release('h.w') is not null;
select 'hostile-08', count(*) = 2 from h.w;
drop table h.w;
detach database h;
