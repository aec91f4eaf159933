"""Analysis and plotting of model outputs (never imported by the model)."""
