-- What made this warehouse: one row per key. `app.py demo` writes origin = demo and the case-id
-- prefix the demo minted; a warehouse loaded by the ETL from a landing zone has no rows (or origin
-- = live). The live simulator runs only where origin = demo, and only on ids with that prefix.
CREATE TABLE IF NOT EXISTS warehouse_meta (
    key            VARCHAR PRIMARY KEY,       -- origin | case_id_prefix
    value          VARCHAR NOT NULL
);
