-- resources_loaded: rows of each resource table in the whole warehouse (not the scope): a table
-- with none was never loaded (LA's feed has only cases), which the pages say instead of zeros.
-- No parameters.
SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM housing) AS housing,
       (SELECT count(*) FROM enterprises) AS enterprises, (SELECT count(*) FROM assets) AS assets
