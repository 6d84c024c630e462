"""A simulated gym: an embedded broker and a producer of believable changelog records."""
