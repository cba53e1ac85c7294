"""The knowledge base: case files, the catalog that mirrors them, search."""
