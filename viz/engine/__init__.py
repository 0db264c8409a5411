"""Code -> Trace: the sandboxed evaluation of the user's code, the recording of its forward values, the walk of its backward graph and the Trace built from them."""
