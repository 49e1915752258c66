"""An OCI distribution registry client, small and read-only: what ``layermap`` needs to read an image
straight from a registry (``docker://REGISTRY/REPO:TAG``) without an engine and without a pull.

Modules:

- ``reference`` — ``REGISTRY/REPO[:TAG|@DIGEST]`` parsed and normalised as Docker does (``docker.io``,
  ``library/``, the default tag), and whether plain HTTP may be used;
- ``auth`` — credentials as the docker CLI finds them (``DOCKER_CONFIG``/``~/.docker/config.json``:
  ``auths``, ``credHelpers``, ``credsStore``) and the ``WWW-Authenticate`` challenges (Bearer, Basic);
- ``client`` — :class:`~analyzer.image.distribution.client.RegistryClient`: manifests and blobs over
  HTTPS, every byte checked against its digest, bounded retries, errors with the contract's exit codes.

Nothing here imports the docker SDK: reading a registry needs no engine.
"""
