// Placeholder so the library has a source until the admin API lands; delete when adding files.
