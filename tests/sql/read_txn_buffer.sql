-- Text and word2vec readers inside an explicit transaction: the validation
-- pass keeps the parsed rows and serves them from memory (ext/tvf_read.c,
-- READ_BUFFER_CAP).  The rows must be exactly those of autocommit mode.
-- tests/run.sh runs this file again with EMB_READ_BUFFER_CAP=4096 (the
-- small fixtures fit, GloVe 10k drops the buffer midway and re-reads) and
-- with EMB_READ_BUFFER_CAP=0 (no buffer: validate, then re-read).
create table ac(src text, token_id integer, token text, vector blob);
create table tx(src text, token_id integer, token text, vector blob);

insert into ac select 'glove10k', * from emb_read_text(:data || '/glove.6B.50d.10k.txt');
insert into ac select 'w2vtext', * from emb_read_text(:data || '/googlenews-w2v-257x300.txt');
insert into ac select 'w2vbin', * from emb_read_word2vec(:fixtures || '/word2vec/nl.bin');
insert into ac select 'crlf', * from emb_read_text(:fixtures || '/text/crlf.txt');
begin;
insert into tx select 'glove10k', * from emb_read_text(:data || '/glove.6B.50d.10k.txt');
insert into tx select 'w2vtext', * from emb_read_text(:data || '/googlenews-w2v-257x300.txt');
insert into tx select 'w2vbin', * from emb_read_word2vec(:fixtures || '/word2vec/nl.bin');
insert into tx select 'crlf', * from emb_read_text(:fixtures || '/text/crlf.txt');
commit;
select 'txn-rows', (select count(*) from tx) = 10000 + 257 + 5 + 6,
       (select count(*) from ac) = (select count(*) from tx);
select 'txn-same-rows', count(*) = 0 from (select * from ac except select * from tx);
select 'txn-same-rows-rev', count(*) = 0 from (select * from tx except select * from ac);
select 'txn-ids', min(token_id) = 0, max(token_id) = 9999, count(distinct token_id) = 10000,
       sum(length(vector) = 200) = 10000 from tx where src = 'glove10k';
select 'txn-first', token = 'the', token_id = 0 from tx where src = 'glove10k' and token_id = 0;

-- the reader re-filtered inside a transaction (inner loop of a join)
begin;
select 'txn-refilter', count(*) = 3 * 6, sum(r.token_id) = 3 * 15
  from (values (1), (2), (3)) v cross join emb_read_text(:fixtures || '/text/crlf.txt') r;
select 'txn-select', count(*) = 10000, sum(token_id) = 49995000
  from emb_read_text(:data || '/glove.6B.50d.10k.txt');
commit;

-- a bad line midway inside BEGIN into a plain table leaves no rows
create table plain(token_id integer, token text, vector blob);
begin;
-- error: emb_read_text: ragged.txt: expected 4 values, found 3 (line 5)
insert into plain select * from emb_read_text(:fixtures || '/text/ragged.txt');
-- error: emb_read_word2vec: truncated.bin: row 4: needs 12 bytes of values, only 6 left (at byte 85)
insert into plain select * from emb_read_word2vec(:fixtures || '/word2vec/truncated.bin');
select 'txn-bad-empty', count(*) = 0 from plain;
commit;
select 'txn-bad-empty-after', count(*) = 0 from plain;
