/* plotly's geo subplot (the analyst map) fetches a world outline (topojson) from cdn.plot.ly unless
 * window.PlotlyGeoAssets already holds it; plotly keeps an object it finds there. The analyst map hides
 * every base layer and draws its own areas, so an empty world is all it needs, and nothing is fetched.
 * See dashboard/figures/analyst_map.py. */
window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};
window.PlotlyGeoAssets.topojson.world_110m = window.PlotlyGeoAssets.topojson.world_110m ||
  {type: 'Topology', objects: {}, arcs: []};
