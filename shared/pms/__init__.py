"""The PMS boundary: PMS-agnostic models and the port every PMS adapter implements."""
