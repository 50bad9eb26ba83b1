"""Alembic revisions of the registry schema, run by Registry on open (alien_pulumi.fleet.registry.upgrade).

Revisions 0001-0003 are the three migrations of the hand-written SQLite registry (its ``PRAGMA user_version``
N is revision 000N); a new change is a new revision whose down_revision is the current head:
``alembic -c alien_pulumi/fleet/migrations/alembic.ini revision -m "..."`` writes its skeleton."""
