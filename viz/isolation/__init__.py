"""The worker process the user's code runs in, and its walls: how it starts, the OS confinement (Landlock, seccomp, namespaces, limits) of each run, and the checks of every reply it sends."""
