"""Fixture recorders: each re-records one folder of tests/fixtures/ from a real engine.

One command for all of them (from the repository root, ``DOCKER_HOST`` naming a private engine with the
seeded base images, see scripts/dev-engine.sh)::

    PYTHONPATH=tests .venv/bin/python -m helpers.record NAME [ARGS...]     # or: make record WHAT=NAME

NAME is one of ``archives``, ``buildkit``, ``buildx``, ``contents``, ``golden``, ``streams``; ARGS go to
that recorder (e.g. ``buildkit docker26``, ``streams --images-only``). ``common`` is what they share.
"""

RECORDERS = ("archives", "buildkit", "buildx", "contents", "golden", "streams")
