"""What a Trace says to a learner: the narration of each step, the op cards, the gallery of examples and the one-file HTML lesson."""
