"""A dummy Assay plugin, installed as a real distribution by `make test`."""
