"""A local demo: a stand-in production service and a scripted tour of ProdGuardian against it."""
