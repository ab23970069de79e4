"""Qt-free domain model of the district: calendar, categories, units, cameras, snapshots."""
