"""The demo deployment: a synthetic Binjiang District with a year of cases, and a live simulator.

Everything that fabricates data lives here, apart from the product (``data/``), which knows no
district: ``geography`` (the tessellation of a district outline into streets, communities, grids and
micro-grids), ``catalogue`` (the demo's categories, departments, channels and street offices),
``generate`` (people, housing, enterprises, assets and cases; :func:`~data.demo.generate.build_demo`
builds and publishes a whole warehouse and marks it ``origin = demo`` in ``warehouse_meta``) and
``simulate`` (new cases and lifecycle updates in real time, only on a demo warehouse and only for
ids the demo minted). Nothing outside this package and its tests names a Binjiang id, name or the
demo's case-id prefix (``tests/test_demo_boundary.py``).

Public names are listed in each module's ``__all__``; this package re-exports none of them, so that
importing one part does not pull in geopandas.
"""
