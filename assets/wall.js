/*
 * GridPulse wall screen, the browser's part (see docs/wall.md):
 *  - viewport(): measures the screen and the map box once (and after a resize), so the server can
 *    size fonts and frame the map for 1920x1080 and 3840x2160 alike;
 *  - clock(): every second, the header clock and every SLA countdown, in the deployment's zone,
 *    corrected by the server-browser clock offset learnt at each refresh (standing still at the
 *    data's newest case when the refresh says the data is historical: meta.frozen);
 *  - gpWallHooks: the Dash renderer calls pre/post around server requests; a request that has not
 *    succeeded after a few seconds turns the "reconnecting" badge on, the next success turns it off;
 *  - a refresh answered 401 (the session cookie lost or expired, the server's secret changed) reloads
 *    the wall's page, at most once a minute: a token wall's address still holds ?token=..., which
 *    signs it in again; a revoked token then gets the gate's "wall token not valid" page. On an
 *    analyst page (this file is loaded by every page) a 401 goes to the sign-in page and back;
 *  - the refresh timer starts when the first drawing has arrived (so that it cannot ask for the
 *    polygons a second time while they are on their way), or after START_GRACE_MS regardless.
 *
 * Runs for days: it keeps a handful of scalars, never a growing list, and writes to the DOM only
 * what changed.
 */
(function () {
  "use strict";

  var GRACE_MS = 5000; // a refresh normally answers in well under a second
  var START_GRACE_MS = 20000; // start refreshing even if the first drawing never arrived
  var state = {
    offset: 0, // server clock minus browser clock, ms
    offsetSet: false,
    pending: 0, // start of the oldest request not yet answered successfully
    lastOk: 0,
    lastMeta: null,
    resizeBound: false,
    resizeTimer: 0,
    options: null,
    started: 0,
    ticking: false,
    formatKey: "",
    timeFormat: null,
    dateFormat: null
  };

  window.gpWallHooks = {
    pre: function () {
      if (!state.pending) {
        state.pending = Date.now();
      }
    },
    post: function () {
      state.pending = 0;
      state.lastOk = Date.now();
    }
  };

  /* Dash's renderer hooks do not see a failed request's status (request_post runs on success only,
     request_refresh_jwt only for a JWT message), so the wall watches its callbacks' answers here.
     The once-a-minute limit lives in sessionStorage, which survives the reload: a 401 that a reload
     does not cure (the gate keeps refusing) cannot turn into a reload loop. */
  var RELOAD_KEY = "gpWallReloadedAt";
  var RELOAD_EVERY_MS = 60000;

  function reloadOnce() {
    var last = 0;
    try {
      last = Number(window.sessionStorage.getItem(RELOAD_KEY)) || 0;
    } catch (e) { /* storage blocked: reload anyway, the timestamp below is best effort */ }
    if (Date.now() - last < RELOAD_EVERY_MS) {
      return; // reloaded a moment ago: keep the reconnecting badge instead
    }
    try {
      window.sessionStorage.setItem(RELOAD_KEY, String(Date.now()));
    } catch (e) { /* as above */ }
    window.location.reload();
  }

  if (window.fetch && !window.fetch.gpWall) {
    var realFetch = window.fetch;
    var wrapped = function (input, init) {
      return realFetch.apply(this, arguments).then(function (response) {
        var url = typeof input === "string" ? input : (input && input.url) || "";
        if (response.status === 401 && url.indexOf("_dash-update-component") !== -1) {
          if (document.getElementById("wall")) {
            reloadOnce();
          } else {  // an analyst page whose sign-in ended: to the sign-in page, and back here after it
            window.location.assign("/login?next=" +
              encodeURIComponent(window.location.pathname + window.location.search));
          }
        }
        return response;
      });
    };
    wrapped.gpWall = true;
    window.fetch = wrapped;
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  /* Twin of dashboard.components.format.countdown. */
  function fmtCountdown(seconds, dayWord) {
    var s = Math.floor(Math.abs(seconds));
    var d = Math.floor(s / 86400);
    s -= d * 86400;
    var h = Math.floor(s / 3600);
    s -= h * 3600;
    var m = Math.floor(s / 60);
    s -= m * 60;
    if (d) {
      return d + dayWord + " " + pad(h) + ":" + pad(m);
    }
    if (h) {
      return h + ":" + pad(m) + ":" + pad(s);
    }
    return pad(m) + ":" + pad(s);
  }
  window.gpWallFormat = {countdown: fmtCountdown};

  function measure() {
    var w = window.innerWidth;
    var h = window.innerHeight;
    var box = document.getElementById("wall-map-box");
    var r = box ? box.getBoundingClientRect() : null;
    return {
      w: w,
      h: h,
      scale: Math.round(Math.min(h / 1080, w / 1920) * 100) / 100,
      map_w: r ? Math.round(r.width) : 0,
      map_h: r ? Math.round(r.height) : 0
    };
  }

  function onResize() {
    clearTimeout(state.resizeTimer);
    state.resizeTimer = setTimeout(function () {
      if (document.getElementById("wall") && window.dash_clientside && window.dash_clientside.set_props) {
        window.dash_clientside.set_props("wall-viewport", {data: measure()});
      }
    }, 500);
  }

  function formats(options) {
    var key = options.tz + "|" + options.locale;
    if (key !== state.formatKey) {
      state.formatKey = key;
      state.timeFormat = new Intl.DateTimeFormat("en-GB", {
        timeZone: options.tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
      });
      state.dateFormat = new Intl.DateTimeFormat(options.locale, {
        timeZone: options.tz, month: options.locale === "zh-CN" ? "long" : "short", day: "numeric",
        weekday: options.locale === "zh-CN" ? "long" : "short"
      });
    }
  }

  function setText(el, text) {
    var node = el.firstChild;
    if (node && node.nodeType === 3) {
      if (node.nodeValue !== text) {
        node.nodeValue = text;
      }
    } else if (el.textContent !== text) {
      el.textContent = text;
    }
  }

  function tickCountdowns(serverNow) {
    var container = document.querySelector(".gp-sla-rows");
    if (!container) {
      return;
    }
    var late = container.getAttribute("data-late") || "";
    var day = container.getAttribute("data-day") || "d";
    var cells = container.querySelectorAll(".gp-countdown[data-due]");
    for (var i = 0; i < cells.length; i++) {
      var due = Number(cells[i].getAttribute("data-due"));
      if (!due) {
        continue;
      }
      var secs = (due - serverNow) / 1000;
      setText(cells[i], (secs < 0 ? late : "") + fmtCountdown(secs, day));
      if ((secs < 0) !== cells[i].classList.contains("gp-late")) {
        cells[i].classList.toggle("gp-late", secs < 0);
      }
      if (secs < 0) {
        markBreached(cells[i].parentNode, container.getAttribute("data-breached-shape"));
      }
    }
  }

  /* A row whose deadline passed since the last refresh looks breached at once (the next refresh
     brings the server's verdict and the new counts). */
  function markBreached(row, shape) {
    if (!row || row.getAttribute("data-level") === "breached") {
      return;
    }
    row.classList.remove("gp-r-red", "gp-r-amber", "gp-r-ok");
    row.classList.add("gp-r-breached");
    row.setAttribute("data-level", "breached");
    var mark = row.querySelector(".gp-sla-shape");
    if (mark && shape) {
      mark.textContent = shape;
    }
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gpwall: {
      viewport: function () {
        if (!state.resizeBound) {
          window.addEventListener("resize", onResize);
          state.resizeBound = true;
        }
        return measure();
      },

      clock: function (n, meta, options) {
        var noUpdate = window.dash_clientside.no_update;
        if (!options) {
          return [noUpdate, noUpdate, noUpdate, noUpdate, noUpdate];
        }
        if (options !== state.options) { // a new wall page (first load or navigation): start afresh
          state.options = options;
          state.started = Date.now();
          state.ticking = false;
          state.lastMeta = null;
          state.offsetSet = false;
        }
        var startTimer = noUpdate;
        var startRotation = noUpdate;
        if (!state.ticking && ((meta && meta.server_now) || Date.now() - state.started > START_GRACE_MS)) {
          state.ticking = true;
          startTimer = false;
          // the rotation, too, counts from the first drawing: a slow first load must not skip measures
          startRotation = options.rotate > 0 ? false : noUpdate;
        }
        if (meta && meta !== state.lastMeta && meta.server_now) {
          state.lastMeta = meta;
          state.offset = meta.server_now - Date.now();
          state.offsetSet = true;
          state.lastOk = Date.now();
        } else if (!state.offsetSet && options.server_now) {
          state.offset = options.server_now - Date.now();
          state.offsetSet = true;
        }
        formats(options);
        // historical data: the server's "now" is the data's newest case; the clock and countdowns stand there
        var serverNow = state.lastMeta && state.lastMeta.frozen ? state.lastMeta.server_now : Date.now() + state.offset;
        var at = new Date(serverNow);
        tickCountdowns(serverNow);
        var waiting = state.pending && Date.now() - state.pending > GRACE_MS;
        var silent = state.lastOk && Date.now() - state.lastOk > (3 * options.refresh + 10) * 1000;
        return [
          state.timeFormat.format(at),
          state.dateFormat.format(at),
          waiting || silent ? "gp-conn gp-conn-on" : "gp-conn",
          startTimer,
          startRotation
        ];
      }
    }
  });
})();
