"""The weekly briefing: an A4 PDF of one ISO week, from the same metrics and figure builders as the pages.

``week`` names the week, ``model`` gathers its numbers from ``metrics/``, ``findings`` words the
headline sentences, ``charts`` draws with the dashboard's figure builders, ``document`` lays out the
HTML, ``pdf`` prints it in Chromium with an embedded subset of the CJK font (``fonts``), ``archive``
keeps the files and the run log, ``jobs`` runs it from the command line, the schedule and the page,
``preflight`` checks the machine first; ``listing`` and ``serve`` are the ``/briefings`` page's helpers and its
download and preview routes. See ``docs/briefing.md``.
"""
