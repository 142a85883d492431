// Placeholder so the library has a source until the data plane lands; delete when adding files.
