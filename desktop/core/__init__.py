"""The desktop's Qt-free core: replica, session and its thread, map feed, backend launcher."""
