"""Code shared by test modules (on the path through pytest's ``pythonpath``): no test module imports another.

- ``archives`` — small generated ``docker save`` / OCI archives.
- ``contents`` — generated layer tars, layer stores, save streams for the contents reader.
- ``rules`` — reports and rule contexts for the review rules.
- ``align`` — recorded-shape engine data for the aligners and renderers.
- ``golden`` — the golden reports and outputs (tests/fixtures/golden) and their check.
- ``explain`` — explained reports built from the golden ones.
- ``engines`` — the integration tests' engine handle and the fail-or-skip rule.
- ``samples``, ``build_map``, ``dive`` — the sample cases and the checks of a report against a real image.
"""
