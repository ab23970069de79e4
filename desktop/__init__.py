"""The Qt desktop application (wall display and desk); arrives with the wall-display issue."""
