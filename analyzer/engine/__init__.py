"""The Docker engine seam: everything that talks to a running engine or to a builder.

Modules (importing this package loads nothing: the docker SDK is imported only by the modules that need it):

- ``client`` — :func:`connect` and :class:`Engine`: inspect, history, ``Parent`` chains, export, and the
  build entry points; SDK and transport errors become the project's errors here.
- ``sdk`` — loading the docker SDK cheaply, the reason text of its errors, SIGINT deferral.
- ``classic_stream`` — pure: the classic builder's JSON stream → step events, failures, output tail.
- ``buildkit_api`` — BuildKit through the Engine API (``POST /build?version=2``) with a context tar.
- ``buildkit_trace`` — pure: BuildKit's ``moby.buildkit.trace`` protobuf → the same step events.
- ``buildx`` — BuildKit through ``docker buildx build`` (containerd image store, refused uploads).
- ``buildx_plain`` — pure: ``--progress=plain`` text → the same step events.
"""
