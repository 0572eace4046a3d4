"""ProdGuardian's built-in check kinds, registered under the ``prodguardian.checks`` group."""
