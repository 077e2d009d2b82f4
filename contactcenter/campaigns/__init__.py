"""Campaigns: planner-defined target lists with a product, a sales script, a period and a hold-out (issue 16)."""
