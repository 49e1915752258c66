"""The Docker engine seam: everything that talks to a running engine or to a builder.

Modules (importing this package loads nothing: the docker SDK is imported only by the modules that need it):

- ``options`` — pure: what every builder takes (:class:`BuildOptions`, :data:`Builder`) and emits
  (:class:`BuildProgress`); each backend below has one translator from ``BuildOptions``.
- ``client`` — :func:`connect` and :class:`Engine`: inspect, history, ``Parent`` chains, export, and the
  build entry points; SDK and transport errors become the project's errors here.
- ``sdk`` — loading the docker SDK cheaply, its errors (reason text, the EngineError they become), SIGINT
  deferral.
- ``classic`` — the classic builder through the SDK (``sdk_kwargs``), Ctrl-C container clean-up.
- ``classic_stream`` — pure: the classic builder's JSON stream → step events, failures, output tail.
- ``buildkit_api`` — BuildKit through the Engine API (``POST /build?version=2``, ``build_params``) with a
  context tar.
- ``buildkit_trace`` — pure: BuildKit's ``moby.buildkit.trace`` protobuf → the same step events.
- ``buildx`` — BuildKit through ``docker buildx build`` (``build_command``; containerd image store,
  refused uploads).
- ``buildx_plain`` — pure: ``--progress=plain`` text → the same step events.
"""
