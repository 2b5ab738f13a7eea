/* The analyst map (/map): a drag is a pan, never a click. Plotly's geo listens for "click" on its
 * background, and a browser fires one after a drag that starts and ends on it; after a scroll-zoom,
 * plotly passed such a click on as a click on the area under the pointer, so panning drilled down.
 * A click that ends more than a few pixels from where the button went down is stopped here, before
 * plotly sees it (capture phase). Nothing else on any page is touched. */
(function () {
  var down = null;
  document.addEventListener('mousedown', function (e) {
    down = e.target.closest && e.target.closest('#map-graph') ? [e.clientX, e.clientY] : null;
  }, true);
  document.addEventListener('click', function (e) {
    if (!down || !(e.target.closest && e.target.closest('#map-graph'))) return;
    var moved = Math.abs(e.clientX - down[0]) + Math.abs(e.clientY - down[1]);
    down = null;
    if (moved > 4) e.stopPropagation();
  }, true);
})();

/* The reader's view of the map (zoom and pan), read from the drawn graph after each change of it
 * (dashboard/pages/map.py stores it and draws another measure or layer in the same view: plotly's
 * uirevision does not keep a geo zoom made with the buttons or the wheel). */
window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.gpmap = {
  view: function (_relayout) {
    var gd = document.querySelector('#map-graph .js-plotly-plot');
    var geo = gd && gd._fullLayout && gd._fullLayout.geo;
    if (!geo || !gd.layout.geo) return window.dash_clientside.no_update;
    return {rev: gd.layout.geo.uirevision, scale: geo.projection.scale, rot: geo.projection.rotation.lon,
            lon: geo.center.lon, lat: geo.center.lat};
  }
};
