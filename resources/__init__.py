"""Data files shipped with Tongguan: district reference data, calendars, themes."""
