"""Tables from ``glot benchmark`` result folders (their ``suite.json``); these scripts train nothing."""
