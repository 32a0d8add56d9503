-- The first schema of a pakta log in PostgreSQL: one row of tree state, and
-- one table per key space of the store contract. Indexes are bigint (a tree
-- size never reaches 2^63); keys and values are bytea, which PostgreSQL
-- orders bytewise, as the contract's scans require.
CREATE TABLE tree (
	id    boolean PRIMARY KEY DEFAULT true CHECK (id),
	size  bigint  NOT NULL CHECK (size >= 0),
	state bytea   NOT NULL
);
INSERT INTO tree (id, size, state) VALUES (true, 0, '');

CREATE TABLE entries (
	idx  bigint PRIMARY KEY,
	data bytea  NOT NULL
);

CREATE TABLE tiles (
	level  smallint NOT NULL,
	idx    bigint   NOT NULL,
	hashes bytea    NOT NULL,
	PRIMARY KEY (level, idx)
);

CREATE TABLE rows (
	k bytea PRIMARY KEY,
	v bytea NOT NULL
);

CREATE TABLE side (
	k bytea PRIMARY KEY,
	v bytea NOT NULL
);

CREATE TABLE checkpoints (
	size   bigint PRIMARY KEY,
	signed bytea  NOT NULL
);
