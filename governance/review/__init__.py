"""Review: brand kits, automated checks, review policies and the approval workflow."""
