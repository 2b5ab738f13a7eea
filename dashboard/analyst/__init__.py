"""The analyst workspace: the pages street-level analysts use in office browsers.

* :mod:`~dashboard.analyst.state` - the URL's query string as a :class:`ViewState` (the only state);
* :mod:`~dashboard.analyst.shell` - the frame of every page: navigation, filter bar, panels;
* :mod:`~dashboard.analyst.filters` - the filter bar's callbacks (filters → URL, area search);
* :mod:`~dashboard.analyst.view` - one request's view (cursor, scope, window, as-of) and the guard
  that turns a failing panel into a message;
* :mod:`~dashboard.analyst.catalogue` - the filter options of a snapshot.

The pages themselves are ``dashboard/pages/*.py``; see ``docs/analyst.md``.
"""
