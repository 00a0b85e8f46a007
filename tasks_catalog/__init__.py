"""Plans as YAML catalogues (one folder per plan) and the code that reads, checks and syncs them."""
