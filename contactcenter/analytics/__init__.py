"""Customer analytics: product-to-product associations (PTP); PTC, tiers and jobs to come (issue 16)."""
