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
