"""``layermap pull`` formats (table, json, markdown), each ``render(plan)`` of a
:class:`~analyzer.teaching.pull.PullPlan`; ``common`` holds what they share."""
