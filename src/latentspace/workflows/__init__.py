"""Jobs that write folders: run folders, the demo's stages, reports over runs."""
