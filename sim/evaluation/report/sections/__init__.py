"""One builder per section of the after-action report, each a pure function of the folded
journal (:class:`~sim.evaluation.outcome.ExerciseState`, and the event stream where order
matters); :func:`sim.evaluation.report.assemble.build` calls them in turn."""
