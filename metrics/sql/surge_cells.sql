-- surge_cells: how many grids and micro-grids the scope's area holds (each is tested against
-- every category, so this sets the multiple-testing correction of the surge detector).
SELECT count(*) AS n FROM areas AS a WHERE a.level IN ('grid', 'microgrid') AND /*area:a*/
