"""The desktop's Qt side: the wall window, its item models, coalescer, tour, sound, theme."""
