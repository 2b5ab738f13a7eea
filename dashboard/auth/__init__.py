"""Who may see what: accounts with roles scoped to areas, wall-screen tokens, the audit log (docs/access.md).

``users`` is the store (SQLite under ``var/auth/``, passwords hashed with argon2id, tokens kept only as
hashes), ``cli`` the ``python app.py users ...`` command, ``gate`` the sign-in gate in front of every
route (sessions, ``/login``, wall tokens, who may open what), ``access`` the request's principal and
the areas it may see (enforced in ``dashboard.runtime.Runtime.scope``), ``admin`` the ``/admin`` page.
"""
