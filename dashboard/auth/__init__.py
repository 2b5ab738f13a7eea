"""Who may see what: users with roles scoped to areas, wall-screen tokens, the audit log (issue 13).

``users`` is the store (SQLite under ``var/auth/``, passwords hashed with argon2id, tokens kept only
as hashes) and ``cli`` the ``python app.py users ...`` command. Sign-in and the enforcement on every
page, callback and download build on them (docs/access.md).
"""
