"""The desk (中屏管): where commanders, dispatchers and street staff act on cases."""
