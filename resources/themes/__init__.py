"""Qt style sheets for the light, dark and high-contrast themes (loaded by ui/themes.py)."""
