"""The data side: the only writer of the warehouse.

Modules: ``geography`` (areas), ``catalogue`` (categories, departments, enumerations),
``warehouse`` (connect, schema), ``generate`` (demo data), ``marts``, ``snapshot`` (publish and
read), and the ETL. Public names are listed in each module's ``__all__``; this package does not
re-export them so that importing ``data.snapshot`` in the web tier does not pull in geopandas.
"""
