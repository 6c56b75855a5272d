"""Why GLOT scores what it scores: ablations, probing yardsticks, decoder diagnosis, graph density."""
