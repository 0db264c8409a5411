"""Files in and out: exports (JSON, GraphML, DOT), saved traces, workspaces, code files, and reading a file someone sent as a file and no more."""
